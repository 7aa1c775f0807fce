"""The ``plivoApi`` credentials: what a valid one looks like, and a live test.

Where the fields come from (the pipeline's block, ``${NAME}`` references, the environment
variables ``credentials/plivoApi.yaml`` declares: ``PLIVO_AUTH_ID`` / ``PLIVO_AUTH_TOKEN`` /
``PLIVO_API_URL``, the ones Plivo's own SDKs read) is the runtime's
(:mod:`plivo_node.run.credentials`); this module checks what it found.

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

from plivo_node.core.api import ApiClient
from plivo_node.core.errors import AuthenticationError, CredentialError, PlivoNodeError
from plivo_node.core.redaction import STRONG_SECRET_LENGTH, register_secret
from plivo_node.nodes.plivo.description import CREDENTIAL_TYPE, plivo_credential_type
from plivo_node.run.credentials import resolve_fields

DEFAULT_BASE_URL = "https://api.plivo.com/v1/"
SERVICE = "Plivo"

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


def credentials_from(fields: Mapping[str, str]) -> Credentials:
    """Checked credentials from the fields the runtime resolved (CredentialError if malformed)."""
    return Credentials(
        fields.get("authId", ""),
        fields.get("authToken", ""),
        fields.get("baseUrl") or DEFAULT_BASE_URL,
    )


def resolve_credentials(
    block: Mapping[str, Any] | None, environ: Mapping[str, str]
) -> Credentials | None:
    """The Plivo credentials of a pipeline's block, else of the environment, else ``None``.

    ``block`` is the pipeline file's ``credentials`` mapping (``{plivoApi: {...}}``); the inner
    ``{authId, authToken, baseUrl?}`` mapping is accepted too.
    """
    fields = resolve_fields(plivo_credential_type(), block, environ, service=SERVICE)
    return None if fields is None else credentials_from(fields)


async def test_credentials(client: ApiClient, auth_id: str) -> tuple[bool, str]:
    """Fetch the account: ``(True, "OK: account <name> (<auth_id>)")`` or ``(False, why)``."""
    try:
        response = await client.request("GET", "")
    except AuthenticationError as error:
        return False, (
            f"Authentication failed: Plivo rejected Auth ID {auth_id} with this Auth Token "
            f"(HTTP {error.status}); check both values in the Plivo console"
        )
    except PlivoNodeError as error:
        return False, str(error)
    body = response.body or {}
    name = body.get("name") or "(unnamed)"
    return True, f"OK: account {name} ({body.get('auth_id') or auth_id})"


async def check_credentials(client: ApiClient, auth_id: str) -> None:
    """One read (GET the account) before a run's first item; :class:`CredentialError` if it fails.

    A wrong token or an unreachable API would otherwise fail every item one by one. The
    message names the Auth ID, never the token.
    """
    ok, message = await test_credentials(client, auth_id)
    if not ok:
        raise CredentialError(
            f"the credentials check (GET the account) failed, so nothing was sent: {message}",
            hint=f"check {ENV_AUTH_ID}, {ENV_AUTH_TOKEN} and {ENV_BASE_URL} (or the "
            "pipeline's credentials block); `plivo-node credentials test` repeats this check",
        )


# The name starts with "test_": keep pytest from collecting it wherever it is imported.
test_credentials.__test__ = False  # type: ignore[attr-defined]
