"""The ``plivoApi`` credentials: where they come from, what a valid one looks like, and a live test.

Credentials come from the pipeline file's ``credentials: {plivoApi: {...}}`` block when it has
one, else from ``PLIVO_AUTH_ID`` / ``PLIVO_AUTH_TOKEN`` (the variables Plivo's own SDKs read).
Values in the block may name environment variables so that pipeline files can be committed
without secrets. The rule, chosen so that a literal value always stays literal:

- ``${NAME}`` is replaced by the environment variable ``NAME`` (an error if it is unset);
- ``$${`` writes a literal ``${`` (the only escape);
- every other ``$`` is an ordinary character: a token such as ``ab$Qx`` or ``ab$$cd`` is
  used exactly as written;
- a value that is only ``$NAME`` is refused, with a hint to write ``${NAME}``: it is the
  shell's spelling of a reference, and no Plivo ID or token looks like that.

"No credentials" (``None``, which lets a run use the embedded sandbox) means that nothing asks
for a live account: a credentials block, or any ``PLIVO_`` variable set even to an empty value,
asks for one, so an unset variable is an error, never a quiet switch to the sandbox (a cron job
would report success having sent nothing).

The auth token is registered with :mod:`plivo_node.core.redaction` (with its Auth ID, so
``id:token`` and its base64 are masked too) as soon as it is read, before it is checked, and no
message built here ever contains it. A token shorter than :data:`MIN_TOKEN_LENGTH` is refused
up front: Plivo's tokens have 40 characters, so a shorter one is a typo or a placeholder, and
a short string masked everywhere would garble innocent text (a token "wrong" would mask
"out/wrong_numbers.jsonl"). An ``id:token`` pair pasted as the token is refused the same way.
Malformed auth IDs are not echoed either: a swapped Auth ID / Auth Token pair would otherwise
print the token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from plivo_node.core.errors import AuthenticationError, CredentialError, PlivoNodeError
from plivo_node.core.items import ApiClient
from plivo_node.core.redaction import STRONG_SECRET_LENGTH, register_secret

DEFAULT_BASE_URL = "https://api.plivo.com/v1/"
CREDENTIAL_TYPE = "plivoApi"

ENV_AUTH_ID = "PLIVO_AUTH_ID"
ENV_AUTH_TOKEN = "PLIVO_AUTH_TOKEN"  # noqa: S105 - the variable's name, not a secret
ENV_BASE_URL = "PLIVO_API_URL"

_AUTH_ID_LENGTH = 20
_AUTH_ID_PREFIXES = ("MA", "SA")
_AUTH_ID_BODY = re.compile(r"[A-Z0-9]{18}")
_TOKEN_LIKE_LENGTH = 40  # Plivo auth tokens are 40 characters: a hint that the two were swapped
# Shorter tokens are refused: they cannot be Plivo's, and the redaction guard masks a secret
# inside longer words only from this length (plivo_node/core/redaction.py).
MIN_TOKEN_LENGTH = STRONG_SECRET_LENGTH
# An Auth ID followed by ":": the "id:token" pair as a Basic header or a URL holds it.
_PAIR_PREFIX = re.compile(r"\s*(?:MA|SA)[A-Z0-9]{18}:")

_BLOCK_FIELDS = ("authId", "authToken", "baseUrl")
# ``$${`` is a literal ``${``; ``${NAME}`` names an environment variable; any other ``$`` is text.
_ENV_REFERENCE = re.compile(r"\$(\$\{)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SHELL_REFERENCE = re.compile(r"\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*")


@dataclass(frozen=True)
class Credentials:
    """A Plivo account's Auth ID, Auth Token and API base URL (always ending in "/")."""

    auth_id: str
    auth_token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL

    def __post_init__(self) -> None:
        # Register first: even an error about the other fields must not be able to show it.
        register_secret(self.auth_token, auth_id=self.auth_id)
        check_auth_id(self.auth_id)
        check_auth_token(self.auth_token)
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))


def check_auth_token(auth_token: str) -> None:
    """Raise :class:`CredentialError` for an empty, too short or ``id:token`` Auth Token."""
    where = f"set authToken in the {CREDENTIAL_TYPE} credentials or {ENV_AUTH_TOKEN}"
    if not auth_token:
        raise CredentialError("The Auth Token is empty", hint=where)
    if _PAIR_PREFIX.match(auth_token):
        raise CredentialError(
            "The Auth Token starts with an Auth ID and a colon: it looks like an "
            "'AuthID:AuthToken' pair pasted whole",
            hint="put the Auth ID in authId (or PLIVO_AUTH_ID) and only the part after the colon "
            "in authToken (or PLIVO_AUTH_TOKEN)",
        )
    if len(auth_token) < MIN_TOKEN_LENGTH:
        raise CredentialError(
            f"The Auth Token has {len(auth_token)} characters; a Plivo Auth Token has "
            f"{_TOKEN_LIKE_LENGTH} (at least {MIN_TOKEN_LENGTH} are required)",
            hint="copy the Auth Token from the Plivo console's overview page; " + where,
        )


