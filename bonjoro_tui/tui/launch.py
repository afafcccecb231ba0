"""``bonjoro-tui`` with no subcommand: resolve settings, open the session, run the dashboard.

A crash of the dashboard (an exception Textual did not expect: in a handler, a worker, a
render) ends the process with exit code 1 and one line on stderr::

    bonjoro-tui crashed: RuntimeError: what went wrong; the details are in /…/bonjoro-tui-crash.log

The full traceback is appended to that file in the log directory (0600 in 0700, never through a
symbolic link), with every secret the session knows masked and the usual token patterns
(``Bearer …``, ``access_token=…``) masked whatever their value, and with control characters
escaped so reading the log cannot drive the terminal. Textual's own crash report is not shown:
it prints the local variables of every frame, tokens among them.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from bonjoro_tui import locations
from bonjoro_tui.safetext import safe_text

#: The file in the log directory that collects crash reports (appended to, one record per crash).
CRASH_LOG_NAME = locations.CRASH_LOG_FILE
EXIT_CRASHED = 1


def run_tui(args: argparse.Namespace) -> int:
    from bonjoro_tui.account.session import open_session
    from bonjoro_tui.settings import SettingsError, load_settings

    flags = {"profile": getattr(args, "profile", None), "debug": getattr(args, "debug", None)}
    try:
        settings = load_settings(flags={k: v for k, v in flags.items() if v is not None})
    except SettingsError as exc:
        print(f"bonjoro-tui: {safe_text(exc)}", file=sys.stderr)
        return 1
    try:
        # Long-running: rotated tokens that a full disk cannot take are kept for this run.
        # Announced: the commands (and other dashboards) of this data directory use its sandbox.
        # Deferred: the sandbox's socket is bound here (its URL is known), and it loads and serves
        # after the first frame (BonjoroApp.on_mount): the first frame never waits for it.
        session = open_session(settings, keep_unsaved_tokens=True, announce=True, defer_sandbox=True)
    except Exception as exc:  # e.g. the sandbox could not start
        print(f"bonjoro-tui: could not start: {safe_text(exc)}", file=sys.stderr)
        return 1
    from bonjoro_tui.tui.app import BonjoroApp

    try:
        return run_app(lambda: BonjoroApp(session), log_dir=settings.log_dir, secrets=lambda: _session_secrets(session))
    finally:
        session.close()


def run_app(
    make_app: Callable[[], Any],
    *,
    log_dir: Path,
    secrets: Callable[[], Iterable[str | None]] = tuple,
    headless: bool = False,
) -> int:
    """Build and run a Textual app; its exit code, or :data:`EXIT_CRASHED` after a crash report.

    ``secrets`` is called only after a crash (the tokens in use then are the ones to mask).
    """
    from rich.console import Console

    held = io.StringIO()
    app = None
    try:
        app = make_app()
        # Textual prints its crash report (a traceback with every frame's locals) on this console
        # as the app exits; it is held here instead, and only an ordinary exit message is passed on.
        app.error_console = Console(file=held, markup=False, highlight=False, color_system=None, width=100)
        result = app.run(headless=headless)
    except Exception as exc:  # noqa: BLE001 - raised outside the app's own handling (building it, its driver)
        return report_crash(exc, log_dir=log_dir, secrets=_call(secrets))
    error = crash_of(app)
    if error is not None:
        return report_crash(error, log_dir=log_dir, secrets=_call(secrets))
    if held.getvalue():
        sys.stderr.write(held.getvalue())
    code = app.return_code
    return int(code) if code else int(result or 0)


def crash_of(app: Any) -> BaseException | None:
    """The exception that ended ``app`` (unwrapped from a failed worker), None after a normal exit."""
    error = getattr(app, "_exception", None)  # Textual keeps the first unhandled exception here
    if error is None:
        return None
    inner = getattr(error, "error", None)  # textual.worker.WorkerFailed wraps the worker's exception
    if type(error).__name__ == "WorkerFailed" and isinstance(inner, BaseException):
        return inner
    return error


def report_crash(error: BaseException, *, log_dir: Path, secrets: Iterable[str | None] = ()) -> int:
    """Append the redacted traceback of ``error`` to the crash log; one line on stderr; 1."""
    import traceback

    from bonjoro_tui import __version__
    from bonjoro_tui.redact import Redactor
    from bonjoro_tui.safetext import safe_text

    redact = Redactor(secrets)
    try:
        message = str(error)
    except Exception:  # noqa: BLE001 - an exception whose str() fails still gets reported
        message = "(the message could not be read)"
    summary = safe_text(redact(f"{type(error).__name__}: {message}" if message else type(error).__name__), limit=300)
    details = redact("".join(traceback.format_exception(error)))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    record = f"---- bonjoro-tui {__version__} crashed at {stamp} (pid {os.getpid()})\n"
    record += safe_text(details, multiline=True).rstrip("\n") + "\n\n"
    try:
        path = _append_private(Path(log_dir), CRASH_LOG_NAME, record)
    except OSError as exc:
        print(
            f"bonjoro-tui crashed: {summary}; the details could not be written to "
            f"{safe_text(os.fspath(log_dir))} ({safe_text(exc)})",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_CRASHED
    print(f"bonjoro-tui crashed: {summary}; the details are in {safe_text(os.fspath(path))}", file=sys.stderr, flush=True)
    return EXIT_CRASHED


def _append_private(log_dir: Path, name: str, text: str) -> Path:
    """Append ``text`` to ``log_dir/name``: 0600 in a 0700 directory, never through a symbolic link."""
    path = log_dir / name
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    try:
        from bonjoro_tui.files import open_private, private_dir
    except ImportError:  # pragma: no cover - bonjoro_tui.files (the private-file helpers) not there
        import stat

        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o600)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(f"{path} is not a regular file")
        os.fchmod(fd, 0o600)
    else:
        private_dir(log_dir, label="log directory")
        fd = open_private(path, flags, label="crash log")
    with os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace") as f:
        f.write(text)
    return path


def _session_secrets(session: Any) -> list[str | None]:
    """Every secret the session knows: the client secret and each profile's tokens (unsaved ones too)."""
    secrets: list[str | None] = [getattr(session.settings, "client_secret", None)]
    profiles: list[Any] = []
    try:
        profiles.append(session.load_profile())
    except Exception:  # noqa: BLE001 - a broken store must not stop the crash report
        pass
    try:
        store = session.store
        profiles += [store.load(name) for name in store.names()]
    except Exception:  # noqa: BLE001
        pass
    for profile in profiles:
        tokens = getattr(profile, "tokens", None)
        if tokens is not None:
            secrets += [tokens.access_token, tokens.refresh_token]
    return secrets


def _call(secrets: Callable[[], Iterable[str | None]]) -> list[str | None]:
    try:
        return list(secrets())
    except Exception:  # noqa: BLE001 - without them the token patterns are still masked
        return []
