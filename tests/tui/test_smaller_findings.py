"""Issue 13 item 8: the smaller findings of the new-user review, each as a test."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from textual.widgets import Button

from bonjoro_tui.api.auth import RefreshEvent
from bonjoro_tui.api.errors import RefreshFailed
from bonjoro_tui.settings import load_settings
from bonjoro_tui.tui.errors import explain
from bonjoro_tui.tui.messages import RefreshHappened
from bonjoro_tui.tui.modals.confirm import ConfirmScreen
from bonjoro_tui.tui.screens.login import LoginScreen, client_credentials_warning

from .fakes import FakeSession
from .helpers import make_app, notifications, until
from .screen import screen_text


def _config(home, text: str):
    config = home / "config"
    config.mkdir(mode=0o700, exist_ok=True)
    (config / "config.toml").write_text(text)
    os.chmod(config / "config.toml", 0o600)
    return config / "config.toml"


async def test_keymap_conflicts_and_unknown_ids_are_reported_naming_both_ids_and_the_section(isolated_environment):
    path = _config(isolated_environment, '[keymap]\nexplorer = "e"\nstatus = "e"\nrefrsh = "f5"\n"login.copy" = "l"\n')
    app = make_app(FakeSession())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        shown = "\n".join(notifications(app))
        assert f"Unknown binding id in the [keymap] section of {path}: refrsh." in shown
        assert "e is bound to both explorer and status" in shown
        assert "l is bound to both login and login.copy" in shown  # a screen's key over the app's
        assert ("login", "login.cancel") not in {(a, b) for _, a, b in app.keymap_conflicts()}
    path.write_text("")  # the defaults alone conflict nowhere (q closes help and quits elsewhere on purpose)
    assert make_app(FakeSession()).keymap_conflicts() == []


async def test_the_theme_chosen_is_kept_in_config_toml_with_the_users_lines(isolated_environment):
    path = _config(isolated_environment, '# mine\nscope = "read"\n\n[keymap]\nrefresh = "ctrl+r"\n')
    app = make_app(FakeSession())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.theme = "nord"  # what the palette's "Change theme" does
        await pilot.pause()
        await pilot.pause()
    text = path.read_text()
    assert 'theme = "nord"' in text and "# mine" in text and 'refresh = "ctrl+r"' in text
    assert load_settings().theme == "nord"
    again = make_app(FakeSession())
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.theme == "nord"


def test_a_refresh_failure_is_said_once():
    what, _ = explain(RefreshFailed("the refresh failed: the token endpoint answered 503"))
    assert what == "The refresh failed: the token endpoint answered 503"
    what, _ = explain(RefreshFailed("network down"))
    assert what == "The refresh failed: network down"


async def test_one_toast_for_a_failed_auto_refresh_and_had_expired_when_it_had():
    session = FakeSession()
    p = session.sign_in(lifetime=30)
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.clear_notifications()
        # The client's failed refresh event: the worker that asked reports it; the event adds nothing.
        app.post_message(RefreshHappened(RefreshEvent(p.name, "expiring", False, session.now(), p.tokens.expires_at,
                                                      "the refresh failed: down")))
        await pilot.pause()
        assert notifications(app) == []
        # An automatic refresh that came after the expiry says so.
        session.now.t += 60
        fresh = replace(p, tokens=replace(p.tokens, access_token="new-access-0123456789", obtained_at=session.now(),
                                          expires_at=session.now() + 3600))
        session.store.save(fresh)
        app.post_message(RefreshHappened(RefreshEvent(p.name, "expiring", True, session.now(), session.now() + 3600)))
        await pilot.pause()
        assert any("(it had expired)" in m for m in notifications(app)), notifications(app)


async def test_signed_in_names_the_target_in_words():
    session = FakeSession()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        app.signed_in(session.sign_in(), None)
        await pilot.pause()
        assert "Signed in to the sandbox." in notifications(app)
        assert app.target_words == "the sandbox"


def test_the_client_credentials_warning_only_when_it_will_be_refused(monkeypatch):
    sandbox = load_settings().resolved_for_sandbox("http://127.0.0.1:8765")
    assert client_credentials_warning(sandbox) is None  # the sandbox's published client is used
    monkeypatch.setenv("BONJORO_CLIENT_ID", "sandbox-confidential")
    no_secret = load_settings().resolved_for_sandbox("http://127.0.0.1:8765")
    assert "will refuse" in client_credentials_warning(no_secret)
    monkeypatch.setenv("BONJORO_CLIENT_SECRET", "sandbox-secret")
    assert client_credentials_warning(load_settings().resolved_for_sandbox("http://127.0.0.1:8765")) is None


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_status_shows_only_the_client_fields_that_apply_and_its_buttons_whole(size):
    session = FakeSession()
    p = session.sign_in()
    session.store.save(replace(p, method="api_key", client_id=None,
                               tokens=replace(p.tokens, refresh_token=None, expires_at=None)))
    app = make_app(session)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "API key" in text and "Client id" not in text and "Client secret" not in text
        screen_box = app.screen.region
        for button in app.screen.query("#status-actions Button"):
            assert screen_box.contains_region(button.region), button
            assert button.region.width >= len(str(button.label)) + 2, button  # the label whole
        # Under a modal the footer offers only what works there.
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        footer = screen_text(app).splitlines()[-1]
        assert "Sign out" not in footer and "Refresh" not in footer and "Explorer" not in footer


async def test_notifications_do_not_cover_the_last_refresh_line_at_80x24():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("r")
        await app.workers.wait_for_complete()
        from textual.widgets._toast import Toast, ToastRack

        rack = app.screen.get_child_by_type(ToastRack)
        await until(pilot, lambda: list(rack.query(Toast)), "the Refreshed toast")
        line = app.screen.query_one("#last-refresh").region
        for toast in rack.query(Toast):
            assert not toast.region.overlaps(line), (toast.region, line)


async def test_after_a_failed_sign_in_l_opens_a_fresh_wizard():
    session = FakeSession()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("l")
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        await pilot.click("#method-key")
        await pilot.press(*"bad-key-0123456789", "enter")
        await until(pilot, lambda: screen.phase == "failed", "the attempt fails")
        await pilot.press("escape")  # to status
        await pilot.press("l")
        assert app.screen is screen and screen.phase == "choose"
        assert "Failed" not in screen_text(app)


async def test_sandbox_confidential_without_a_secret_is_not_called_a_public_client(monkeypatch):
    monkeypatch.setenv("BONJORO_CLIENT_ID", "sandbox-confidential")
    session = FakeSession()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "sandbox-confidential" in text and "public client" not in text
        assert "none configured" in text
