"""The dashboard against the real core and the in-process sandbox, over real loopback sockets.

The happy walk: first launch signed out → login wizard → approve in the sandbox → signed in →
explorer GET /me → refresh by key → auto-refresh once the injected clock passes expiry → logout.
Then each failure path the wizard and the explorer must survive.
"""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from textual.widgets import Input

from bonjoro_tui.auth.login import login_api_key
from bonjoro_tui.sandbox import browser
from bonjoro_tui.tui.keyguard import PAUSE
from bonjoro_tui.tui.screens.explorer import ExplorerScreen
from bonjoro_tui.tui.screens.login import LoginScreen
from bonjoro_tui.tui.screens.status import StatusScreen
from bonjoro_tui.tui.widgets.json_tree import JsonTree
from bonjoro_tui.tui.widgets.steps import StepList

from .helpers import make_app, notifications, start_code_flow, until
from .screen import screen_text

pytestmark = pytest.mark.integration


async def test_walk_sign_in_explore_refresh_auto_refresh_logout(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StatusScreen)
        assert "not signed in — press l" in screen_text(app)

        screen = await start_code_flow(pilot)
        assert "no browser here: approve in the sandbox (a)" in screen.query_one(StepList).step("BROWSER").detail
        assert screen.url.startswith(session.settings.authorize_url)
        await pilot.press("c")
        assert app.clipboard == screen.url

        clock.t += PAUSE  # a person pauses between two shortcuts; "ca" typed at once would be a word
        await pilot.press("a")  # approve in the sandbox: the flow completes inside the terminal
        await until(pilot, lambda: screen.phase == "done", "the sign-in completes")
        assert [s.state for s in screen.query_one(StepList).steps] == ["done"] * 8
        assert "Signed in as Alex Sandbox" in screen_text(app)
        profile = session.store.load(session.settings.profile)
        assert profile is not None and profile.method == "code"

        await pilot.press("enter")  # "Go to status" is focused
        assert isinstance(app.screen, StatusScreen)
        await until(pilot, lambda: "Alex Sandbox" in screen_text(app), "the status shows the user")
        assert "expires in 1h 00m 00s" in screen_text(app)

        await pilot.press("e")
        explorer = app.screen
        assert isinstance(explorer, ExplorerScreen)
        await until(pilot, lambda: explorer.history and explorer.history[0].status == 200, "GET /me is sent")
        await until(pilot, lambda: "Alex Sandbox" in screen_text(app), "/me is shown as a tree")
        assert explorer.query_one(JsonTree).root.data.value["name"] == "Alex Sandbox"

        await pilot.press("escape", "s")  # the explorer opens in its path field: escape leaves it
        first = app.profile.tokens.access_token
        clock.t += 1800
        await until(pilot, lambda: "expires in 30m 00s" in screen_text(app), "the countdown ticks")
        await pilot.press("r")
        await until(pilot, lambda: app.profile.tokens.access_token != first, "r refreshes")
        await until(pilot, lambda: "expires in 1h 00m 00s" in screen_text(app), "the countdown jumps back")
        assert "Last refresh" in screen_text(app)

        second = app.profile.tokens.access_token
        events_before = app.refresh_events
        clock.t += 3600 + 5  # past expiry: the dashboard lets the client refresh on its own
        await until(pilot, lambda: app.profile and app.profile.tokens.access_token != second, "auto-refresh")
        await until(pilot, lambda: app.refresh_events > events_before, "the refresh event reached the app")
        assert any("refreshed automatically" in m for m in notifications(app))
        await until(pilot, lambda: "expires in 1h 00m 00s" in screen_text(app), "full lifetime again")

        await pilot.press("x")
        await pilot.pause()
        assert app.profile is not None  # signing out asks first
        await pilot.press("tab", "enter")  # focus starts on Cancel: Tab to "Sign out", then enter
        await until(pilot, lambda: app.profile is None, "logout")
        assert session.store.load(session.settings.profile) is None
        assert any("revoked" in m for m in notifications(app))
        assert "not signed in — press l" in screen_text(app)


