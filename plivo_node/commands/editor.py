"""``plivo-node editor [FILE]``: the visual editor, served on loopback for this session."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plivo_node.editor.api import EditorState

DEFAULT_HOST = "127.0.0.1"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "editor", help="build, run and inspect workflows in the browser (a local web app)"
    )
    parser.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="a pipeline (YAML) or an n8n workflow (JSON) to edit; saved back in its format",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument(
        "--no-browser", action="store_true", help="print the URL without opening a browser"
    )


def run(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415

    from plivo_node.editor.api import new_state  # noqa: PLC0415
    from plivo_node.editor.project import N8N, YAML, empty_document, open_file  # noqa: PLC0415
    from plivo_node.run.registry import NodeRegistry  # noqa: PLC0415

    registry = NodeRegistry()
    path: Path | None = args.file
    if path is not None and path.exists():
        document = open_file(path, registry)
    else:  # a new file: saved in the format its name says
        document = empty_document()
        if path is not None:
            document.format = N8N if path.suffix.lower() == ".json" else YAML
    state = new_state(registry, path, document)
    return asyncio.run(serve(state, args.host, args.port, open_browser=not args.no_browser))


async def serve(state: EditorState, host: str, port: int, *, open_browser: bool) -> int:
    """Serve until interrupted; the URL (with the session secret) is printed once."""
    import asyncio  # noqa: PLC0415
    import socket  # noqa: PLC0415

    from aiohttp import web  # noqa: PLC0415

    from plivo_node.editor.security import new_session_secret  # noqa: PLC0415
    from plivo_node.editor.server import build_app  # noqa: PLC0415

    if host not in LOOPBACK:
        print(
            f"plivo-node: warning: listening on {host}: anyone who can reach it and learns the "
            "URL can run workflows",
            file=sys.stderr,
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    secret = new_session_secret()
    app = build_app(state, secret, bound, host)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/?s={secret}"
    print(f"plivo-node editor: {url}", flush=True)
    print("  (the URL holds this session's secret; press Ctrl-C to stop)", file=sys.stderr)
    if open_browser:
        import webbrowser  # noqa: PLC0415

        webbrowser.open(url)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
    return 0
