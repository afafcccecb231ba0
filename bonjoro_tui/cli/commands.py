"""The headless subcommands: login, status, refresh, logout, paths, token, exec, api, doctor.

Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error, 4 not signed in.
Secrets never reach the output: ``status`` shows at most :func:`~bonjoro_tui.redact.mask`;
an API key is read from stdin or a hidden prompt, never from argv; ``token`` is the one command
that prints the access token (never to a terminal unless ``--show``), ``exec`` hands it to a
child's environment only. Each command runs its own event loop (``asyncio.run``). A command with
``--json`` prints a JSON error (``{"error": {...}}``) on stdout when it fails, besides the line on
stderr. The logic the dashboard could reuse lives in ``bonjoro_tui.account`` (``fields``,
``paginate``, ``jqfilter``, ``token``); this module only reads arguments and renders.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine

from bonjoro_tui import locations
from bonjoro_tui.errors import BonjoroError
from bonjoro_tui.account.format import duration
from bonjoro_tui.account.methods import SignInMethod
from bonjoro_tui.account.status import AccountStatus, describe
from bonjoro_tui.cli.exitcodes import EXIT_FAILURE, EXIT_NOT_SIGNED_IN, EXIT_OK, EXIT_USAGE
from bonjoro_tui.safetext import safe_json_dumps, safe_text
from bonjoro_tui.settings import Settings, SettingsError, load_settings



class UsageError(BonjoroError):
    """Bad arguments that argparse could not catch: exit 2."""


def _is_usage_error(exc: BaseException) -> bool:
    from bonjoro_tui.account.fields import FieldError
    from bonjoro_tui.account.jqfilter import JqError

    return isinstance(exc, (UsageError, FieldError)) or (isinstance(exc, JqError) and exc.usage)


def run_command(args: argparse.Namespace) -> int:
    handler = _COMMANDS[args.command]
    flags = {"profile": args.profile, "debug": args.debug, "callback_port": getattr(args, "port", None),
             "issuer": getattr(args, "issuer", None)}
    profile: str | None = None
    try:
        settings = load_settings(flags)
        profile = settings.profile
        for warning in settings.warnings:
            print(f"bonjoro-tui: warning: {safe_text(warning)}", file=sys.stderr)  # may quote a .env
        return asyncio.run(handler(args, settings))
    except SettingsError as exc:
        # A bad setting is a usage error: the message names the flag, variable or file to fix.
        if args.command == "paths":
            _print_paths_best_effort(flags)
        return _fail(exc, EXIT_USAGE, as_json=getattr(args, "json", False))
    except KeyboardInterrupt:
        return _fail("cancelled", 130, as_json=getattr(args, "json", False))
    except BrokenPipeError:
        # The reader went away (`bonjoro-tui api GET /x | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line and an exit code
        return _fail(_naming_profile(exc, profile), _exit_code_for(exc), as_json=getattr(args, "json", False))


def _naming_profile(exc: BaseException, profile: str | None) -> BaseException:
    """A "not signed in" whose advice names the profile: `--profile ghost api /me` must be told
    `bonjoro-tui --profile ghost login`, not a login of the default profile."""
    import copy

    from bonjoro_tui.api.errors import NotSignedIn, for_profile

    if not isinstance(exc, NotSignedIn) or not exc.args:
        return exc
    text = for_profile(str(exc), profile)
    if text == str(exc):
        return exc
    renamed = copy.copy(exc)
    renamed.args = (text,)
    return renamed


def _exit_code_for(exc: BaseException) -> int:
    from bonjoro_tui.api.errors import NotSignedIn  # the light module: no httpx on a failure path

    if _is_usage_error(exc):
        return EXIT_USAGE
    return EXIT_NOT_SIGNED_IN if isinstance(exc, NotSignedIn) else EXIT_FAILURE


def _one_line(value: object) -> str:
    """``value`` on one line for the terminal: whitespace runs become one space; every control
    and bidi character is escaped first (``safe_text``), so ``\\r`` or ``\\x85`` show as escapes
    instead of vanishing into a space, and nothing from a server is written raw."""
    return " ".join(safe_text(value, multiline=True).split())


def _fail(reason: object, code: int, *, as_json: bool = False, **extra: Any) -> int:
    """One line on stderr; with ``as_json`` a JSON error on stdout too: ``{"error": {"message",
    "hint", "exit_code", "type", …extra}}`` (escaped like every JSON we print)."""
    # The reason often quotes the server (an error_description, an API error message).
    message = _one_line(reason) or type(reason).__name__
    hint = getattr(reason, "hint", "")
    text = message + (f" ({_one_line(hint)})" if hint else "")
    print(f"bonjoro-tui: {text}", file=sys.stderr)
    if as_json:
        kind = type(reason).__name__ if isinstance(reason, BaseException) else "Error"
        _print_json({"error": {"message": message, "hint": _one_line(hint) or None, "exit_code": code,
                               "type": extra.pop("type", kind), **extra}})
    return code


def _print_json(data: Any, *, pretty: bool | None = None) -> None:
    if pretty is None:
        pretty = sys.stdout.isatty()
    # Still valid JSON that reads back to the same strings, with control and bidi characters
    # written as \uXXXX escapes (json.dumps(ensure_ascii=False) would write C1 and bidi raw).
    print(safe_json_dumps(data, indent=2 if pretty else None))


async def _with_session(settings: Settings, body: Callable[[Any], Awaitable[int]], *, announce: bool = False) -> int:
    """Run ``body`` in a session: a sandbox already running for the data directory is used;
    ``announce``: one this command starts is announced for as long as it runs (``exec``)."""
    from bonjoro_tui.account.session import open_session

    session = open_session(settings, announce=announce)
    try:
        return await body(session)
    finally:
        await session.aclose()


# --------------------------------------------------------------------------- status / paths


def _status_lines(status: AccountStatus, settings: Settings | None = None) -> list[str]:
    """The lines of ``status``, each escaped with ``safe_text`` (scope, client id and last
    refresh result come from the server). For a live target, the endpoints in use follow, each
    with where it came from (live Bonjoro's authorize URL is a default we could not confirm)."""
    lines = _status_text(status.to_json(), status.where)
    if settings is not None and status.signed_in:
        # Which profile, and why this one: a flag, BONJORO_PROFILE, config.toml (`profiles use`).
        source = settings.source("profile")
        if source.startswith("profile in "):
            source += " (bonjoro-tui profiles use)"
        lines.insert(1, f"  profile from:  {source}")
    if settings is not None and status.is_sandbox and status.api_base:
        lines.append(f"  api:           {status.api_base}  ({settings.source('api_base')})")
    if settings is not None and not status.is_sandbox:
        for label, key in (("authorize", "authorize_url"), ("token", "token_url"), ("revoke", "revoke_url"),
                           ("api", "api_base")):
            value = getattr(settings, key)
            lines.append(f"  {label + ':':<14} {value or '(none)'}" + (f"  ({settings.source(key)})" if value else ""))
    return [safe_text(line) for line in lines]


def _status_text(info: dict[str, Any], where: str) -> list[str]:
    if not info["signed_in"]:
        # The reason goes to stderr once (with what to do), not here as well.
        return [f"Not signed in: profile {info['profile']!r}, target {where}.", f"Token store: {info['store']}"]
    if info["expires_at"] is None:
        expiry = "never expires"
    elif info["expired"]:
        ago = -info["expires_in"]
        expiry = f"expired {duration(ago)} ago ({ago} s), at {info['expires_at']}"
    else:
        left = info["expires_in"]
        expiry = f"expires in {duration(left)} ({left} s), at {info['expires_at']}"
    lines = [
        f"Signed in: profile {info['profile']!r} to the {where}",
        f"  method:        {info['method']}",
        f"  client id:     {info['client_id'] or '(none)'}",
        f"  token:         {info['token_type']} {info['access_token_masked']}, {expiry}",
        f"  scope:         {info['scope'] or '(none)'}",
        f"  refresh token: {'held' if info['has_refresh_token'] else 'none'}",
    ]
    if info.get("last_refresh_at"):
        lines.append(f"  last refresh:  {info['last_refresh_at']} ({info['last_refresh_result']})")
    lines.append(f"  token store:   {info['store']}")
    if info.get("blocked"):
        lines.append(f"  BLOCKED:       {info['blocked']}")
    if info.get("logout_blocked"):
        lines.append(f"  logout:        would be refused: {info['logout_blocked']}")
    return lines


async def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from bonjoro_tui.account.status import with_running_sandbox
    from bonjoro_tui.store import TokenStore

    # The sandbox's URL when one runs for this data directory (never started for status).
    settings = with_running_sandbox(settings)
    status = describe(settings, TokenStore(settings.store_path).load(settings.profile), time.time())
    if args.json:
        _print_json(status.to_json())
    else:
        print("\n".join(_status_lines(status, settings)))
    if status.signed_in:
        if status.blocked:
            # Exit 1, as `gh auth status` on a problem: `status && …` must not carry on with a
            # profile whose every request is refused (not 4: the tokens are there and good).
            print(f"bonjoro-tui: error: every request of this profile would be refused: {_one_line(status.blocked)}",
                  file=sys.stderr)
            return EXIT_FAILURE
        if status.logout_blocked:  # requests still go: a warning, not a failure
            print(f"bonjoro-tui: warning: logout would be refused: {_one_line(status.logout_blocked)}",
                  file=sys.stderr)
        return EXIT_OK
    from bonjoro_tui.api.errors import login_command

    return _fail(f"not signed in: {status.reason}; run `{login_command(settings.profile)}`", EXIT_NOT_SIGNED_IN)


async def cmd_paths(args: argparse.Namespace, settings: Settings) -> int:
    _print_paths(settings.data_dir, settings.config_dir, settings.log_dir)
    return EXIT_OK


def _print_paths_best_effort(flags: dict[str, Any]) -> None:
    """``paths`` with a bad setting: the directories that can be resolved, then the error."""
    from bonjoro_tui.settings import best_effort_dirs

    try:
        dirs = best_effort_dirs(flags)
    except Exception:  # noqa: BLE001 - best effort only; the error line follows anyway
        return
    _print_paths(dirs["data_dir"], dirs["config_dir"], dirs["log_dir"])


def _print_paths(data_dir: Path, config_dir: Path, log_dir: Path) -> None:
    from bonjoro_tui.plumbing.debug import LOG_FILE_NAME

    dotenv = Path.cwd() / ".env"
    rows = [
        ("token store", locations.tokens_file(data_dir)),
        ("config file", locations.config_file(config_dir)),
        (".env", dotenv if dotenv.is_file() else f"{dotenv} (none)"),
        ("debug log", log_dir / LOG_FILE_NAME),
        ("sandbox state", locations.sandbox_state_file(data_dir)),
        ("running sandbox", locations.sandbox_announce_file(data_dir)),  # present while one runs
        ("data dir", data_dir),
        ("config dir", config_dir),
        ("log dir", log_dir),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key + ':':<{width + 1}} {value}")


# --------------------------------------------------------------------------- refresh / logout


async def cmd_refresh(args: argparse.Namespace, settings: Settings) -> int:
    async def body(session: Any) -> int:
        profile = await session.client.refresh_now()
        info = describe(session.settings, profile, session.now()).to_json()
        if args.json:
            _print_json(info)
        else:
            print(safe_text(f"Refreshed profile {settings.profile!r}: token {info['access_token_masked']}, "
                            f"expires at {info['expires_at']}"))
        return EXIT_OK

    return await _with_session(settings, body)


async def cmd_logout(args: argparse.Namespace, settings: Settings) -> int:
    async def body(session: Any) -> int:
        result = await session.client.logout_detailed(forget=args.forget)
        if args.json:
            _print_json({"profile": result.profile, "deleted": result.deleted, "revoked": result.revoked,
                         "not_revoked": result.not_revoked})
            return EXIT_OK
        revoked = ", ".join(result.revoked) or "nothing"
        print(f"Signed out of profile {result.profile!r}: local tokens deleted; revoked at the server: {revoked}.")
        for note in result.not_revoked:
            print(f"  not revoked: {_one_line(note)}", file=sys.stderr)
        return EXIT_OK

    return await _with_session(settings, body)


# --------------------------------------------------------------------------- api


def _read_data(spec: str | None) -> Any:
    if spec is None:
        return None
    if spec.startswith("@"):
        source = spec[1:]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--data: cannot read {source}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"--data: {source} is not UTF-8 text") from None
    else:
        text = spec
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--data is not valid JSON: {exc}") from None


