"""Importing aiohttp without paying for TLS contexts nobody uses, and the one context we use.

When ``aiohttp.connector`` is imported it builds two default SSL contexts, and each loads the
system's CA bundle: OpenSSL 3 parses every certificate in it. On the development machine that
is 0.07-0.1 s of CPU, about a quarter of importing aiohttp (469 of 1,091 million instructions,
callgrind) and 23% of the instructions of a `plivo-node run` on the sandbox (see
bench/README.md, start-up). A run on
the sandbox uses no TLS at all, and no request of ours uses those defaults either: the
transport gives every connection to an ``https`` URL its own verified context,
:func:`verified_tls_context`, built the first time one is needed.

So :func:`import_aiohttp` imports aiohttp with ``SSL_CERT_FILE`` (the variable OpenSSL reads
for its default CA file, see ``ssl.get_default_verify_paths()``) naming an empty file, and
puts the variable back as it was right after. It changes no module's code. What it changes:
aiohttp's *default* contexts hold no CA from the bundle file. They still find CAs in the
default CA directory (``SSL_CERT_DIR``, looked up per certificate, at no start-up cost) where
the system has one, as Debian and most Linux systems do; where it has none, a request made
with aiohttp's default ``ssl=True`` fails certificate verification: closed, never open.
Nothing in this package relies on them: the transport passes its own context, and the
sandbox's status callbacks only reach the local machine (127.0.0.1, ::1, localhost), for which
no public CA signs a certificate anyway.

It only has an effect if it is the first import of aiohttp in the process (the CLI's case):
otherwise aiohttp is already there, as it was imported.
"""

from __future__ import annotations

import os
import ssl
import sys
from functools import cache
from types import ModuleType

_CA_FILE_VARIABLE = "SSL_CERT_FILE"


def import_aiohttp() -> ModuleType:
    """aiohttp, imported (the first time) without loading the CA bundle twice for nothing."""
    imported = sys.modules.get("aiohttp")
    if imported is not None:
        return imported
    saved = os.environ.get(_CA_FILE_VARIABLE)
    os.environ[_CA_FILE_VARIABLE] = os.devnull  # an empty file: no certificate to parse
    try:
        import aiohttp  # noqa: PLC0415

        # Imported with it, and the reason for all this: its default contexts are built.
        import aiohttp.connector  # noqa: PLC0415
    finally:
        if saved is None:
            del os.environ[_CA_FILE_VARIABLE]
        else:
            os.environ[_CA_FILE_VARIABLE] = saved
    return aiohttp


@cache
def verified_tls_context() -> ssl.SSLContext:
    """The context for every ``https`` connection: what aiohttp's verified default would be.

    Certificates and host names are verified against the system's CAs (or those
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` name, read now, after :func:`import_aiohttp` put them
    back); HTTP/1.1 is offered by ALPN, as aiohttp does. Built once per process.
    """
    context = ssl.create_default_context()
    context.set_alpn_protocols(("http/1.1",))
    return context
