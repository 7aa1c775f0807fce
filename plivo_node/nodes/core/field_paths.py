"""Field paths as n8n's nodes read and write them: lodash's ``get``, ``set`` and ``unset``.

Edit Fields and Split Out address fields with lodash paths (``a.b``, ``list[0].name``,
``['odd.key']``), so these follow lodash 4 (``_stringToPath``, ``_isKey``, ``baseSet``):

- a path is taken as one key when it has no ``.`` or ``[`` or when the object already has a
  key spelled exactly so (``{"a.b": 1}`` keeps ``a.b`` as one key);
- ``set`` creates what is missing on the way, an array when the next step is an index
  (``list[0]``) and an object otherwise, and replaces a value in the way that is not a
  container (``set({"a": 1}, "a.b", 2)`` gives ``{"a": {"b": 2}}``);
- ``unset`` deletes the last key; in an array it leaves a hole, which JSON writes as null.

Values are JSON (dict, list, str, int, float, bool, None); :data:`MISSING` is JavaScript's
undefined (``get`` finds nothing). Keys that reach an object's prototype in JavaScript
(``__proto__``, ``constructor``, ``prototype``) are refused, where lodash silently skips them.
"""

from __future__ import annotations

import re
from typing import Any, Final

from plivo_node.expressions.values import UNDEFINED

MISSING: Final = UNDEFINED
UNSAFE_KEYS: Final = frozenset({"__proto__", "constructor", "prototype"})

# lodash's rePropName, reEscapeChar, reIsDeepProp and reIsPlainProp (\w is ASCII in JavaScript).
_PROP_NAME: Final = re.compile(
    r"""[^.[\]]+|\[(?:(-?\d+(?:\.\d+)?)|(["'])((?:(?!\2)[^\\]|\\.)*?)\2)\]"""
    r"""|(?=(?:\.|\[\])(?:\.|\[\]|$))"""
)
_ESCAPE: Final = re.compile(r"\\(\\)?")
_DEEP: Final = re.compile(r"""\.|\[(?:[^[\]]*|(["'])(?:(?!\1)[^\\]|\\.)*?\1)\]""")
_PLAIN: Final = re.compile(r"[A-Za-z0-9_]*")
_INDEX: Final = re.compile(r"0|[1-9][0-9]*")
_MAX_SAFE_INTEGER: Final = 2**53 - 1


class UnsafePathError(ValueError):
    """A path that would reach an object's prototype in JavaScript."""


def string_to_path(path: str) -> list[str]:
    """lodash's ``stringToPath``: ``a.b[0]['c.d']`` -> ``['a', 'b', '0', 'c.d']``."""
    parts: list[str] = [""] if path.startswith(".") else []
    for match in _PROP_NAME.finditer(path):
        number, quote, quoted = match.group(1), match.group(2), match.group(3)
        if quote:
            parts.append(_ESCAPE.sub(lambda escape: escape.group(1) or "", quoted))
        else:
            parts.append(number or match.group(0))
    return parts


def to_path(path: str, target: object = None) -> list[str]:
    """lodash's ``castPath``: the path as one key (see the module docstring) or its parts."""
    if _PLAIN.fullmatch(path) or not _DEEP.search(path):
        return [path]
    if isinstance(target, dict) and path in target:
        return [path]
    return string_to_path(path)


def is_index(key: str) -> bool:
    """Whether an array would take ``key`` as an index (lodash's ``isIndex``)."""
    return bool(_INDEX.fullmatch(key)) and int(key) <= _MAX_SAFE_INTEGER


def _child(container: object, key: str) -> Any:
    if isinstance(container, dict):
        return container.get(key, MISSING)
    if isinstance(container, list):
        if is_index(key) and int(key) < len(container):
            return container[int(key)]
        if key == "length":
            return len(container)
    if isinstance(container, str) and key == "length":
        return len(container)
    return MISSING


def get_path(target: object, path: str) -> Any:
    """lodash's ``get``: the value at ``path``, or :data:`MISSING`."""
    current: Any = target
    for key in to_path(path, target):
        current = _child(current, key)
        if current is MISSING:
            return MISSING
    return current


def _check_safe(parts: list[str], path: str) -> None:
    unsafe = [part for part in parts if part in UNSAFE_KEYS]
    if unsafe:
        raise UnsafePathError(f"the field path {path!r} uses the reserved name {unsafe[0]!r}")


def _assign(container: dict[str, Any] | list[Any], key: str, value: Any) -> bool:
    """``container[key] = value``; False when JavaScript would put it where JSON cannot see
    it (a named property of an array)."""
    if isinstance(container, dict):
        container[key] = value
        return True
    if not is_index(key):
        return False
    index = int(key)
    if index >= len(container):
        container.extend([None] * (index + 1 - len(container)))  # JavaScript's holes
    container[index] = value
    return True


def set_path(target: dict[str, Any], path: str, value: Any) -> None:
    """lodash's ``set``: put ``value`` at ``path``, creating what is missing on the way."""
    parts = to_path(path, target)
    _check_safe(parts, path)
    current: dict[str, Any] | list[Any] = target
    for position, key in enumerate(parts):
        if position == len(parts) - 1:
            _assign(current, key, value)
            return
        existing = _child(current, key)
        if not isinstance(existing, dict | list):
            existing = [] if is_index(parts[position + 1]) else {}
            if not _assign(current, key, existing):
                return
        current = existing


def unset_path(target: dict[str, Any], path: str) -> None:
    """lodash's ``unset``: delete the key at ``path`` (an array keeps a null in its place)."""
    parts = to_path(path, target)
    _check_safe(parts, path)
    parent: Any = target
    for key in parts[:-1]:
        parent = _child(parent, key)
        if parent is MISSING:
            return
    last = parts[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and is_index(last) and int(last) < len(parent):
        parent[int(last)] = None


def literal_key(target: dict[str, Any], key: str) -> str:
    """n8n's ``sanitizeDataPathKey`` for dot notation turned off: the key as written, or
    without ``['...']`` around it when only that form is present."""
    if key in target:
        return key
    if (key.startswith("['") and key.endswith("']")) or (
        key.startswith('["') and key.endswith('"]')
    ):
        inner = key[2:-2]
        if inner in target:
            return inner
    return key
