"""The one guard against leaking secrets: every text the process writes passes through here.

Secrets are *registered* when they are met: the auth token when credentials load (with its
Auth ID, so ``id:token`` and the Basic header's base64 are known too), endpoint passwords given
as parameters when the pipeline is built, and, while one item runs, the values of that item's
secret parameters and of the input fields they read. :func:`redact` masks every registered
secret in every form it can be written in:

- as it is, and as ``json.dumps`` (both ``ensure_ascii`` settings), ``repr`` and a URL's
  percent-encoding write it, so a secret with ``"``, ``\\``, ``/`` or non-ASCII characters is
  caught in a JSON line, a quoted message or a query string too;
- as base64 (of the secret, and of ``id:secret`` as a Basic ``Authorization`` header holds it).

What is written is masked where it is written: output lines
(:class:`~plivo_node.run.item_io.OutputWriter`), journal rows, error items and messages
(:mod:`plivo_node.core.errors`), and the CLI's stdout and stderr (:class:`RedactingStream`,
which also covers tracebacks, warnings and argparse). Texts cut to a length are masked
*before* they are cut (:func:`shorten`), so no partial secret survives a truncation.

Short secrets. A secret of 12 characters or more is masked wherever it appears: an innocent
text that happens to contain it is improbable. A shorter one (an endpoint password may have 5)
is masked only where it stands alone, not inside a longer word (``hello`` is masked in
``password 'hello'`` and ``hello.csv`` but not in ``othello`` or ``hello_list.csv``): the
safe side where a message quotes a value, without garbling every text that happens to contain
the word. Strings under 4 characters are not registered at all: masking every ``abc`` would
garble everything and protect nothing. Either way the fields that hold a secret are masked
whole wherever an item's json is copied (:func:`mask_fields`), whatever the value's length.
The auth token itself must have at least 12 characters (:mod:`plivo_node.nodes.plivo.credentials`
refuses a shorter one up front, before anything is sent), so it is always masked everywhere.

Scopes. Run-wide secrets live for the process. An item's secrets live in a scope opened with
:func:`item_secrets` while the item runs (a :class:`contextvars.ContextVar`, so concurrent
items never see each other's): the run-wide guard stays small however many items carry
passwords, and the item's own error item and messages are masked with them.
"""

from __future__ import annotations

import base64
import contextvars
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

MASK = "********"
STRONG_SECRET_LENGTH = 12  # from this length a secret is masked even inside a longer word
MIN_SECRET_LENGTH = 4  # shorter strings are never registered (their fields are still masked)

# As plivo_node.run.item_io writes lines: compact, non-ASCII kept.
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

# Field names that hold a secret wherever they appear (the manifest's rule for typeOptions
# password, see plivo_node/description/semantic.py): their values are masked, not searched.
SECRET_NAME = re.compile(r"token|password|secret", re.IGNORECASE)


def secret_forms(secret: str, auth_id: str | None = None) -> list[str]:
    """Every way ``secret`` may be written: as is, escaped (JSON, repr, URL), base64."""
    forms = [
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(json.dumps(secret)[1:-1])[1:-1],  # an escaped text escaped again
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        _b64(secret),
    ]
    if auth_id:
        pair = f"{auth_id}:{secret}"
        forms += [pair, _b64(pair), base64.urlsafe_b64encode(pair.encode()).decode("ascii")]
    return list(dict.fromkeys(forms))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


