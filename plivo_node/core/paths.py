"""Where the node's data files live: inside the installed package first, the repository second.

The manifest, credential types and schemas sit at the repository root (the design card's
layout); the wheel carries copies under ``plivo_node/_data``. One function finds either, so
the node works from a wheel, an editable install or a checkout, from any working directory.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # plivo_node/, not plivo_node/core/


def data_path(relative: str) -> Path:
    """The path of a data file, e.g. ``data_path("schemas/pipeline.schema.json")``."""
    for root in (_PACKAGE_DIR / "_data", _PACKAGE_DIR.parent):
        candidate = root / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"plivo-node data file {relative!r} is missing from the installation; reinstall the package"
    )
