"""``DeferredSandbox`` (the dashboard's sandbox, issue 16): the socket is bound at once, the sandbox
loads and serves only when started, and a request sent before that waits for it instead of failing."""

import json
import subprocess
import sys
import threading
import urllib.request

from bonjoro_tui.sandbox.deferred import DeferredSandbox


def _get(url: str, out: list) -> None:
    with urllib.request.urlopen(url + "/.well-known/oauth-authorization-server", timeout=30) as r:
        out.append((r.status, json.loads(r.read())))


def test_a_request_before_it_serves_waits_and_is_answered(tmp_path):
    sandbox = DeferredSandbox(state_file=tmp_path / "state.json")
    try:
        assert sandbox.url.startswith("http://127.0.0.1:") and sandbox.port > 0
        assert sandbox.server is None and not (tmp_path / "state.json").exists()  # nothing loaded yet
        answers: list = []
        early = threading.Thread(target=_get, args=(sandbox.url, answers))
        early.start()
        early.join(0.3)
        assert early.is_alive() and not answers  # queued in the backlog, not refused
        sandbox.start_serving()
        early.join(30)
        assert answers and answers[0][0] == 200 and answers[0][1]["issuer"] == sandbox.url
        assert sandbox.state is sandbox.server.state
    finally:
        sandbox.stop()


def test_stopped_before_it_was_started(tmp_path):
    sandbox = DeferredSandbox(state_file=tmp_path / "state.json")
    sandbox.stop()
    sandbox.start_serving()  # too late: nothing starts
    assert sandbox.server is None


def test_the_dashboards_session_loads_no_uvicorn_before_it_serves(tmp_path):
    code = f"""
import sys
from bonjoro_tui.account.session import open_session
from bonjoro_tui.settings import load_settings
env = {{"BONJORO_TUI_DATA_DIR": {str(tmp_path / 'd')!r}, "BONJORO_TUI_CONFIG_DIR": {str(tmp_path / 'c')!r},
       "BONJORO_TUI_LOG_DIR": {str(tmp_path / 'l')!r}}}
from pathlib import Path
session = open_session(load_settings(env=env, cwd=Path({str(tmp_path)!r})), defer_sandbox=True, announce=True)
assert session.settings.base_url == session.sandbox.url
assert "uvicorn" not in sys.modules and "bonjoro_tui.sandbox.state" not in sys.modules, "loaded before serving"
session.serve_sandbox()
session.sandbox.wait()
assert session.sandbox.announced
session.close()
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]