class Redactor:
    """A set of secrets (plus those of ``parent``) and the masking of them in texts."""

    __slots__ = ("_matcher", "_parent", "_secrets")

    def __init__(self, parent: Redactor | None = None) -> None:
        self._parent = parent
        self._secrets: set[tuple[str, str | None]] = set()
        # Replaced whole on each add: a reader in another thread sees the old or the new one.
        self._matcher: _Forms | None = None

    def add(self, secret: object, *, auth_id: str | None = None) -> None:
        """Mask ``secret`` (a string or number) from now on; too-short values are ignored."""
        if isinstance(secret, bool) or not isinstance(secret, str | int | float):
            return
        text = str(secret)
        if len(text) < MIN_SECRET_LENGTH or (text, auth_id) in self._secrets:
            return
        self._secrets.add((text, auth_id))
        strength = dict(self._matcher.strength) if self._matcher is not None else {}
        strong = len(text) >= STRONG_SECRET_LENGTH
        for form in secret_forms(text, auth_id):
            strength[form] = strength.get(form, False) or strong
        self._matcher = _Forms(strength)

    @property
    def own_secrets(self) -> bool:
        """Whether this scope holds secrets of its own (beyond its parent's)."""
        return bool(self._secrets)

    def finds(self, text: str) -> bool:
        """Whether ``text`` may hold a secret (a form of one appears in it, even inside a word)."""
        matcher = self._matcher
        if matcher is not None:
            for form in matcher.forms:  # a loop, not any(): this runs for every line written
                if form in text:
                    return True
        return self._parent is not None and self._parent.finds(text)

    def text(self, text: str) -> str:
        """``text`` with every secret of this scope and its parents masked."""
        if self._parent is not None:
            text = self._parent.text(text)
        matcher = self._matcher
        if matcher is None:
            return text
        for form in matcher.forms:
            if form in text:
                return matcher.pattern().sub(MASK, text)
        return text  # the common case: a few substring searches, no regex

    def json_text(self, text: str) -> str:
        """A JSON text with every secret masked inside its strings; it stays valid JSON.

        Masking the encoded text could match across a string's closing quote (a secret with
        a ``"`` in it) and break the document, so a text that holds a secret is decoded,
        masked value by value and encoded again.
        """
        if not self.finds(text):
            return text
        try:
            value = json.loads(text)
        except ValueError:  # not JSON after all: mask it as text
            return self.text(text)
        return _JSON_ENCODER.encode(self.json(value))

    def json(self, value: Any) -> Any:
        """A copy of a JSON value with every secret masked in its strings (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(key)): self.json(inner) for key, inner in value.items()}
        if isinstance(value, list | tuple):
            return [self.json(inner) for inner in value]
        return value


class _Forms:
    """The forms of a scope's secrets, longest first, and the regex masking them (compiled on
    first use: an item scope that never meets its secrets never compiles one)."""

    __slots__ = ("_pattern", "forms", "strength")

    def __init__(self, strength: dict[str, bool]) -> None:
        self.strength = strength  # form -> whether it may be masked inside a longer word
        # Longest first, so that a form containing another is masked whole.
        self.forms = tuple(sorted(strength, key=len, reverse=True))
        self._pattern: re.Pattern[str] | None = None

    def pattern(self) -> re.Pattern[str]:
        if self._pattern is None:
            alternatives = (_alternative(form, strong=self.strength[form]) for form in self.forms)
            self._pattern = re.compile("|".join(alternatives))
        return self._pattern


def _alternative(form: str, *, strong: bool) -> str:
    """The regex for one form; a weak secret's form must not be part of a longer word."""
    escaped = re.escape(form)
    if strong:
        return escaped
    before = r"(?<!\w)" if re.match(r"\w", form) else ""
    after = r"(?!\w)" if re.search(r"\w$", form) else ""
    return before + escaped + after


_RUN = Redactor()
_SCOPE: contextvars.ContextVar[Redactor | None] = contextvars.ContextVar("secrets", default=None)


def _current() -> Redactor:
    return _SCOPE.get() or _RUN


def register_secret(secret: object, *, auth_id: str | None = None) -> None:
    """Mask ``secret`` from now on: in the current item's scope while an item runs, else always.

    ``auth_id`` also masks ``auth_id:secret`` and its base64 (a Basic ``Authorization`` header).
    """
    _current().add(secret, auth_id=auth_id)


def forget_secrets() -> None:
    """Drop every run-wide secret (tests use this between cases)."""
    global _RUN  # noqa: PLW0603 - the process's one run-wide scope, replaced whole
    _RUN = Redactor()


def redact(text: str) -> str:
    """``text`` with every secret known here (run-wide and the current item's) masked."""
    return _current().text(text)


