"""YAML text read through the description cache: a pipeline read again needs no YAML parser.

Importing PyYAML and parsing with its pure-Python loader is a fair share of a short command's
start-up (see bench/README.md). The data parsed from a text depends only on the text, our
loader (:mod:`.yaml_source`, part of the cache's code key) and PyYAML's release, so it is kept
under the hash of those (see :func:`plivo_node.description.cache.read_parsed`). Only text that
parsed without problems is kept; problems are found, and reported, by parsing every time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from plivo_node.description import cache


def read_yaml_text_cached(text: str, source: str) -> tuple[Any, list[str]]:
    """:func:`plivo_node.description.yaml_source.read_yaml_text`, remembered for ``source``."""
    key = _key(text)
    if key is not None:
        found, data = cache.read_parsed(source, key)
        if found:
            return data, []
    from plivo_node.description.yaml_source import read_yaml_text  # noqa: PLC0415

    data, problems = read_yaml_text(text)
    if key is not None and not problems:
        cache.keep_parsed(source, key, data)
    return data, problems


def _key(text: str) -> str | None:
    pyyaml = importlib.util.find_spec("yaml")  # found, not imported
    if pyyaml is None or pyyaml.origin is None:
        return None
    # PyYAML's __init__ names its release, and so the parser that read the text.
    return cache.content_key(f"yaml\0{text}", [Path(pyyaml.origin)])
