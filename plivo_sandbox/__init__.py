"""An embedded Plivo-compatible server: the default target of ``plivo-node run`` and the test bed.

It serves Plivo's v1 REST API under ``/v1/Account/{auth_id}/`` on 127.0.0.1 only, with
HTTP Basic auth, Plivo's status codes, error body ``{"api_id", "error"}``, paging envelope
and ``<`` bulk semantics, so that Plivo's own Python SDK cannot tell it from Plivo. State
lives in memory for the server's lifetime. Usage::

    async with Sandbox(SandboxConfig(faults=FaultConfig(rate=0.2, seed=7))) as sandbox:
        ...  # talk to sandbox.url ("http://127.0.0.1:<port>/v1/")
        assert sandbox.state.count_for("+14155550101") == 1

Resources: the account and Subaccount/, Message/ (send, get, list, a message's Media/),
Media/ (multipart upload), Call/, Application/, Endpoint/, Number/, Conference/, Pricing/.
Seeded: 3 subaccounts, 2 applications, 1 SIP endpoint, 5 numbers (US and CA, local and
toll-free), 3 live conferences, pricing for US, CA, GB, IN, DE and AU.

Magic destinations (``MAGIC_DESTINATIONS``), for POST Message/ ``dst`` and POST Call/ ``to``,
in the 555-0xxx exchange of area code 307 (valid to libphonenumber, so the node's own
number checks let them through); the first magic destination of a request decides:

=================  =========================================================================
destination        behaviour
=================  =========================================================================
+1 307 555 0400    400 Plivo error body; nothing sent
+1 307 555 0401    401; nothing sent
+1 307 555 0403    403 (geo permission); nothing sent
+1 307 555 0429    429 "too many requests"; nothing sent
+1 307 555 0500    500; nothing sent
+1 307 555 0503    503; nothing sent
+1 307 555 0598    connection closed before any answer; nothing sent
+1 307 555 0599    sent, then the connection closed with no answer (outcome unknown to the client)
+1 307 555 0999    sent, answered after ``SandboxConfig.slow_seconds`` (default 2 s)
+1 307 555 0030    sent; the message then reads ``undelivered`` with error code 30
+1 307 555 0200    sent; the message then reads ``failed`` with error code 200 (opted out)
=================  =========================================================================

Hostile clients: path and credentials are checked before any byte of a body is read (a
stranger's body is never read nor logged; ``Expect: 100-continue`` is granted only to the
account); JSON and form bodies are refused past 1 MB (413), 256 fields or 32 levels of nesting
(400), in a content type other than JSON, form or multipart (415); the request log keeps the
newest 10,000 requests within ~8 M characters, each body cut to 32 k; every error answer,
malformed HTTP included, has Plivo's shape with its error text cut to 300 characters. See
``body``, ``request_log`` and ``protocol``.

Faults (``FaultConfig``) are injected into a seeded-random share of the requests that match
its paths: 429/500/503 (not acted upon), ``reset`` (closed after reading, not acted upon),
``reset_after`` (acted upon, then closed) and ``timeout`` (acted upon, answer held). The
same seed and request order always inject the same faults; ``state.fault_log`` lists them.
"""

from __future__ import annotations

from plivo_sandbox.config import (
    DEFAULT_AUTH_ID,
    DEFAULT_AUTH_TOKEN,
    FAULT_KINDS,
    FaultConfig,
    FaultKind,
    SandboxConfig,
)
from plivo_sandbox.magic import MAGIC_DESTINATIONS, MagicBehaviour
from plivo_sandbox.server import Sandbox, run_forever
from plivo_sandbox.state import InjectedFault, RecordedRequest, SandboxState

__all__ = [
    "DEFAULT_AUTH_ID",
    "DEFAULT_AUTH_TOKEN",
    "FAULT_KINDS",
    "MAGIC_DESTINATIONS",
    "FaultConfig",
    "FaultKind",
    "InjectedFault",
    "MagicBehaviour",
    "RecordedRequest",
    "Sandbox",
    "SandboxConfig",
    "SandboxState",
    "run_forever",
]