def _plan_api(args: argparse.Namespace) -> Any:
    """The request from the arguments (``account.fields``), every usage error raised before anything is sent."""
    from bonjoro_tui.account.fields import METHODS, Field, parse_field, parse_header, plan_request

    if args.method is None and args.path in METHODS:  # `api GET`: the method without its path
        raise UsageError(f"{args.path} needs a path: bonjoro-tui api {args.path} /me")
    if args.method and args.method_option and args.method.upper() != args.method_option.upper():
        raise UsageError(f"two methods given: {args.method} and --method {args.method_option}")
    if args.slurp and not args.paginate:
        raise UsageError("--slurp needs --paginate")
    stdin_used = [args.data == "@-"]

    def read_stdin() -> str:
        if stdin_used[0]:
            raise UsageError("stdin (@-) can be read only once")
        stdin_used[0] = True
        return sys.stdin.read()

    fields: list[Field] = [parse_field(spec, typed=True, read_stdin=read_stdin) for spec in args.field]
    fields += [parse_field(spec, typed=False) for spec in args.raw_field]
    headers = [parse_header(spec) for spec in args.header]
    data = _read_data(args.data)
    return plan_request(args.method_option or args.method, args.path, fields, data=data,
                        has_data=args.data is not None, headers=headers, paginate=args.paginate)


