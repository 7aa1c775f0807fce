"""Reading YAML files into plain data, with every problem located by line and column.

PyYAML silently keeps the last of two equal keys; a duplicated key in a hand-written file is
almost always a mistake (two ``displayOptions`` blocks, say), so it is reported instead.

YAML can also describe more than the file holds: an alias (``*name``) repeats an anchored
node, so nine lines of nested aliases expand to a billion scalars ("billion laughs"), and an
anchor may even contain an alias of itself. Before anything is built from the parsed nodes,
the document is measured as if every alias were expanded: one whose aliases add more than
:data:`MAX_ALIAS_EXPANSION` (in characters of scalars, plus one per node) beyond what is written,
that refers to itself, or that nests deeper than :data:`MAX_DEPTH`, is refused. Everything
built afterwards (schema checks and their messages included) is then bounded by the file's size.

Values are kept to what JSON can hold, as n8n's parameters are JSON: an integer past Python's
conversion limit or a number that is not finite (``.inf``, ``.nan``, ``1.0e999``) is an error,
and a date (``2024-01-01``) stays the text it was written as.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode

from plivo_node.description.schema import bounded_problems
from plivo_node.run.json_input import MAX_DEPTH

# How much larger than the written document its alias expansion may be (see the docstring):
# generous for YAML's intended use (a repeated block of settings), far below a hang.
MAX_ALIAS_EXPANSION = 1_000_000


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that records duplicate mapping keys and keeps values to JSON's."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[str] = []
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # PyYAML composes nested nodes recursively: stop at the bound, long before the
        # interpreter's recursion limit (which 100,000 "[" would reach, slowly).
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None,
                    None,
                    f"the document is nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool):
                    continue  # an unhashable key is PyYAML's own error, raised below
                if key in seen:
                    mark = key_node.start_mark
                    self.duplicate_keys.append(
                        f"line {mark.line + 1}, column {mark.column + 1}: duplicate key {key!r} "
                        "(a YAML mapping keeps one value per key; remove or rename one)"
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_json_int(self, node: ScalarNode) -> int:
        try:
            value: int = self.construct_yaml_int(node)
        except ValueError:
            raise ConstructorError(
                None,
                None,
                f"the number has more than {sys.get_int_max_str_digits()} digits; quote it "
                "to keep it as text",
                node.start_mark,
            ) from None
        return value

    def construct_json_float(self, node: ScalarNode) -> float:
        value: float = self.construct_yaml_float(node)
        if not math.isfinite(value):
            raise ConstructorError(
                None,
                None,
                f"{node.value!r} is not a finite number (JSON has no NaN or Infinity); "
                "quote it to keep it as text",
                node.start_mark,
            )
        return value

    def construct_date_text(self, node: ScalarNode) -> str:
        return str(self.construct_scalar(node))


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_json_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_json_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_date_text)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _size_problem(root: Node) -> str | None:
    """Why the document's alias expansion is refused, or None (see the module docstring).

    One pass over the distinct nodes: each node's expanded size and depth are computed once
    (children first) and reused wherever an alias repeats it.
    """
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, expanded depth)
    open_nodes: set[int] = set()  # nodes whose children are being measured: the current path
    written = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_measured = stack.pop()
        key = id(node)
        if children_measured:
            open_nodes.discard(key)
            sizes = [measured[id(child)] for child in _children(node)]
            own = len(node.value) + 1 if isinstance(node, ScalarNode) else 1
            written += own
            size = own + sum(size for size, _ in sizes)
            depth = 1 + max((depth for _, depth in sizes), default=0)
            if depth > MAX_DEPTH:
                return f"the document is nested more than {MAX_DEPTH} levels deep"
            if size - written > MAX_ALIAS_EXPANSION:
                return (
                    f"its aliases (*name) expand it to over {MAX_ALIAS_EXPANSION:,} "
                    "characters more than is written; write the repeated parts out, or "
                    "repeat less"
                )
            measured[key] = (size, depth)
            continue
        if key in measured:
            continue
        if key in open_nodes:
            mark = node.start_mark
            return (
                f"line {mark.line + 1}, column {mark.column + 1}: an alias refers to the node "
                "that contains it, which would repeat forever"
            )
        if isinstance(node, CollectionNode):
            open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in measured)
    return None


def _syntax_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        what = error.problem or "invalid YAML"
        context = f" ({error.context})" if error.context else ""
        # These are about a value (a number too long, too deep), not about syntax.
        kind = "" if isinstance(error, ConstructorError | ComposerError) else "YAML syntax error: "
        return f"line {mark.line + 1}, column {mark.column + 1}: {kind}{what}{context}"
    return f"YAML syntax error: {error}"


def read_yaml_text(text: str) -> tuple[Any, list[str]]:
    """Parse ``text``: (data, problems). ``data`` is ``None`` when there are problems."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        problem = _size_problem(node) if node is not None else None
        if problem is not None:
            return None, [problem]
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        return None, [_syntax_problem(error)]
    finally:
        loader.dispose()
    if loader.duplicate_keys:
        return None, bounded_problems(loader.duplicate_keys)
    return data, []


def read_yaml_file(path: Path) -> tuple[Any, list[str]]:
    """Read and parse a YAML file: (data, problems); unreadable files are a problem too."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [f"file not found: {path}"]
    except UnicodeDecodeError as error:
        return None, [f"cannot read {path}: it is not UTF-8 text ({error.reason})"]
    except OSError as error:
        return None, [f"cannot read {path}: {error.strerror or error}"]
    return read_yaml_text(text)