def check_auth_id(auth_id: str) -> None:
    """Raise :class:`CredentialError` unless ``auth_id`` is MA or SA followed by 18 A-Z0-9."""
    where = f"set authId in the {CREDENTIAL_TYPE} credentials or {ENV_AUTH_ID}"
    if not auth_id:
        raise CredentialError("The Auth ID is empty", hint=where)
    if len(auth_id) != _AUTH_ID_LENGTH:
        hint = (
            "this looks like an Auth Token: are authId and authToken swapped?"
            if len(auth_id) == _TOKEN_LIKE_LENGTH
            else "copy it from the Plivo console's overview page"
        )
        raise CredentialError(
            f"The Auth ID must be {_AUTH_ID_LENGTH} characters (MA or SA followed by 18 capital "
            f"letters and digits), but it has {len(auth_id)}",
            hint=hint,
        )
    if not auth_id.startswith(_AUTH_ID_PREFIXES):
        raise CredentialError(
            "The Auth ID must start with MA (main account) or SA (subaccount)",
            hint="copy it from the Plivo console's overview page; letters are upper case",
        )
    if not _AUTH_ID_BODY.fullmatch(auth_id[2:]):
        positions = [
            str(index + 1)
            for index, char in enumerate(auth_id)
            if index >= 2 and not ("A" <= char <= "Z" or "0" <= char <= "9")
        ]
        noun = "character at position" if len(positions) == 1 else "characters at positions"
        raise CredentialError(
            "The Auth ID may contain only capital letters A-Z and digits 0-9 after its prefix; "
            f"invalid {noun} {', '.join(positions)}",
            hint="check for lower-case letters, spaces or punctuation picked up when copying it",
        )


def normalise_base_url(base_url: str) -> str:
    """``base_url`` checked to be an http(s) URL with a host, ending in "/"."""
    url = base_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialError(
            "The Plivo API base URL must be an http:// or https:// URL with a host",
            hint=f"set baseUrl or {ENV_BASE_URL}, e.g. {DEFAULT_BASE_URL}",
        )
    if parts.username or parts.password:
        raise CredentialError(
            "The Plivo API base URL must not contain a user name or password",
            hint="give the Auth ID and Auth Token as authId / authToken instead",
        )
    return url if url.endswith("/") else url + "/"


def resolve_credentials(
    block: Mapping[str, Any] | None, environ: Mapping[str, str]
) -> Credentials | None:
    """The run's credentials: the pipeline's block, else the environment, else ``None``.

    ``block`` is the pipeline file's ``credentials`` mapping (``{plivoApi: {...}}``); the inner
    ``{authId, authToken, baseUrl?}`` mapping is accepted too.
    """
    fields = _plivo_fields(block)
    if fields is not None:
        return _from_block(fields, environ)
    return _from_environment(environ)


