"""What the TUI's first frame must not wait for: httpx, the explorer and the sign-in wizard.

Each check runs in a fresh interpreter (nothing imported by other tests leaks in). These are the
start-up savings measured by ``make bench`` (docs/PERFORMANCE.md); here only *what* is imported is
asserted, never how long anything took.
"""

import json
import os
import subprocess
import sys

CHILD = r"""
import asyncio, json, sys
from bonjoro_tui.account.session import open_session
from bonjoro_tui.settings import load_settings

report = {}
session = open_session(load_settings())
from bonjoro_tui.tui.app import BonjoroApp

app = BonjoroApp(session)
report["httpx_before_run"] = "httpx" in sys.modules
report["screens_before_run"] = sorted(m for m in sys.modules if m.startswith("bonjoro_tui.tui.screens."))


async def main():
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        report["mode"] = app.current_mode
        report["explorer_after_start"] = "bonjoro_tui.tui.screens.explorer" in sys.modules
        report["login_after_start"] = "bonjoro_tui.tui.screens.login" in sys.modules
        await pilot.press("e")
        await pilot.pause()
        report["screen_after_e"] = type(app.screen).__name__
        report["http_client"] = type(app.client.http).__name__
        await app.workers.wait_for_complete()


asyncio.run(main())
session.close()
print(json.dumps(report))
"""


def run_child(code: str, tmp_path) -> dict:
    """Run ``code`` in a fresh interpreter as a live-style client; return the JSON it printed last."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BONJORO")}
    env.update(
        BONJORO_TUI_DATA_DIR=str(tmp_path / "data"),
        BONJORO_TUI_CONFIG_DIR=str(tmp_path / "config"),
        BONJORO_TUI_LOG_DIR=str(tmp_path / "log"),
        # A live-style client (no in-process sandbox); nothing listens there: /me fails, and the app says so.
        BONJORO_CLIENT_ID="bench-client",
        BONJORO_BASE_URL="http://127.0.0.1:9",
        BROWSER="true",
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=100
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_first_frame_needs_neither_httpx_nor_the_other_screens(tmp_path):
    report = run_child(CHILD, tmp_path)
    assert report["httpx_before_run"] is False
    assert report["screens_before_run"] == ["bonjoro_tui.tui.screens.status"]
    assert report["mode"] == "status"
    assert report["explorer_after_start"] is False and report["login_after_start"] is False
    # Shown on demand, and the HTTP side is built when first used.
    assert report["screen_after_e"] == "ExplorerScreen"
    assert report["http_client"] == "AsyncClient"


SIGNED_IN_CHILD = r"""
import asyncio, json, sys, time
from bonjoro_tui.account.session import open_session
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile
from bonjoro_tui.tokens import TokenSet

settings = load_settings()
session = open_session(settings)
session.store.save(StoredProfile(
    settings.profile, settings.target_id, "code", settings.client_id,
    TokenSet("access-token-for-the-lazy-import-test", time.time(), refresh_token="refresh-token-for-the-test",
             expires_at=time.time() + 3600),
))
from textual.app import App
from bonjoro_tui.tui.app import BonjoroApp

report = {}
original = App._display


def display(self, screen, renderable):
    original(self, screen, renderable)
    if "first_frame_httpx" not in report and renderable is not None and screen.query("Footer"):
        report["first_frame_httpx"] = "httpx" in sys.modules
        report["first_frame_screen"] = type(screen).__name__


App._display = display
app = BonjoroApp(session)


async def main():
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        report["httpx_after_fetch"] = "httpx" in sys.modules
        report["client_built"] = session._client is not None
        report["ca_bundle_loaded"] = session.http._transport._pool._ssl_context.trust_loaded


asyncio.run(main())
session.close()
report["httpx_cli_imported"] = sys.modules.get("httpx._main") is not None or "click" in sys.modules
print(json.dumps(report))
"""


def test_signed_in_first_frame_comes_before_the_http_stack(tmp_path):
    """Signed in, the app fetches /me at start — after the first frame, with httpx loaded off the loop."""
    # As `bonjoro-tui` starts: the CLI module first.
    report = run_child("import bonjoro_tui.cli\n" + SIGNED_IN_CHILD, tmp_path)
    assert report["first_frame_screen"] == "StatusScreen"
    assert report["first_frame_httpx"] is False
    assert report["httpx_after_fetch"] is True and report["client_built"] is True
    # The target is plain http: the CA bundle was never needed, so never read (bonjoro_tui/tls.py).
    assert report["ca_bundle_loaded"] is False
    # httpx's own command-line tool (click, pygments) is kept out by bonjoro_tui.cli.
    assert report["httpx_cli_imported"] is False