async def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    from bonjoro_tui.account.jqfilter import JqFilter
    from bonjoro_tui.account.paginate import Bodies

    from bonjoro_tui.api.errors import login_command

    plan = _plan_api(args)
    jq = JqFilter(args.jq) if args.jq else None  # compiled before anything is sent
    as_json = args.json
    # gh's rule: fields make it a POST unless a method is given. Said when such a POST is refused.
    implied_post = ((args.method_option or args.method) is None and plan.method == "POST"
                    and args.data is None and plan.json is not None)

    def show_headers(r: Any) -> None:
        # The reason phrase and headers are server text: escaped, on a pipe too (they are
        # metadata, and httpx decodes them as Latin-1, so they are not the server's bytes anyway).
        print(f"HTTP/1.1 {r.status} {safe_text(r.reason)}")
        for name, value in r.headers.multi_items():
            print(f"{safe_text(name)}: {safe_text(value)}")
        print()

    def show(r: Any, bodies: Any) -> None:  # bodies: account.paginate.Bodies, which parses each body once
        if not r.content:
            return
        try:
            body = bodies.of(r)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than json can parse or print
            _print_body(r.content)
            return
        if jq is not None:
            _print_jq(jq.apply(body))
            return
        clean = bodies.clean(r)
        if clean is not None and not sys.stdout.isatty():
            _write_line(clean)  # one line with nothing to escape: the server's bytes, not encoded again
        else:
            _print_json(body)

    def failed(r: Any, page: int = 1) -> int:
        code = EXIT_NOT_SIGNED_IN if r.status == 401 else EXIT_FAILURE
        if r.status == 401:
            reason = f"the server rejected the token (401 Unauthorized); run `{login_command(settings.profile)}`"
        else:
            message = r.error_message()
            reason = f"HTTP {r.status} {r.reason}" + (f": {message}" if message else "")
            if implied_post and 400 <= r.status < 500:
                reason += " (sent as POST because of -F/-f; use -X GET to send the fields as a query)"
        if page > 1:
            reason = f"page {page}: {reason} (the pages before it were printed)" if not args.slurp else \
                f"page {page}: {reason}"
        if as_json:
            try:
                body: Any = r.json()
            except (ValueError, RecursionError):
                body = r.text
            return _fail(reason, code, as_json=True, type="HttpError", status=r.status, body=body)
        if args.include:
            show_headers(r)
        if r.content:
            try:
                _print_json(r.json())
            except (ValueError, RecursionError):
                _print_body(r.content)
        return _fail(reason, code)

    async def single(session: Any) -> int:
        r = await session.client.request(plan.method, plan.path, params=plan.params or None, json=plan.json,
                                         headers=plan.headers or None)
        if not r.ok:
            return failed(r)
        if args.include:
            show_headers(r)
        show(r, Bodies())
        return EXIT_OK

    async def paginated(session: Any) -> int:
        from contextlib import aclosing

        from bonjoro_tui.account.paginate import Wait, page_items, pages

        def waiting(wait: Wait) -> None:
            print(f"bonjoro-tui: {wait.reason}: waiting {wait.seconds:.0f} s before page {wait.page}",
                  file=sys.stderr, flush=True)

        slurped: list[Any] = []
        number = 0
        bodies = Bodies()  # each page parsed once, for the pager's next link and for printing
        walk = pages(session.client, plan.method, plan.path, params=plan.params or None, json=plan.json,
                     headers=plan.headers or None, on_wait=waiting, bodies=bodies, ask_ahead=True)
        async with aclosing(walk):  # ended here, before the session: a page asked for ahead included
            async for r in walk:
                number += 1
                if not r.ok:
                    return failed(r, number)
                if not args.slurp:
                    if args.include:
                        show_headers(r)
                    show(r, bodies)
                    sys.stdout.flush()
                    continue
                try:
                    slurped += page_items(bodies.of(r))
                except ValueError as exc:
                    raise BonjoroError(f"--slurp: page {number}: {exc}") from None
        if args.slurp:
            if jq is None:
                _print_json(slurped)
            else:
                _print_jq(jq.apply(slurped))
        return EXIT_OK

    return await _with_session(settings, paginated if args.paginate else single)


