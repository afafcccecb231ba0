"""A sandbox reached through BONJORO_BASE_URL (`bonjoro-tui sandbox` elsewhere) is recognised by the
dashboard (it says so on GET /_sandbox/info): the SANDBOX badge, the approve key, "Signed in to
the sandbox" — while the tokens stay bound to that server's origin (issue 14, item 5)."""

from __future__ import annotations

import pytest

from bonjoro_tui.account.session import open_session
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.settings import load_settings
from bonjoro_tui.tui.screens.status import StatusScreen

from .helpers import make_app, notifications, start_code_flow, until
from .screen import screen_text

pytestmark = pytest.mark.integration


async def test_a_sandbox_named_by_base_url_is_shown_as_the_sandbox_and_approved_in(monkeypatch, tmp_path):
    with SandboxServer(state_file=tmp_path / "elsewhere.json") as elsewhere:
        monkeypatch.setenv("BONJORO_BASE_URL", elsewhere.url)
        monkeypatch.setenv("BONJORO_CLIENT_ID", "sandbox-public")
        session = open_session(load_settings())
        try:
            assert session.settings.recognised_sandbox and session.sandbox.recognised
            assert session.settings.target == "live" and session.settings.target_id == elsewhere.url
            app = make_app(session)
            async with app.run_test(size=(120, 36)) as pilot:
                await pilot.pause()
                assert isinstance(app.screen, StatusScreen)
                assert app.target_label == "SANDBOX" and "SANDBOX" in screen_text(app)
                screen = await start_code_flow(pilot)
                assert "approve in the sandbox (a)" in screen_text(app)
                await pilot.press("a")
                await until(pilot, lambda: screen.phase == "done", "the sign-in completes")
                await until(pilot, lambda: "Signed in to the sandbox." in notifications(app), "signed in, in words")
            profile = session.store.load("default")
            assert profile is not None and profile.target == elsewhere.url  # bound to that origin, as before
        finally:
            await session.aclose()
