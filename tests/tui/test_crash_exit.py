"""A crash of the dashboard exits non-zero with a one-line pointer to the log, and no token.

The real entry point (``bonjoro_tui.cli.main``, as the ``bonjoro-tui`` script runs it) runs in a
child process on a pseudo-terminal, with the data, config and log directories in tmp. The child
replaces ``BonjoroApp`` by a subclass that crashes — in ``on_mount``, or in a worker — so the
crash goes through the very launch and exit-code path of a real one; nothing in the product
offers a way to crash on purpose.
"""

from __future__ import annotations

import os
import pty
import re
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from textual.app import App

from bonjoro_tui.tui.launch import CRASH_LOG_NAME, report_crash, run_app

pytestmark = pytest.mark.integration

TOKEN = "eyJhbGciOiJIUzI1NiJ9.crash-test-access-token-4f1c9a7e2b"
REFRESH = "crash-test-refresh-token-8d3e6b0a5c"

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from textual import work
    from bonjoro_tui.store import StoredProfile, TokenStore
    from bonjoro_tui.settings import load_settings
    from bonjoro_tui.tokens import TokenSet
    from bonjoro_tui.tui import app as app_module

    settings = load_settings()
    TokenStore(settings.store_path).save(StoredProfile(
        settings.profile, settings.target_id, "code", "sandbox-public",
        TokenSet(sys.argv[2], time.time(), refresh_token=sys.argv[3], expires_at=time.time() + 3600)))

    class Crashing(app_module.BonjoroApp):
        # a relative CSS_PATH is read next to the file of the class: this one has no file
        CSS_PATH = str(Path(app_module.__file__).with_name(app_module.BonjoroApp.CSS_PATH))

        def on_mount(self):
            token = self.session.load_profile().tokens.access_token  # a local holding the token
            if sys.argv[1] == "mount":
                raise RuntimeError("boom \\x1b]0;owned\\x07 [/x] Authorization: Bearer " + token)
            self.explode()

        @work(exclusive=True)
        async def explode(self):
            refresh = self.session.load_profile().tokens.refresh_token
            raise ValueError("in a worker: refresh_token=" + refresh + " and " + refresh)

    app_module.BonjoroApp = Crashing
    from bonjoro_tui.cli import main
    sys.exit(main([]))
    """
)


def run_on_a_terminal(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, bytes]:
    """Run ``args`` on a pseudo-terminal, as a user does; its exit code and every byte it wrote.

    Textual draws on stderr (its driver writes the screen there), so stdin, stdout and stderr
    are all the terminal, as they are for a user.
    """
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    written: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            written.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
        os.close(master)
    return proc.returncode, b"".join(written)


#: What a terminal obeys rather than shows: CSI and OSC sequences, BEL.
_SEQUENCES = re.compile(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\\\)|\x07")


def printed_after_the_app(written: bytes) -> list[str]:
    """The lines of text written once the app left the alternate screen (sequences removed)."""
    assert b"\x1b[?1049l" in written, "the app never restored the terminal"
    after = written.rsplit(b"\x1b[?1049l", 1)[1]
    return [line for line in _SEQUENCES.sub(b"", after).decode("utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("where", ["mount", "worker"])
def test_a_crash_exits_1_with_one_line_and_a_redacted_log(where, isolated_environment):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    env.update(TERM="xterm-256color", COLUMNS="100", LINES="30", NO_PROXY="127.0.0.1,localhost")
    code, written = run_on_a_terminal([sys.executable, "-c", CHILD, where, TOKEN, REFRESH], env)

    log = Path(env["BONJORO_TUI_LOG_DIR"]) / CRASH_LOG_NAME
    lines = printed_after_the_app(written)
    assert code == 1, (code, lines)
    assert len(lines) == 1, lines
    if where == "mount":
        assert lines[0].startswith(
            "bonjoro-tui crashed: RuntimeError: boom \\x1b]0;owned\\x07 [/x] Authorization: Bearer eyJhbG…("
        )
    else:
        assert lines[0].startswith("bonjoro-tui crashed: ValueError: in a worker: refresh_token=")
    assert lines[0].endswith(f"; the details are in {log}")

    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert ("in explode" in text) if where == "worker" else ("in on_mount" in text and "RuntimeError: boom" in text)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    for secret in (TOKEN, REFRESH):
        assert secret not in text, "a token in full in the crash log"
        assert secret.encode() not in written, "a token in full on the terminal (Textual's own report?)"
    assert "\x1b" not in text and "\x07" not in text  # escaped in the log too: reading it is safe
    assert b"owned\x07" not in written  # the title sequence was never written raw
    assert b"Traceback" not in written  # only the one line: the traceback is in the log


def test_a_second_crash_appends_and_a_symlinked_log_is_refused(tmp_path, capsys):
    logs = tmp_path / "logs"
    for n in (1, 2):
        assert report_crash(KeyError(f"crash {n}"), log_dir=logs) == 1
    text = (logs / CRASH_LOG_NAME).read_text()
    assert text.count("crashed at") == 2 and "KeyError: 'crash 1'" in text and "KeyError: 'crash 2'" in text
    assert [line.split(";")[0] for line in capsys.readouterr().err.splitlines()] == [
        "bonjoro-tui crashed: KeyError: 'crash 1'", "bonjoro-tui crashed: KeyError: 'crash 2'"]

    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep me\n")
    (logs / CRASH_LOG_NAME).unlink()
    (logs / CRASH_LOG_NAME).symlink_to(elsewhere)
    assert report_crash(RuntimeError("boom"), log_dir=logs) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("bonjoro-tui crashed: RuntimeError: boom; the details could not be written")
    assert elsewhere.read_text() == "keep me\n"


class _Quits(App):
    def on_mount(self) -> None:
        self.exit(message="goodbye")


class _Fails(App):
    def compose(self):
        raise LookupError("compose failed")
        yield  # pragma: no cover


def test_run_app_passes_a_normal_exit_through(tmp_path, capsys):
    assert run_app(_Quits, log_dir=tmp_path / "logs", headless=True) == 0
    assert capsys.readouterr().err.strip() == "goodbye"
    assert not (tmp_path / "logs").exists()


def test_run_app_reports_a_crash_in_compose_and_when_building_the_app(tmp_path, capsys):
    assert run_app(_Fails, log_dir=tmp_path / "logs", headless=True) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("bonjoro-tui crashed: LookupError: compose failed; the details are in ")

    def broken():
        raise TypeError("cannot build")

    assert run_app(broken, log_dir=tmp_path / "logs", headless=True) == 1
    assert capsys.readouterr().err.startswith("bonjoro-tui crashed: TypeError: cannot build;")
    assert (tmp_path / "logs" / CRASH_LOG_NAME).read_text().count("crashed at") == 2