def _print_jq(results: list[Any]) -> None:
    """jq's outputs, one per line: a string as its text (like ``jq -r`` and ``gh api --jq``), on a
    terminal escaped; anything else as JSON."""
    for value in results:
        if isinstance(value, str):
            if sys.stdout.isatty():
                print(safe_text(value, multiline=True))
            else:
                print(value)
        else:
            _print_json(value)


def _write_line(data: bytes) -> None:
    """``data`` and a newline, as they are: a JSON body whose bytes were found clean (one line of
    UTF-8 without a control, bidi or invisible character: ``safetext.as_sent_text``), which
    ``_print_json`` would have parsed and encoded again only to write what the server sent, or
    the same JSON in the encoder's spelling. Only ever for a pipe or a file: a terminal gets
    ``_print_json``'s indented JSON."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stdout (a test's StringIO)
        sys.stdout.write(data.decode("utf-8") + "\n")
        return
    buffer.write(data)
    buffer.write(b"\n")


def _print_body(content: bytes) -> None:
    """A body that is not JSON.

    On a terminal it is escaped (``safe_text(multiline=True)``: newlines and tabs kept, every
    other control or bidi character shown as ``\\xNN`` / ``\\uNNNN``): raw, it could write the
    clipboard (OSC 52), plant links (OSC 8), retitle or clear the terminal. On a pipe or a file
    the bytes are written exactly as the server sent them, with nothing added: that is what
    ``bonjoro-tui api GET /x > file`` asks for, and whatever reads it decides how to show it.
    """
    if sys.stdout.isatty():
        text = safe_text(content, multiline=True)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(content)
    sys.stdout.buffer.flush()


# --------------------------------------------------------------------------- token / exec


async def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from bonjoro_tui.account.token import fresh_token, stored_token
    from bonjoro_tui.store import TokenStore

    # From the store alone when it can (no sandbox, no HTTP stack): raises NotSignedIn (exit 4),
    # Misdirected (exit 1) as a request would.
    token = stored_token(settings, TokenStore(settings.store_path), time.time())
    if sys.stdout.isatty() and not args.show:
        # Refused before any refresh: nothing is spent for a token that would not be printed.
        raise UsageError(
            "not printing the access token to a terminal: anyone who can see the screen (or its scrollback, "
            "a screen share, a recording) could use it",
            hint='use it as $(bonjoro-tui token), pipe it, or pass --show to print it here anyway',
        )

    async def body(session: Any) -> int:
        nonlocal token
        token = await fresh_token(session)
        return EXIT_OK

    if token is None:
        await _with_session(settings, body)
    assert token is not None
    sys.stdout.write(token + "\n")
    sys.stdout.flush()
    return EXIT_OK


#: A child that could not be started: "not found" and "not executable", as a shell says.
EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126


async def cmd_exec(args: argparse.Namespace, settings: Settings) -> int:
    import shutil

    from bonjoro_tui.account.token import fresh_token

    command = list(args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd)
    if not command:
        raise UsageError("no command given: bonjoro-tui exec -- CMD [ARGS...]")
    program = shutil.which(command[0])
    if program is None:
        # Checked before the session: no sandbox started, no token refreshed for nothing. A path
        # (a name with a slash) that exists but cannot be run is 126, as a shell says.
        if "/" in command[0] and os.path.lexists(command[0]):
            why = "Is a directory" if os.path.isdir(command[0]) else "Permission denied"
            return _fail(f"exec: {command[0]}: {why}", EXIT_NOT_EXECUTABLE)
        return _fail(f"exec: {command[0]}: command not found", EXIT_NOT_FOUND)

    async def body(session: Any) -> int:
        token = await fresh_token(session)
        env = dict(os.environ)
        env["BONJORO_ACCESS_TOKEN"] = token
        env["BONJORO_API_BASE"] = session.settings.api_base or ""
        # The session (and the built-in sandbox, if it is the target) stays up while the child runs,
        # announced: a bonjoro-tui run inside CMD uses it (and BONJORO_API_BASE names it).
        return _run_child(program, command, env)

    return await _with_session(settings, body, announce=True)


def _run_child(program: str, command: list[str], env: dict[str, str]) -> int:
    """Run the child in the foreground; its status, 128+N when signal N killed it.

    While it runs, SIGINT and SIGQUIT (sent by the terminal to the child too) do not stop us
    before it, and SIGTERM / SIGHUP sent to us are passed on to it. Handlers set here are reset
    to the default in the child when it starts (exec), so it gets the signals as usual.
    """
    import signal
    import subprocess

    sys.stdout.flush()
    sys.stderr.flush()
    children: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []  # a signal that came before the child existed: passed on once it does

    def ignore(signum: int, frame: Any) -> None:
        pass

    def forward(signum: int, frame: Any) -> None:
        if not children:
            pending.append(signum)
            return
        try:
            children[0].send_signal(signum)
        except OSError:
            pass

    # Installed before the child starts, so that no signal finds us with the default (exit at once).
    handlers = {signal.SIGINT: ignore, signal.SIGQUIT: ignore, signal.SIGTERM: forward, signal.SIGHUP: forward}
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        try:
            children.append(subprocess.Popen([program, *command[1:]], env=env))
        except PermissionError:
            return _fail(f"exec: {command[0]}: permission denied", EXIT_NOT_EXECUTABLE)
        except FileNotFoundError:
            return _fail(f"exec: {command[0]}: command not found", EXIT_NOT_FOUND)
        except OSError as exc:
            return _fail(f"exec: {command[0]}: {exc.strerror or exc}", EXIT_NOT_EXECUTABLE)
        for signum in pending:
            forward(signum, None)
        while True:
            # Polled, not one blocking wait: a signal the kernel hands to another thread (the sandbox's)
            # runs our handler only when the main thread runs Python again.
            try:
                status = children[0].wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - status if status < 0 else status


# --------------------------------------------------------------------------- profiles


def _profile_json(summary: Any) -> dict[str, Any]:
    from bonjoro_tui.account.format import iso

    return {
        "name": summary.name, "target": summary.target, "api_origin": summary.api_origin,
        "method": summary.method, "client_id": summary.client_id, "signed_in": summary.signed_in,
        "expires_at": iso(summary.expires_at),
        "expired": summary.expired, "on_this_target": summary.on_this_target,
        "active": summary.active, "default": summary.default,
    }


async def cmd_profiles(args: argparse.Namespace, settings: Settings) -> int:
    from bonjoro_tui.account import profiles
    from bonjoro_tui.account.session import Session
    from bonjoro_tui.store import TokenStore

    action = args.profiles_command or "list"
    if action == "rm" and not args.no_revoke:
        async def body(session: Any) -> int:
            result = await profiles.remove_profile(session, args.name, revoke=True)
            return _removed(args, result, session)

        return await _with_session(settings, body)
    # Listing, choosing and forgetting read and write local files only: no sandbox, no HTTP client.
    session = Session(settings, TokenStore(settings.store_path))
    if action == "rm":
        return _removed(args, await profiles.remove_profile(session, args.name, revoke=False), session)
    if action == "use":
        path = profiles.use_profile(session, args.name)
        overridden = profiles.overridden_by(session)
        if args.json:
            _print_json({"default": args.name, "config_file": str(path), "overridden_by": overridden})
        else:
            print(f"Default profile: {args.name!r} (profile = \"{args.name}\" in {path}).")
        if overridden:
            print(f"bonjoro-tui: note: {_one_line(overridden)} names the profile in effect here; it still wins over "
                  "config.toml", file=sys.stderr)
        return EXIT_OK
    listed = profiles.list_profiles(session)
    if args.json:
        _print_json({"profiles": [_profile_json(p) for p in listed], "active": settings.profile,
                     "default": profiles.default_profile(session), "store": str(settings.store_path)})
        return EXIT_OK
    if not listed:
        print(f"No stored profiles (token store: {settings.store_path}); sign in with `bonjoro-tui login`.")
        return EXIT_OK
    rows = [("", "NAME", "SERVER", "METHOD", "STATE")]
    now = session.now()
    for p in listed:
        if not p.on_this_target:
            state = f"signed in to {p.where}, not this server"
        elif not p.signed_in:
            state = "expired (sign in again)"
        elif p.expires_at is None:
            state = "signed in (never expires)"
        else:
            left = p.expires_at - now
            state = f"signed in, token {'expired ' + duration(-left) + ' ago (refreshes)' if left <= 0 else 'expires in ' + duration(left)}"
        flags = ("*" if p.active else " ") + ("d" if p.default else " ")
        rows.append((flags, p.name, p.where, p.method, state))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print(safe_text("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]).rstrip())
    print("* in use   d default (config.toml)")
    if not any(p.active for p in listed):
        print(f"In use: profile {settings.profile!r}, not stored (`bonjoro-tui login` signs it in, "
              "`bonjoro-tui profiles use NAME` chooses another).")
    return EXIT_OK


def _removed(args: argparse.Namespace, result: Any, session: Any) -> int:
    from bonjoro_tui.account.preferences import PreferenceError
    from bonjoro_tui.account.profiles import repair_default

    try:
        repaired, failed = repair_default(session, result.profile), None
    except PreferenceError as exc:  # config.toml not ours to rewrite: it still names the profile
        repaired, failed = None, exc
    was_default = repaired is not None or failed is not None
    if args.json:
        _print_json({"profile": result.profile, "deleted": result.deleted, "revoked": result.revoked,
                     "not_revoked": result.not_revoked, "was_default": was_default,
                     "default_cleared": repaired is not None})
    else:
        revoked = ", ".join(result.revoked) or "nothing"
        print(f"Removed profile {result.profile!r}: local tokens deleted; revoked at the server: {revoked}.")
        for note in result.not_revoked:
            print(f"  not revoked: {_one_line(note)}", file=sys.stderr)
    if repaired is not None:
        print("bonjoro-tui: note: " + safe_text(repaired.sentence("`bonjoro-tui profiles use NAME` chooses another")),
              file=sys.stderr)
    elif failed is not None:
        print(f"bonjoro-tui: warning: {result.profile!r} is still the default profile in config.toml: "
              f"{_one_line(safe_text(str(failed)))}; {_one_line(safe_text(failed.hint or ''))}", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- doctor

#: ok, fail, warn, skip: the marks of `doctor`, and their ASCII stand-ins for a terminal that cannot show them.
_DOCTOR_MARKS = {"ok": "✓", "fail": "✗", "warn": "!", "skip": "-"}
_DOCTOR_ASCII = {"ok": "+", "fail": "x", "warn": "!", "skip": "-"}


def _doctor_marks() -> dict[str, str]:
    try:
        "".join(_DOCTOR_MARKS.values()).encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return _DOCTOR_ASCII
    return _DOCTOR_MARKS


async def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from bonjoro_tui.account.doctor import Check, failed, report_json, run_checks

    marks = _doctor_marks()
    arrow = "→" if marks is _DOCTOR_MARKS else "->"

    def fit(text: str) -> str:
        """Escaped, on one line; on a terminal that cannot show some character, a stand-in."""
        text = _one_line(text)
        if marks is _DOCTOR_MARKS:
            return text
        encoding = sys.stdout.encoding or "ascii"
        text = text.replace("—", "-").replace("…", "...").replace("’", "'")
        return text.encode(encoding, errors="replace").decode(encoding)

    def show(check: Check) -> None:
        # Details quote servers (error descriptions, titles, claims): escaped, one line each.
        print(f"{marks[check.status]} {fit(check.name)}: {fit(check.detail)}", flush=True)
        if check.todo:
            print(f"    {arrow} {fit(check.todo)}", flush=True)

    async def body(session: Any) -> int:
        s = session.settings
        if not args.json:
            where = f"the built-in sandbox ({s.base_url})" if s.is_sandbox else s.target_id
            print(fit(f"bonjoro-tui doctor: profile {s.profile!r}, target {where}"), flush=True)
        checks = await run_checks(session, timeout=args.timeout, on_check=None if args.json else show)
        if args.json:
            _print_json(report_json(s, checks))
        else:
            counts = {status: sum(1 for c in checks if c.status == status) for status in ("fail", "warn", "skip")}
            warnings = "1 warning" if counts["warn"] == 1 else f"{counts['warn']} warnings"
            print(f"{len(checks)} checks: {counts['fail']} failed, {warnings}, {counts['skip']} skipped")
        return EXIT_FAILURE if failed(checks) else EXIT_OK

    return await _with_session(settings, body)


# --------------------------------------------------------------------------- login


def _read_api_key() -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        key = getpass.getpass("Bonjoro API key (input hidden): ")
    else:
        key = sys.stdin.readline() if sys.stdin is not None else ""
    key = key.strip()
    if not key:
        raise UsageError("no API key given: pipe it on stdin or type it at the prompt (never on the command line)")
    return key


def _watch_stdin_for_redirect(loop: asyncio.AbstractEventLoop, paste: Callable[[str], None]) -> None:
    """Read stdin in a daemon thread; each line that looks like a URL is pasted into the login.

    A pasted URL that does not count (wrong state, not this sign-in's) is reported and the
    reading goes on; whichever comes first, the callback or a good paste, ends the wait.
    """

    async def attempt(url: str) -> bool:
        try:
            paste(url)
        except Exception as exc:  # noqa: BLE001 - reported; the wait goes on
            print(
                f"bonjoro-tui: the pasted URL was not accepted: {_one_line(exc)}; "
                "the sign-in is still waiting: paste another redirect URL, or complete it in the browser",
                file=sys.stderr,
                flush=True,
            )
            return False
        return True

    def reader() -> None:
        stream = sys.stdin
        if stream is None:
            return
        try:
            for line in stream:
                line = line.strip()
                if not line.startswith(("http://", "https://")):
                    continue
                if asyncio.run_coroutine_threadsafe(attempt(line), loop).result():
                    return
        except (OSError, ValueError, RuntimeError):
            return

    threading.Thread(target=reader, name="bonjoro-paste-reader", daemon=True).start()


def _open_in_browser(url: str) -> None:
    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        print("bonjoro-tui: could not open a browser; open the URL above yourself", file=sys.stderr)


async def cmd_login(args: argparse.Namespace, settings: Settings) -> int:
    from bonjoro_tui.account.signin import SignIn
    from bonjoro_tui.trust import endpoint_report

    method = SignInMethod.from_cli(args.method)
    approve = getattr(args, "approve", False)
    if approve and method is not SignInMethod.CODE:
        raise UsageError("--approve is for the authorization code sign-in (--method code): "
                         "the other methods open no consent page")
    api_key = _read_api_key() if method is SignInMethod.API_KEY else None

    async def body(session: Any) -> int:
        s = session.settings
        if approve and session.sandbox is None:
            # Approving without the user's browser is only for a server that is ours: never live.
            raise UsageError(
                f"--approve signs in without a browser only against the sandbox (built-in, or a sandbox "
                f"BONJORO_BASE_URL names); {s.target_id} is not one",
                hint="a server the working directory's .env names is never taken for the sandbox; "
                "set BONJORO_BASE_URL in the environment"
                if "base_url" in s.untrusted else "drop --approve and approve in your browser",
            )
        report = endpoint_report(s)
        if report:
            # Some endpoint comes from the working directory's .env: show where this sign-in goes.
            print("bonjoro-tui: settings from the .env in the working directory; this sign-in uses:", file=sys.stderr)
            for line in report:
                print(f"  {safe_text(line)}", file=sys.stderr)
        sign_in = SignIn(session)
        loop = asyncio.get_running_loop()
        approving: list[asyncio.Task[None]] = []

        async def approve_here(url: str) -> None:
            from bonjoro_tui.account.sandbox import approve_in_sandbox

            try:
                await approve_in_sandbox(url)
            except Exception as exc:  # noqa: BLE001 - said, and the sign-in stops instead of waiting
                print(f"bonjoro-tui: approving in the sandbox failed: {_one_line(exc)}", file=sys.stderr, flush=True)
                sign_in.cancel()

        def open_browser(url: str) -> bool:
            if approve:
                print("Approving at the sandbox's consent page (no browser: the sandbox is ours)…",
                      file=sys.stderr, flush=True)
                approving.append(loop.create_task(approve_here(url)))
                return True
            # The callback server is listening by now, so a pasted URL has somewhere to go.
            _watch_stdin_for_redirect(loop, sign_in.paste)
            print("Open this URL in a browser to sign in:", file=sys.stderr)
            # built from settings a .env may hold; with --json stdout is for the JSON document only
            print(safe_text(url), flush=True, file=sys.stderr if args.json else sys.stdout)
            print(
                "Waiting for the redirect… (or paste the URL the browser was sent to, then Enter)",
                file=sys.stderr,
                flush=True,
            )
            if args.no_browser:
                return False
            # webbrowser may wait for the browser command to exit (a BROWSER script does): never
            # block the event loop, which also serves the loopback callback.
            threading.Thread(target=_open_in_browser, args=(url,), name="bonjoro-browser", daemon=True).start()
            return True

        done = await sign_in.run(method, api_key=api_key, open_browser=open_browser, timeout=args.timeout)
        status = describe(s, done.profile, session.now()).to_json()
        if args.json:
            who = done.identity
            status["identity"] = {"name": who.name, "email": who.email, "id": who.id} if who is not None else None
            _print_json(status)
            return EXIT_OK
        expiry = f"expires at {status['expires_at']}" if status["expires_at"] else "does not expire"
        print(safe_text(f"Signed in: profile {s.profile!r} ({done.profile.method}) to {s.target_id}; token {expiry}."))
        if done.identity is not None:
            print(f"Signed in as {safe_text(done.identity.display)}.")  # server text: escaped
        return EXIT_OK

    return await _with_session(settings, body)


_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]] = {
    "login": cmd_login,
    "status": cmd_status,
    "refresh": cmd_refresh,
    "logout": cmd_logout,
    "paths": cmd_paths,
    "token": cmd_token,
    "exec": cmd_exec,
    "api": cmd_api,
    "profiles": cmd_profiles,
    "doctor": cmd_doctor,
}