async def test_denied_consent_stops_at_waiting_with_what_to_do(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_code_flow(pilot)
        await browser.approve(screen.url, decision="deny")
        await until(pilot, lambda: screen.phase == "failed", "the wizard reports the refusal")
        assert screen.query_one(StepList).step("WAITING").state == "failed"
        text = screen_text(app)
        assert "Failed:" in text and "What to do:" in text and "denied" in text.lower()
        assert session.store.load(session.settings.profile) is None


async def test_pasted_url_with_wrong_state_is_refused_and_the_wait_goes_on(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_code_flow(pilot)
        redirect_uri = parse_qs(urlsplit(screen.url).query)["redirect_uri"][0]
        forged = f"{redirect_uri}?{urlencode({'code': 'forged-code', 'state': 'not-the-state'})}"
        paste = screen.query_one("#paste", Input)
        paste.value = forged
        paste.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "state" in str(screen.query_one("#paste-error").render()).lower()
        assert screen.phase == "running"
        # the genuine approval still completes the sign-in
        await browser.approve(screen.url)
        await until(pilot, lambda: screen.phase == "done", "the genuine callback completes")


async def test_timeout_fails_at_waiting(session, clock):
    app = make_app(session, clock, login_timeout=0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("l", "enter")
        screen = app.screen
        await until(pilot, lambda: screen.phase == "failed", "the wait times out")
        assert screen.query_one(StepList).step("WAITING").state == "failed"
        assert "What to do:" in screen_text(app)


async def test_escape_cancels_and_closes_the_callback_server(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_code_flow(pilot)
        redirect = urlsplit(parse_qs(urlsplit(screen.url).query)["redirect_uri"][0])
        await pilot.press("escape")
        await until(pilot, lambda: screen.phase == "failed", "the sign-in is cancelled")
        assert "cancel" in screen_text(app).lower()
        with pytest.raises(OSError):
            socket.create_connection((redirect.hostname, redirect.port), timeout=1).close()
        await pilot.press("escape")  # a second escape leaves the wizard
        assert isinstance(app.screen, StatusScreen)


async def test_token_endpoint_500_fails_at_exchange_and_saves_nothing(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_code_flow(pilot)
        session.sandbox.state.fail_next(1, 500, "token")
        await pilot.press("a")
        await until(pilot, lambda: screen.phase == "failed", "the exchange fails")
        assert screen.query_one(StepList).step("EXCHANGING").state == "failed"
        assert "500" in screen_text(app)
        assert session.store.load(session.settings.profile) is None
        assert isinstance(app.screen, LoginScreen)


async def _api_key_wizard(pilot) -> tuple[LoginScreen, Input]:
    """The wizard open (l) with API key chosen: its screen and the key field."""
    await pilot.press("l")
    screen = pilot.app.screen
    screen.query_one("#method-key").value = True
    await pilot.pause()
    return screen, screen.query_one("#api-key", Input)


async def test_api_key_sign_in_through_the_wizard(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, key = await _api_key_wizard(pilot)
        assert key.password
        key.value = "sandbox-api-key"
        key.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.phase == "done", "the API key works")
        assert "sandbox-api-key" not in screen_text(app)
        assert app.profile.method == "api_key"


async def test_enter_with_no_api_key_asks_for_it_and_fails_nothing(session, clock):
    """A reviewer: with API key the method chosen (it is remembered), enter at once 'failed' with
    'ValueError: no API key was entered'. Nothing was tried: the field is asked for, that's all."""
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, key = await _api_key_wizard(pilot)
        await pilot.click("#start")
        await pilot.pause()
        assert screen.phase != "failed" and "ValueError" not in screen_text(app)
        assert app.focused is key
        assert any("Type or paste your API key first" in n for n in notifications(app))
        app.focused.value = "sandbox-api-key"
        await pilot.press("enter")
        await until(pilot, lambda: screen.phase == "done", "then the key works")


async def test_network_error_in_the_explorer_is_inline(session, clock):
    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        session.sandbox.stop()  # the server goes away
        await pilot.press("e")
        explorer = app.screen
        await until(pilot, lambda: explorer.history and explorer.history[0].error, "the request fails")
        text = screen_text(app)
        assert "Request failed" in text and "could not reach" in text.lower()
        assert isinstance(app.screen, ExplorerScreen)


async def test_client_credentials_through_the_wizard_with_the_secret_masked(clock):
    from bonjoro_tui.sandbox import SandboxServer
    from bonjoro_tui.account.session import open_session
    from bonjoro_tui.settings import load_settings

    with SandboxServer(now=clock) as sandbox:
        env = {
            "BONJORO_BASE_URL": sandbox.url,
            "BONJORO_CLIENT_ID": "sandbox-confidential",
            "BONJORO_CLIENT_SECRET": "sandbox-secret",
        }
        import os

        settings = load_settings(env={**os.environ, **env})
        session = open_session(settings, now=clock)
        try:
            app = make_app(session, clock)
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.press("l")
                screen = app.screen
                screen.query_one("#method-client").value = True
                await pilot.pause()
                screen.query_one("#start").press()
                await until(pilot, lambda: screen.phase == "done", "client credentials sign-in")
                assert app.profile.method == "client_credentials"
                await pilot.press("enter")
                await until(pilot, lambda: app.user is not None, "the status shows the account")
                text = screen_text(app)
                # A sandbox BONJORO_BASE_URL names says so (/_sandbox/info): shown as one (issue 14, item 5).
                assert "SANDBOX" in text and sandbox.url in text
                assert "sandbox-secret" not in text and "sandbox…(14 chars)" not in text
                assert "(14 chars)" in text  # the secret, masked
        finally:
            await session.http.aclose()
            session.close()


async def _signed_in_by_wizard(pilot) -> None:
    screen = await start_code_flow(pilot)
    await pilot.press("a")
    await until(pilot, lambda: screen.phase == "done", "signed in")
    await pilot.press("enter")


async def test_refresh_against_a_failing_token_endpoint_keeps_the_tokens(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await _signed_in_by_wizard(pilot)
        before = session.store.load(session.settings.profile).tokens
        session.sandbox.state.fail_next(1, 500, "token")
        await pilot.press("r")
        await until(pilot, lambda: any("refresh failed" in m.lower() for m in notifications(app)), "reported")
        assert session.store.load(session.settings.profile).tokens == before
        assert app.profile is not None and isinstance(app.screen, StatusScreen)


async def test_revoked_refresh_token_signs_out_with_sign_in_again(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await _signed_in_by_wizard(pilot)
        session.sandbox.state.revoke_all()
        await pilot.press("r")
        await until(pilot, lambda: app.profile is None, "signed out")
        assert any("sign in again" in m.lower() for m in notifications(app)), notifications(app)
        # The status screen says why (a new user saw only "not signed in" and "Last refresh: never")
        await pilot.pause()
        text = " ".join(screen_text(app).replace("│", " ").split())
        assert "signed out at" in text and "the refresh token was refused" in text, text
        assert "Last refresh: never" not in text and "press l to sign in again" in text
        assert not any("bonjoro-tui login" in m for m in notifications(app))  # no CLI advice in the dashboard


async def test_with_a_browser_the_url_is_opened_and_o_opens_it_again(session, clock):
    opened: list[str] = []

    def browser_stub(url: str) -> bool:
        opened.append(url)
        return True

    app = make_app(session, clock, open_browser=browser_stub)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_code_flow(pilot)
        assert opened == [screen.url]
        assert screen.query_one(StepList).step("BROWSER").detail == "opened the URL below in your browser"
        await pilot.press("o")
        assert opened == [screen.url, screen.url]
        await pilot.press("escape")
        await until(pilot, lambda: screen.phase == "failed", "cancelled")


async def test_a_full_disk_after_a_refresh_keeps_the_new_tokens_and_says_so(session, clock, monkeypatch):
    """The dashboard's client keeps rotated tokens the store cannot take, uses them, saves them later."""
    import errno
    import os

    session.client.auth.keep_unsaved = True  # as run_tui opens its session (keep_unsaved_tokens=True)
    app = make_app(session, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await _signed_in_by_wizard(pilot)
        on_disk = session.store.path.read_bytes()
        data_dir = str(session.store.path.parent)
        full = {"on": True}
        real_fsync = os.fsync

        def fsync(fd):
            # the token store's files only (the in-process sandbox keeps its state in a subfolder)
            if full["on"] and os.path.dirname(os.readlink(f"/proc/self/fd/{fd}")) == data_dir:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        first = app.profile.tokens.access_token
        await pilot.press("r")
        await until(pilot, lambda: any("could not be saved" in m for m in notifications(app)), "the warning")
        assert any("the disk is full" in m for m in notifications(app)), notifications(app)
        assert app.profile.tokens.access_token != first  # the status shows the tokens in use
        await until(pilot, lambda: "Last refresh: ok, but not saved (kept in memory)" in screen_text(app), "the line")
        assert session.store.path.read_bytes() == on_disk

        full["on"] = False
        clock.t += PAUSE  # the toast was read: e is a shortcut again, not the second letter of a word
        await pilot.press("e")  # any use of the profile saves what is held
        await app.workers.wait_for_complete()
        await until(pilot, lambda: any("saved now" in m for m in notifications(app)), "saved once there is room")
        stored = session.store.load(session.settings.profile)
        assert stored.tokens.access_token == app.profile.tokens.access_token != first
        assert stored.last_refresh_result == "ok"