def redact_json(value: Any) -> Any:
    """A copy of a JSON value with every known secret masked in its strings."""
    return _current().json(value)


def finds_secret(text: str) -> bool:
    """Whether ``text`` may hold a known secret (cheap: substring searches only)."""
    return _current().finds(text)


def redact_json_text(text: str) -> str:
    """A JSON text (an output line, a journal row) with every known secret masked."""
    return _current().json_text(text)


def shorten(text: str, limit: int, ellipsis: str = "...") -> str:
    """``text`` masked, *then* cut to ``limit`` characters: no partial secret survives a cut."""
    text = redact(text)
    return text if len(text) <= limit else text[:limit] + ellipsis


class item_secrets:  # noqa: N801 - used as a function: ``with item_secrets(...):``
    """A scope for one item: secrets registered inside it are masked only within it.

    A class rather than a ``@contextmanager`` generator: it is entered once per item.
    """

    __slots__ = ("_scope", "_token")

    def __init__(self, secrets: Iterable[object] = ()) -> None:
        self._scope = Redactor(parent=_current())
        for secret in secrets:
            self._scope.add(secret)

    def __enter__(self) -> Redactor:
        self._token = _SCOPE.set(self._scope)
        return self._scope

    def __exit__(self, *exc_info: object) -> None:
        _SCOPE.reset(self._token)


def has_item_secrets() -> bool:
    """Whether the current item registered secrets (its outputs then need masking)."""
    scope = _SCOPE.get()
    return scope is not None and scope.own_secrets


def mask_fields(data: Mapping[str, Any], names: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of ``data`` with the values of secret fields replaced by the mask.

    A field is secret when ``names`` lists it (input fields a secret parameter reads) or when
    its name says so (token, password, secret), at any depth.
    """
    listed = frozenset(names)

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                key: MASK if _is_secret_field(key, listed) and value is not None else walk(inner)
                for key, inner in value.items()
            }
        if isinstance(value, list):
            return [walk(inner) for inner in value]
        return value

    return {
        key: MASK if _is_secret_field(key, listed) and inner is not None else walk(inner)
        for key, inner in data.items()
    }


def _is_secret_field(name: object, listed: frozenset[str]) -> bool:
    return name in listed or bool(SECRET_NAME.search(str(name)))


def secret_values(data: Mapping[str, Any], names: Iterable[str]) -> list[object]:
    """The values of the fields ``names`` that ``data`` holds (nested strings included)."""
    found: list[object] = []

    def collect(value: Any) -> None:
        if isinstance(value, Mapping):
            for inner in value.values():
                collect(inner)
        elif isinstance(value, list):
            for inner in value:
                collect(inner)
        elif value is not None:
            found.append(value)

    for name in names:
        if name in data:
            collect(data[name])
    return found


class RedactingStream:
    """A text stream that masks secrets in whatever is written to it, a line at a time.

    Writes are held until a line ends (``\\n`` or ``\\r``) so that a secret written in pieces
    (``print(a, b)`` writes ``a``, a space, then ``b``) is still masked whole; :meth:`flush`
    passes on any part-line, as an interactive progress line needs.
    """

    def __init__(self, stream: TextIO) -> None:
        self.wrapped = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        end = max(self._pending.rfind("\n"), self._pending.rfind("\r"))
        if end >= 0:
            ready, self._pending = self._pending[: end + 1], self._pending[end + 1 :]
            self.wrapped.write(redact(ready))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            ready, self._pending = self._pending, ""
            self.wrapped.write(redact(ready))
        self.wrapped.flush()

    def isatty(self) -> bool:
        return self.wrapped.isatty()

    def fileno(self) -> int:
        return self.wrapped.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "STRONG_SECRET_LENGTH",
    "RedactingStream",
    "Redactor",
    "finds_secret",
    "forget_secrets",
    "has_item_secrets",
    "item_secrets",
    "mask_fields",
    "redact",
    "redact_json",
    "redact_json_text",
    "register_secret",
    "secret_forms",
    "secret_values",
    "shorten",
]
