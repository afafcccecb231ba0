"""The ``bonjoro-tui`` entry point.

With no subcommand it launches the Textual dashboard; subcommands are headless and never
import Textual (a test checks this), so ``bonjoro-tui status --json`` starts fast.
Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error, 4 not signed in.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from bonjoro_tui import __version__

# This module is the program (the console script and ``python -m bonjoro_tui`` start here), so
# it may decide what the process loads. httpx's package imports its own command-line tool
# (``httpx._main``) whenever click, rich and pygments are installed — and they are: uvicorn
# needs click, Textual needs rich. That tool costs ~20 ms and ~3.4 MiB and is never called
# here. A ``None`` in ``sys.modules`` makes that one import raise ImportError, which httpx
# catches (it then defines a ``main`` that asks for ``httpx[cli]``); nothing else of httpx
# changes. ``setdefault``: if httpx's tool is already loaded (an embedding program), keep it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_SIGNED_IN = 4


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: a subcommand's copy of these options must not reset a value given before it
    # (`bonjoro-tui --debug api GET /me`); main() fills in None when neither gave one.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--profile", default=argparse.SUPPRESS, help="token profile to use (default: 'default' or $BONJORO_PROFILE)"
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log every HTTP exchange (secrets redacted) to stderr and the log file",
    )

    parser = argparse.ArgumentParser(
        prog="bonjoro-tui",
        description="Sign in to Bonjoro with OAuth 2.0, watch the token, explore API v2. "
        "With no client configured, everything runs against a local sandbox.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"bonjoro-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("sandbox", parents=[common], help="run the local Bonjoro sandbox on its own")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free port)")
    p.add_argument("--auto-approve", action="store_true", help="skip the consent page and approve at once")
    p.add_argument("--access-ttl", type=int, default=None, metavar="SECONDS", help="access-token lifetime")
    p.add_argument(
        "--state-file",
        default=None,
        help="persist signing key, refresh families and knobs here (default: none, state lives in memory)",
    )
    p.add_argument("--latency", type=float, default=None, metavar="SECONDS", help="delay added to every response")
    p.add_argument(
        "--fail-next",
        action="append",
        metavar="N:STATUS[:SCOPE]",
        help="answer the next N requests with STATUS (401/429/500/503); SCOPE is token, api or any (repeatable)",
    )

    p = sub.add_parser("login", parents=[common], help="sign in and store the tokens")
    p.add_argument(
        "--method",
        choices=["code", "client-credentials", "api-key"],
        default="code",
        help="authorization code + PKCE (default), client credentials, or an API key read from stdin",
    )
    p.add_argument("--no-browser", action="store_true", help="print the URL only; paste the redirect URL back")
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS", help="how long to wait for the callback")
    p.add_argument("--port", type=int, default=None, help="loopback callback port (default: any free port)")

    p = sub.add_parser("status", parents=[common], help="who is signed in and how long the token lasts")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("refresh", parents=[common], help="refresh the access token now")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    sub.add_parser("logout", parents=[common], help="revoke the tokens and forget them")
    sub.add_parser("paths", parents=[common], help="where tokens, config and logs live")

    p = sub.add_parser("api", parents=[common], help="call the Bonjoro API (refreshes automatically)")
    p.add_argument("method", metavar="METHOD", help="GET, POST, PUT, PATCH or DELETE")
    p.add_argument("path", metavar="PATH", help="path relative to the API base (e.g. /me) or an absolute URL")
    p.add_argument("--data", "-d", help="JSON body, or @FILE to read it from a file (@- for stdin)")
    p.add_argument("--include", "-i", action="store_true", help="print the status line and headers first")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help/--version
        return int(exc.code or 0)
    for name in ("profile", "debug"):
        if not hasattr(args, name):
            setattr(args, name, None)

    if args.command == "sandbox":
        from bonjoro_tui.sandbox.cli import run_sandbox_command

        return run_sandbox_command(args)
    if args.command is None:
        from bonjoro_tui.tui.launch import run_tui

        return run_tui(args)
    from bonjoro_tui.commands import run_command

    return run_command(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
