"""The headless subcommands: login, status, refresh, logout, paths, api.

Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error, 4 not signed in.
Secrets never reach the output: ``status`` shows at most :func:`~bonjoro_tui.redact.mask`;
an API key is read from stdin or a hidden prompt, never from argv. Each command runs its own
event loop (``asyncio.run``).
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

API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class UsageError(BonjoroError):
    """Bad arguments that argparse could not catch: exit 2."""


def run_command(args: argparse.Namespace) -> int:
    handler = _COMMANDS[args.command]
    flags = {"profile": args.profile, "debug": args.debug, "callback_port": getattr(args, "port", None),
             "issuer": getattr(args, "issuer", None)}
    try:
        settings = load_settings(flags)
        for warning in settings.warnings:
            print(f"bonjoro-tui: warning: {safe_text(warning)}", file=sys.stderr)  # may quote a .env
        return asyncio.run(handler(args, settings))
    except UsageError as exc:
        return _fail(exc, EXIT_USAGE)
    except SettingsError as exc:
        # A bad setting is a usage error: the message names the flag, variable or file to fix.
        if args.command == "paths":
            _print_paths_best_effort(flags)
        return _fail(exc, EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("cancelled", 130)
    except BrokenPipeError:
        # The reader went away (`bonjoro-tui api GET /x | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line and an exit code
        return _fail(exc, _exit_code_for(exc))


def _exit_code_for(exc: BaseException) -> int:
    from bonjoro_tui.api.client import NotSignedIn

    return EXIT_NOT_SIGNED_IN if isinstance(exc, NotSignedIn) else EXIT_FAILURE


def _one_line(value: object) -> str:
    """``value`` on one line for the terminal: whitespace runs become one space; every control
    and bidi character is escaped first (``safe_text``), so ``\\r`` or ``\\x85`` show as escapes
    instead of vanishing into a space, and nothing from a server is written raw."""
    return " ".join(safe_text(value, multiline=True).split())


def _fail(reason: object, code: int) -> int:
    # The reason often quotes the server (an error_description, an API error message).
    text = _one_line(reason) or type(reason).__name__
    hint = getattr(reason, "hint", "")
    if hint:
        text += f" ({_one_line(hint)})"
    print(f"bonjoro-tui: {text}", file=sys.stderr)
    return code


def _print_json(data: Any, *, pretty: bool | None = None) -> None:
    if pretty is None:
        pretty = sys.stdout.isatty()
    # Still valid JSON that reads back to the same strings, with control and bidi characters
    # written as \uXXXX escapes (json.dumps(ensure_ascii=False) would write C1 and bidi raw).
    print(safe_json_dumps(data, indent=2 if pretty else None))


async def _with_session(settings: Settings, body: Callable[[Any], Awaitable[int]]) -> int:
    from bonjoro_tui.account.session import open_session

    session = open_session(settings)
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
    return lines


async def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from bonjoro_tui.store import TokenStore

    status = describe(settings, TokenStore(settings.store_path).load(settings.profile), time.time())
    if args.json:
        _print_json(status.to_json())
    else:
        print("\n".join(_status_lines(status, settings)))
    if status.signed_in:
        if status.blocked:
            print(f"bonjoro-tui: warning: every request of this profile would be refused: {_one_line(status.blocked)}",
                  file=sys.stderr)
        return EXIT_OK
    return _fail(f"not signed in: {status.reason}; run `bonjoro-tui login`", EXIT_NOT_SIGNED_IN)


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


async def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    method = args.method.upper()
    if method not in API_METHODS:
        raise UsageError(f"unknown method {args.method!r}; use one of {', '.join(API_METHODS)}")
    data = _read_data(args.data)

    async def body(session: Any) -> int:
        r = await session.client.request(method, args.path, json=data)
        if args.include:
            # The reason phrase and headers are server text: escaped, on a pipe too (they are
            # metadata, and httpx decodes them as Latin-1, so they are not the server's bytes anyway).
            print(f"HTTP/1.1 {r.status} {safe_text(r.reason)}")
            for name, value in r.headers.multi_items():
                print(f"{safe_text(name)}: {safe_text(value)}")
            print()
        if r.content:
            try:
                _print_json(r.json())
            except (ValueError, RecursionError):  # not JSON, or nested deeper than json can parse or print
                _print_body(r.content)
        if r.status == 401:
            return _fail("the server rejected the token (401 Unauthorized); run `bonjoro-tui login`", EXIT_NOT_SIGNED_IN)
        if not r.ok:
            message = r.error_message()
            return _fail(f"HTTP {r.status} {r.reason}" + (f": {message}" if message else ""), EXIT_FAILURE)
        return EXIT_OK

    return await _with_session(settings, body)


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
    api_key = _read_api_key() if method is SignInMethod.API_KEY else None

    async def body(session: Any) -> int:
        s = session.settings
        report = endpoint_report(s)
        if report:
            # Some endpoint comes from the working directory's .env: show where this sign-in goes.
            print("bonjoro-tui: settings from the .env in the working directory; this sign-in uses:", file=sys.stderr)
            for line in report:
                print(f"  {safe_text(line)}", file=sys.stderr)
        sign_in = SignIn(session)
        loop = asyncio.get_running_loop()

        def open_browser(url: str) -> bool:
            # The callback server is listening by now, so a pasted URL has somewhere to go.
            _watch_stdin_for_redirect(loop, sign_in.paste)
            print("Open this URL in a browser to sign in:", file=sys.stderr)
            print(safe_text(url), flush=True)  # built from settings a .env may hold
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
    "api": cmd_api,
    "doctor": cmd_doctor,
}
