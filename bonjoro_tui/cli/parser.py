"""The ``bonjoro-tui`` command line's argparse parser (one place for every flag and help text)."""

from __future__ import annotations

import argparse

from bonjoro_tui import __version__
from bonjoro_tui.account.methods import CLI_NAMES


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
        choices=list(CLI_NAMES),
        default="code",
        help="authorization code + PKCE (default), client credentials, or an API key read from stdin",
    )
    p.add_argument("--no-browser", action="store_true", help="print the URL only; paste the redirect URL back")
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS", help="how long to wait for the callback")
    p.add_argument("--port", type=int, default=None, help="loopback callback port (default: any free port)")
    p.add_argument(
        "--issuer",
        default=None,
        metavar="URL",
        help="the authorization server's issuer: its RFC 8414 / OpenID Connect metadata fills in every "
        "endpoint not set otherwise (default: $BONJORO_ISSUER)",
    )

    p = sub.add_parser("status", parents=[common], help="who is signed in and how long the token lasts")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("refresh", parents=[common], help="refresh the access token now")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("logout", parents=[common], help="revoke the tokens and forget them")
    p.add_argument(
        "--forget",
        action="store_true",
        help="remove the local tokens even if the server could not revoke them (they stay valid there until they expire)",
    )
    sub.add_parser("paths", parents=[common], help="where tokens, config and logs live")

    p = sub.add_parser("api", parents=[common], help="call the Bonjoro API (refreshes automatically)")
    p.add_argument("method", metavar="METHOD", help="GET, POST, PUT, PATCH or DELETE")
    p.add_argument("path", metavar="PATH", help="path relative to the API base (e.g. /me) or an absolute URL")
    p.add_argument("--data", "-d", help="JSON body, or @FILE to read it from a file (@- for stdin)")
    p.add_argument("--include", "-i", action="store_true", help="print the status line and headers first")

    p = sub.add_parser(
        "doctor", parents=[common],
        help="check that the configured server (and the stored sign-in) answer as bonjoro-tui expects",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS", help="for each step (default 5)")
    return parser
