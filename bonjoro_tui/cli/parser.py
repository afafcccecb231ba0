"""The ``bonjoro-tui`` command line's argparse parser (one place for every flag and help text).

Every subcommand has a description and examples (its ``epilog``; a test holds every one to it),
and ``bonjoro-tui completion bash|zsh|fish`` generates the shell completion from this parser.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from bonjoro_tui import __version__
from bonjoro_tui.account.methods import CLI_NAMES

#: The shells ``bonjoro-tui completion`` writes a script for (shtab's).
COMPLETION_SHELLS = ("bash", "zsh", "fish")


class UsageExit(SystemExit):
    """argparse's exit on a usage error (code 2, the usage and message already on stderr), with
    the message kept, so that main() can print it as JSON too when ``--json`` was asked for."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(2)
        self.message = message
        self.prog = prog  # "bonjoro-tui api": whose --help to read


class Parser(argparse.ArgumentParser):
    """argparse's parser; a usage error prints and exits exactly as argparse does, as a
    :class:`UsageExit` that keeps the message (every ``--json`` path prints JSON on failure)."""

    def error(self, message: str) -> Any:  # argparse's signature says NoReturn
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise UsageExit(message, self.prog)


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _command(sub: Any, name: str, common: argparse.ArgumentParser, help: str, description: str,
             examples: tuple[str, ...]) -> argparse.ArgumentParser:
    # Raw formatting keeps the examples' lines as written; the description is wrapped here instead.
    parser: argparse.ArgumentParser = sub.add_parser(
        name, parents=[common], help=help, description=textwrap.fill(description, 78), epilog=_examples(*examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: a subcommand's copy of these options must not reset a value given before it
    # (`bonjoro-tui --debug api GET /me`); main() fills in None when neither gave one.
    common = Parser(add_help=False)
    common.add_argument(
        "--profile", default=argparse.SUPPRESS, help="token profile to use (default: 'default' or $BONJORO_PROFILE)"
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log every HTTP exchange (secrets redacted) to stderr and the log file",
    )

    parser = Parser(
        prog="bonjoro-tui",
        description=textwrap.fill("Sign in to Bonjoro with OAuth 2.0, watch the token, explore API v2. "
                                  "With no client configured, everything runs against a local sandbox. "
                                  "With no command, the dashboard starts.", 78),
        parents=[common],
        epilog=_examples(
            "bonjoro-tui                         # the dashboard",
            "bonjoro-tui login                   # sign in (authorization code + PKCE)",
            "bonjoro-tui api --paginate /greets --jq '.data[].id'",
            'curl -H "Authorization: Bearer $(bonjoro-tui token)" "$API/me"',
            "bonjoro-tui COMMAND --help          # each command's options and examples",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bonjoro-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _command(
        sub, "sandbox", common, "run the local Bonjoro sandbox on its own",
        "Run the local Bonjoro sandbox (OAuth server + API v2 emulator) in the foreground until "
        "Ctrl+C. The first line printed is its URL. It is the data directory's sandbox: every "
        "bonjoro-tui command and dashboard of the same data directory uses it while it runs; "
        "another program can point BONJORO_BASE_URL at it.",
        ("bonjoro-tui sandbox --port 8000 --auto-approve",
         "bonjoro-tui sandbox --access-ttl 30 --fail-next 2:503:api"),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free port)")
    p.add_argument("--auto-approve", action="store_true", help="skip the consent page and approve at once")
    p.add_argument("--access-ttl", type=int, default=None, metavar="SECONDS", help="access-token lifetime")
    p.add_argument(
        "--state-file",
        default=None,
        help="persist signing key, refresh families, knobs and API data here (default: the data directory's, "
        "and then the commands and dashboards of that data directory use this sandbox)",
    )
    p.add_argument("--latency", type=float, default=None, metavar="SECONDS", help="delay added to every response")
    p.add_argument(
        "--fail-next",
        action="append",
        metavar="N:STATUS[:SCOPE]",
        help="answer the next N requests with STATUS (401/429/500/503); SCOPE is token, api or any (repeatable)",
    )

    p = _command(
        sub, "login", common, "sign in and store the tokens",
        "Sign in and store the tokens of the profile. The authorization URL is printed on stdout "
        "and opened in a browser; the sign-in completes on the loopback callback or on the "
        "redirect URL pasted on stdin. An API key is read from stdin or a hidden prompt.",
        ("bonjoro-tui login",
         "bonjoro-tui login --no-browser            # over SSH: open the URL elsewhere, paste the redirect",
         "bonjoro-tui login --approve               # the sandbox: approve here, no browser",
         "bonjoro-tui login --method client-credentials",
         "printf '%s\\n' \"$KEY\" | bonjoro-tui login --method api-key"),
    )
    p.add_argument(
        "--method",
        choices=list(CLI_NAMES),
        default="code",
        help="authorization code + PKCE (default), client credentials, or an API key read from stdin",
    )
    p.add_argument("--no-browser", action="store_true", help="print the URL only; paste the redirect URL back")
    p.add_argument(
        "--approve",
        action="store_true",
        help="against the sandbox only (built-in or recognised): approve at its consent page without a browser",
    )
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS", help="how long to wait for the callback")
    p.add_argument("--port", type=int, default=None, help="loopback callback port (default: any free port)")
    p.add_argument(
        "--issuer",
        default=None,
        metavar="URL",
        help="the authorization server's issuer: its RFC 8414 / OpenID Connect metadata fills in every "
        "endpoint not set otherwise (default: $BONJORO_ISSUER)",
    )
    p.add_argument("--json", action="store_true",
                   help="the result as JSON on stdout (also on failure); the authorization URL then goes to stderr")

    p = _command(
        sub, "status", common, "who is signed in and how long the token lasts",
        "Who is signed in, to which server, and how long the token lasts. Never prints a token, "
        "at most a masked prefix. Exit 4 when not signed in, 1 when signed in but every request would "
        "be refused (BLOCKED), 0 only when signed in and usable.",
        ("bonjoro-tui status", "bonjoro-tui status --json | jq .expires_in"),
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (also on failure)")

    p = _command(
        sub, "refresh", common, "refresh the access token now",
        "Refresh the access token now (client credentials: a new grant). The rotated refresh token "
        "is saved before anything else.",
        ("bonjoro-tui refresh", "bonjoro-tui --profile ci refresh --json"),
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (also on failure)")

    p = _command(
        sub, "logout", common, "revoke the tokens and forget them",
        "Revoke the refresh and access tokens where a revocation endpoint exists, then delete them "
        "here. If revoking fails they are kept (exit 1) unless --forget.",
        ("bonjoro-tui logout", "bonjoro-tui logout --forget"),
    )
    p.add_argument(
        "--forget",
        action="store_true",
        help="remove the local tokens even if the server could not revoke them (they stay valid there until they expire)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (also on failure)")
    _command(
        sub, "paths", common, "where tokens, config and logs live",
        "Where the token store, config file, .env, debug log and sandbox state live.",
        ("bonjoro-tui paths",),
    )

    p = _command(
        sub, "token", common, "print the access token (for scripts: $(bonjoro-tui token))",
        "Print the profile's access token and nothing else (refreshed first when it is about to "
        "expire), for a script: $(bonjoro-tui token). The token is the one a request would carry, "
        "after the same checks. On a terminal it is not printed unless --show: a token on a "
        "shared screen is a token given away. Exit 4 when not signed in.",
        ('curl -H "Authorization: Bearer $(bonjoro-tui token)" http://127.0.0.1:8000/api/v2/me',
         "bonjoro-tui token | gh secret set BONJORO_TOKEN",
         "bonjoro-tui token --show                  # on a terminal, on purpose"),
    )
    p.add_argument("--show", action="store_true", help="print it even when stdout is a terminal")

    p = _command(
        sub, "exec", common, "run a command with BONJORO_ACCESS_TOKEN and BONJORO_API_BASE set",
        "Run CMD with BONJORO_ACCESS_TOKEN (refreshed first when due) and BONJORO_API_BASE in its "
        "environment, and exit with its status (killed by signal N: 128+N; not found: 127). "
        "bonjoro-tui prints nothing of its own on success and never the token. Against the built-in "
        "sandbox, the sandbox runs for as long as CMD does.",
        ("bonjoro-tui exec -- sh -c 'curl -sH \"Authorization: Bearer $BONJORO_ACCESS_TOKEN\" \"$BONJORO_API_BASE/me\"'",
         "bonjoro-tui exec -- python sync_greets.py"),
    )
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS ...]", help="the command to run")

    p = _command(
        sub, "api", common, "call the Bonjoro API (refreshes automatically)",
        "Call the API with the profile's token, gh api style. PATH is relative to the API base "
        "(/me) or an absolute URL on its origin, and may name the published operation's path "
        "parameters: /users/{user_id} with -F user_id=... (an unfilled {name} is an error). "
        "Fields go in the query for GET, HEAD, OPTIONS and DELETE, in a JSON body otherwise; the "
        "method is GET, or POST when fields or --data are given (not with --paginate).",
        ("bonjoro-tui api /me",
         "bonjoro-tui api --paginate /greets --jq '.data[].id'",
         "bonjoro-tui api --paginate --slurp /profiles --jq 'length'",
         "bonjoro-tui api /profiles -F email=ada@example.com -f first_name=Ada",
         "bonjoro-tui api /users/{user_id} -F user_id=me --jq .name",
         "bonjoro-tui api -X GET /greets -F status=open -F limit=50",
         "bonjoro-tui api POST /greets --data @greet.json --include"),
    )
    p.add_argument("method", nargs="?", metavar="METHOD", help="GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS (or -X)")
    p.add_argument("path", metavar="PATH", help="path relative to the API base (e.g. /me) or an absolute URL")
    p.add_argument("--method", "-X", dest="method_option", metavar="METHOD", help="the HTTP method")
    p.add_argument("--field", "-F", action="append", default=[], metavar="KEY=VALUE",
                   help="typed field: numbers, true/false/null as JSON; @FILE reads a file, @- stdin; "
                   "KEY may be nested (a[b]=1, a[]=1) (repeatable)")
    p.add_argument("--raw-field", "-f", action="append", default=[], metavar="KEY=VALUE",
                   help="string field, taken as written (repeatable)")
    p.add_argument("--header", "-H", action="append", default=[], metavar="'NAME: VALUE'",
                   help="an extra request header (repeatable; Authorization cannot be set)")
    p.add_argument("--data", "-d", help="JSON body, or @FILE to read it from a file (@- for stdin)")
    p.add_argument("--include", "-i", action="store_true", help="print the status line and headers first")
    p.add_argument("--paginate", action="store_true",
                   help="follow next_page_url to the last page, pacing by X-RateLimit-Remaining / Retry-After")
    p.add_argument("--slurp", action="store_true", help="with --paginate: one JSON array of every page's data")
    p.add_argument("--jq", "-q", metavar="EXPR", help="filter the output with a jq expression (per page unless --slurp)")
    p.add_argument("--json", action="store_true", help="errors as JSON on stdout too ({\"error\": ...})")

    p = _command(
        sub, "doctor", common, "check that the configured server (and the stored sign-in) answer as bonjoro-tui expects",
        "Check, one line per step, that the configured server and the stored sign-in answer the way "
        "bonjoro-tui expects, and say which setting to change when one does not. Sends no secret, "
        "refreshes nothing.",
        ("bonjoro-tui doctor", "BONJORO_BASE_URL=https://auth.example.com bonjoro-tui doctor --json"),
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS", help="for each step (default 5)")

    p = _command(
        sub, "profiles", common, "list the stored profiles, choose the default one, remove one",
        "List the stored profiles (the default when no action is given), make one the default "
        "(remembered in config.toml; --profile and BONJORO_PROFILE still win), or remove one.",
        ("bonjoro-tui profiles", "bonjoro-tui profiles use ci", "bonjoro-tui profiles rm old-test",
         "bonjoro-tui profiles list --json | jq -r '.profiles[].name'"),
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (also on failure)")
    actions = p.add_subparsers(dest="profiles_command", metavar="ACTION")
    q = _command(actions, "list", common, "every stored profile (the default action)",
                 "Every stored profile: its server, method, whether it is signed in, and which one is "
                 "in use (*) and the default. Never a token.",
                 ("bonjoro-tui profiles list", "bonjoro-tui profiles list --json"))
    q.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    q = _command(actions, "use", common, "make NAME the default profile (config.toml)",
                 "Make the stored profile NAME the default: config.toml gets profile = \"NAME\", the "
                 "file's other lines and comments kept. --profile and BONJORO_PROFILE still win.",
                 ("bonjoro-tui profiles use ci",))
    q.add_argument("name", metavar="NAME")
    q.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    q = _command(actions, "rm", common, "revoke and remove the profile NAME",
                 "Remove the stored profile NAME: revoked at the server first, as logout does (a failed "
                 "revocation keeps it, exit 1), unless --no-revoke, which only forgets it here.",
                 ("bonjoro-tui profiles rm old-test", "bonjoro-tui profiles rm staging --no-revoke"))
    q.add_argument("name", metavar="NAME")
    q.add_argument("--no-revoke", action="store_true",
                   help="only forget the tokens here (they stay valid at the server until they expire)")
    q.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")

    p = _command(
        sub, "completion", common, "print the shell completion script (bash, zsh, fish)",
        "Print the completion script for SHELL, generated from this command line's own parser.",
        ("bonjoro-tui completion bash > ~/.local/share/bash-completion/completions/bonjoro-tui",
         "bonjoro-tui completion zsh > \"${fpath[1]}/_bonjoro-tui\"",
         "bonjoro-tui completion fish > ~/.config/fish/completions/bonjoro-tui.fish"),
    )
    p.add_argument("shell", choices=COMPLETION_SHELLS, help="the shell to complete for")
    return parser
