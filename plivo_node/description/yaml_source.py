"""Reading YAML files into plain data, with every syntax problem located by line and column.

PyYAML silently keeps the last of two equal keys; a duplicated key in a hand-written file is
almost always a mistake (two ``displayOptions`` blocks, say), so it is reported instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that records duplicate mapping keys instead of overwriting silently."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[str] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, str | int | float | bool) and key in seen:
                    mark = key_node.start_mark
                    self.duplicate_keys.append(
                        f"line {mark.line + 1}, column {mark.column + 1}: duplicate key {key!r} "
                        "(a YAML mapping keeps one value per key; remove or rename one)"
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _syntax_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        what = error.problem or "invalid YAML"
        context = f" ({error.context})" if error.context else ""
        return f"line {mark.line + 1}, column {mark.column + 1}: YAML syntax error: {what}{context}"
    return f"YAML syntax error: {error}"


def read_yaml_text(text: str) -> tuple[Any, list[str]]:
    """Parse ``text``: (data, problems). ``data`` is ``None`` when there are problems."""
    loader = _StrictLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as error:
        return None, [_syntax_problem(error)]
    finally:
        loader.dispose()
    if loader.duplicate_keys:
        return None, list(loader.duplicate_keys)
    return data, []


def read_yaml_file(path: Path) -> tuple[Any, list[str]]:
    """Read and parse a YAML file: (data, problems); unreadable files are a problem too."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [f"file not found: {path}"]
    except (OSError, UnicodeDecodeError) as error:
        return None, [f"cannot read {path}: {error}"]
    return read_yaml_text(text)