def _plivo_fields(block: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if not block:
        return None
    if CREDENTIAL_TYPE in block:
        inner = block[CREDENTIAL_TYPE]
        if inner is None:
            return None
        if not isinstance(inner, Mapping):
            raise CredentialError(
                f"credentials.{CREDENTIAL_TYPE} must be a mapping with authId and authToken",
                hint=f"write it as {CREDENTIAL_TYPE}: {{authId: ..., authToken: ...}}",
            )
        return inner
    if any(name in block for name in _BLOCK_FIELDS):
        return block
    raise CredentialError(
        f"The credentials block has no {CREDENTIAL_TYPE} entry "
        f"(found: {', '.join(sorted(map(str, block)))})",
        hint=f"write credentials: {{{CREDENTIAL_TYPE}: {{authId: ..., authToken: ...}}}}",
    )


def _from_block(fields: Mapping[str, Any], environ: Mapping[str, str]) -> Credentials:
    unknown = sorted(str(name) for name in fields if name not in _BLOCK_FIELDS)
    if unknown:
        raise CredentialError(
            f"Unknown field in credentials.{CREDENTIAL_TYPE}: {', '.join(unknown)}",
            hint=f"the fields are {', '.join(_BLOCK_FIELDS)}",
        )
    values: dict[str, str] = {}
    unset: list[CredentialError] = []  # every field naming an unset variable, reported at once
    for name in _BLOCK_FIELDS:
        raw = fields.get(name)
        if raw is None:
            continue
        where = f"credentials.{CREDENTIAL_TYPE}.{name}"
        if not isinstance(raw, str):
            raise CredentialError(
                f"{where} must be a string, not {type(raw).__name__}",
                hint="quote the value in the pipeline file",
            )
        # The token may be written literally: mask it before anything could print it.
        if name == "authToken" and not _is_reference(raw):
            register_secret(raw.strip())
        try:
            value = _expand_environment(raw, where, environ).strip()
        except CredentialError as error:
            unset.append(error)
            continue
        if name == "authToken":
            register_secret(value)
        if value:
            values[name] = value
    if len(unset) == 1:
        raise unset[0]
    if unset:
        raise CredentialError(
            "; ".join(error.message for error in unset),
            hint="export them before the run, or write the values in the file",
        )
    for required in ("authId", "authToken"):
        if required not in values:
            raise CredentialError(
                f"credentials.{CREDENTIAL_TYPE}.{required} is missing or empty",
                hint=f"give both authId and authToken (or a ${{VAR}} reference) "
                f"or remove the block to use {ENV_AUTH_ID} / {ENV_AUTH_TOKEN}",
            )
    base_url = values.get("baseUrl") or environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    return Credentials(values["authId"], values["authToken"], base_url)


def _is_reference(raw: str) -> bool:
    return bool(_ENV_REFERENCE.search(raw) or _SHELL_REFERENCE.fullmatch(raw))


def _expand_environment(raw: str, where: str, environ: Mapping[str, str]) -> str:
    """``raw`` with each ``${NAME}`` replaced by its environment variable (see the module doc)."""
    shell = _SHELL_REFERENCE.fullmatch(raw)
    if shell:
        name = shell.group(1)
        raise CredentialError(
            f"{where} is ${name}: only ${{{name}}} (with braces) reads an environment variable",
            hint=f"write {where.rsplit('.', 1)[-1]}: ${{{name}}}",
        )

    def substitute(match: re.Match[str]) -> str:
        if match.group(1):
            return "${"
        name = match.group(2)
        if name not in environ:
            raise CredentialError(
                f"{where} refers to environment variable {name}, which is not set",
                hint=f"export {name} before the run, or write the value in the file",
            )
        return environ[name]

    return _ENV_REFERENCE.sub(substitute, raw)


def _from_environment(environ: Mapping[str, str]) -> Credentials | None:
    names = (ENV_AUTH_ID, ENV_AUTH_TOKEN, ENV_BASE_URL)
    if not any(name in environ for name in names):
        return None  # nothing asks for a live account
    auth_id = environ.get(ENV_AUTH_ID, "").strip()
    auth_token = environ.get(ENV_AUTH_TOKEN, "").strip()
    register_secret(auth_token, auth_id=auth_id or None)
    if not auth_id or not auth_token:
        given = ", ".join(name for name in names if name in environ)
        problems = " and ".join(
            f"{name} is {'empty' if name in environ else 'not set'}"
            for name, value in ((ENV_AUTH_ID, auth_id), (ENV_AUTH_TOKEN, auth_token))
            if not value
        )
        raise CredentialError(
            f"the environment asks for a live Plivo account ({given} set) but {problems}",
            hint=f"set both {ENV_AUTH_ID} and {ENV_AUTH_TOKEN}, or unset every PLIVO_ variable "
            "to use the sandbox",
        )
    base_url = environ.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL
    return Credentials(auth_id, auth_token, base_url)


async def test_credentials(client: ApiClient) -> tuple[bool, str]:
    """Fetch the account: ``(True, "OK: account <name> (<auth_id>)")`` or ``(False, why)``."""
    try:
        response = await client.request("GET", "")
    except AuthenticationError as error:
        return False, (
            f"Authentication failed: Plivo rejected Auth ID {client.auth_id} with this Auth Token "
            f"(HTTP {error.status}); check both values in the Plivo console"
        )
    except PlivoNodeError as error:
        return False, str(error)
    body = response.body or {}
    name = body.get("name") or "(unnamed)"
    auth_id = body.get("auth_id") or client.auth_id
    return True, f"OK: account {name} ({auth_id})"


async def check_credentials(client: ApiClient) -> None:
    """One read (GET the account) before a run's first item; :class:`CredentialError` if it fails.

    A wrong token or an unreachable API would otherwise fail every item one by one. The
    message names the Auth ID, never the token.
    """
    ok, message = await test_credentials(client)
    if not ok:
        raise CredentialError(
            f"the credentials check (GET the account) failed, so nothing was sent: {message}",
            hint=f"check {ENV_AUTH_ID}, {ENV_AUTH_TOKEN} and {ENV_BASE_URL} (or the "
            "pipeline's credentials block); `plivo-node credentials test` repeats this check",
        )


# The name starts with "test_": keep pytest from collecting it wherever it is imported.
test_credentials.__test__ = False  # type: ignore[attr-defined]
