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
from bonjoro_tui.session import open_session
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


def test_first_frame_needs_neither_httpx_nor_the_other_screens(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BONJORO")}
    env.update(
        BONJORO_TUI_DATA_DIR=str(tmp_path / "data"),
        BONJORO_TUI_CONFIG_DIR=str(tmp_path / "config"),
        BONJORO_TUI_LOG_DIR=str(tmp_path / "log"),
        # A live-style client (no in-process sandbox); nothing listens there, and nothing needs to.
        BONJORO_CLIENT_ID="bench-client",
        BONJORO_BASE_URL="http://127.0.0.1:9",
        BROWSER="true",
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=100
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["httpx_before_run"] is False
    assert report["screens_before_run"] == ["bonjoro_tui.tui.screens.status"]
    assert report["mode"] == "status"
    assert report["explorer_after_start"] is False and report["login_after_start"] is False
    # Shown on demand, and the HTTP side is built when first used.
    assert report["screen_after_e"] == "ExplorerScreen"
    assert report["http_client"] == "AsyncClient"
