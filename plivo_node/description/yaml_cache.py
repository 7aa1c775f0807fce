"""Parsed pipeline YAML kept in the description cache: a pipeline read again needs no parser.

Importing PyYAML and parsing with its pure-Python loader is a fair share of a short command's
start-up (see bench/README.md). The data parsed from a text depends only on the text, our
loader (:mod:`.yaml_source`, part of the cache's code key) and PyYAML's release, so it is kept
under the hash of those (see :func:`plivo_node.description.cache.read_parsed`).

The data is the pipeline itself, so it is kept only when its caller has found it holds no
secret (:func:`plivo_node.run.pipeline.parse_pipeline` decides, once the node types are
known): a secret is never written anywhere, the cache included. Only text that parsed without
problems is kept; problems are found, and reported, by parsing every time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from plivo_node.description import cache


def cached_yaml_data(text: str, source: str) -> tuple[bool, Any]:
    """``(True, data)`` when the data parsed from ``text`` is kept for ``source``, else
    ``(False, None)``: parse it then (:func:`~.yaml_source.read_yaml_text`)."""
    key = _key(text)
    if key is None:
        return False, None
    return cache.read_parsed(source, key)


def keep_yaml_data(text: str, source: str, data: Any) -> None:
    """Keep ``data``, parsed from ``text`` without problems and holding no secret."""
    key = _key(text)
    if key is not None:
        cache.keep_parsed(source, key, data)


def _key(text: str) -> str | None:
    pyyaml = importlib.util.find_spec("yaml")  # found, not imported
    if pyyaml is None or pyyaml.origin is None:
        return None
    # PyYAML's __init__ names its release, and so the parser that read the text.
    return cache.content_key(f"yaml\0{text}", [Path(pyyaml.origin)])
