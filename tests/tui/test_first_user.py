"""Defects a first-time user found in the dashboard, each pinned by a Pilot test.

Wizard and sign-in paths run against the real core and sandbox (loopback sockets); wiring and
layout use the stand-in session of fakes.py.
"""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Button, Input, RadioSet, Tree

from bonjoro_tui.auth.login import login_api_key
from bonjoro_tui.sandbox import browser
from bonjoro_tui.store import StoredProfile
from bonjoro_tui.tokens import TokenSet
from bonjoro_tui.tui.app import BonjoroApp
from bonjoro_tui.tui.modals.confirm import ConfirmScreen
from bonjoro_tui.tui.screens.explorer import ExplorerScreen
from bonjoro_tui.tui.modals.help import HelpScreen
from bonjoro_tui.tui.screens.login import LoginScreen
from bonjoro_tui.tui.modals.url import UrlScreen
from bonjoro_tui.tui.widgets.json_tree import JsonTree
from bonjoro_tui.tui.widgets.steps import StepList

from .fakes import FakeSession
from .helpers import make_app, notifications, start_code_flow, until
from .screen import screen_text


def api_key_profile(session, key: str = "another-api-key-0123456789") -> StoredProfile:
    return StoredProfile(session.settings.profile, session.settings.target_id, "api_key", "sandbox-public",
                         TokenSet(key, session.now(), token_type="Bearer", expires_at=None))


# ---- 1. a wrong API key ------------------------------------------------------------------------


@pytest.mark.integration
async def test_a_refused_api_key_is_not_saved_and_the_previous_sign_in_stays(session, clock):
    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("l")
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        await pilot.press("down", "down", "enter")  # the method list has focus: choose "API key"
        assert screen.method == "api_key" and app.focused.id == "api-key"
        await pilot.press(*"wrong-key-123", "enter")
        await until(pilot, lambda: screen.phase == "failed", "the key is refused")
        text = screen_text(app)
        outcome = str(screen.query_one("#outcome").render())
        assert "API key was rejected (401)" in outcome and "previous sign-in is unchanged" in outcome
        assert "Not signed in" not in text and "Press l to sign in" not in text
        assert screen.query_one(StepList).step("CHECKING").state == "failed"
        stored = session.store.load(session.settings.profile)
        assert stored.tokens.access_token == "sandbox-api-key"
        assert app.profile is not None and app.profile.tokens.access_token == "sandbox-api-key"
        assert "wrong-key-123" not in text


# ---- 2. the status screen follows the store ------------------------------------------------------


async def test_status_reads_the_store_again_when_shown():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Authorization code + PKCE" in screen_text(app)
        await pilot.press("e")
        await app.workers.wait_for_complete()
        session.store.save(api_key_profile(session))  # another process signs in with an API key
        await pilot.press("escape", "s")  # the explorer opens in its path field: escape leaves it
        await pilot.pause()
        text = screen_text(app)
        assert "API key" in text and "does not expire" in text
        assert app.profile.method == "api_key"


async def test_refresh_on_an_api_key_says_keys_cannot_be_refreshed():
    session = FakeSession()
    session.store.save(api_key_profile(session))
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await app.workers.wait_for_complete()
        messages = notifications(app)
        assert any("API keys cannot be refreshed" in m for m in messages), messages
        assert not any("try again later" in m for m in messages)
        assert app.screen.query_one("#do-refresh", Button).disabled


# ---- 3. the last refresh ticks ------------------------------------------------------------------


async def test_last_refresh_age_ticks_with_the_countdown():
    session = FakeSession()
    p = session.sign_in()
    session.store.save(StoredProfile(p.name, p.target, p.method, p.client_id, p.tokens, session.now(), "ok"))
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "(0s ago)" in screen_text(app)
        session.now.t += 65
        await pilot.pause(0.2)
        assert "(1m 05s ago)" in screen_text(app)


# ---- 4. keymap ------------------------------------------------------------------------------------


async def test_keymap_relabels_buttons_and_hints_and_warns_about_unknown_ids(isolated_environment):
    config = isolated_environment / "config"
    config.mkdir()
    (config / "config.toml").write_text('[keymap]\nrefresh = "ctrl+r"\nlogin = "ctrl+l"\nrefersh = "f5"\n')
    session = FakeSession()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "press ^l" in text and "press l" not in text
        assert str(app.screen.query_one("#do-refresh", Button).label) == "Refresh (^r)"
        assert str(app.screen.query_one("#do-login", Button).label) == "Sign in (^l)"
        assert any("refersh" in m and "Unknown binding id" in m for m in notifications(app))
        await pilot.press("r")
        await app.workers.wait_for_complete()
        assert not any("press l" in m for m in notifications(app))


def test_the_app_knows_every_screen_binding_id():
    from bonjoro_tui.tui.modals.profiles import ProfilesScreen
    from bonjoro_tui.tui.modals.save import SaveBodyScreen
    from bonjoro_tui.tui.modals.token import TokenScreen
    from bonjoro_tui.tui.widgets.response import ResponseView

    screens = [LoginScreen, ExplorerScreen, HelpScreen, ConfirmScreen, UrlScreen, TokenScreen, ProfilesScreen,
               SaveBodyScreen, ResponseView]
    ids = {b.id for s in screens for b in s.__dict__.get("BINDINGS", [])}
    assert ids == set(BonjoroApp.SCREEN_BINDING_IDS)


# ---- 5. explorer: escape gives the keys back -----------------------------------------------------


async def test_escape_leaves_an_explorer_field_so_question_mark_opens_help():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        path = app.screen.query_one("#path", Input)
        path.focus()
        await pilot.press("?")
        assert path.value.endswith("?")  # typed into the field, as it should be
        await pilot.press("escape")
        assert not isinstance(app.focused, Input)
        await pilot.press("?")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        app.screen.query_one("#query", Input).focus()
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


# ---- 6. wizard focus, paste anywhere --------------------------------------------------------------


async def test_the_wizard_opens_on_the_method_list():
    session = FakeSession()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("l")
        assert isinstance(app.focused, RadioSet)
        await pilot.press("down", "enter")
        assert app.screen.method == "client_credentials"
        assert app.focused.id == "start"


@pytest.mark.integration
async def test_a_paste_anywhere_while_waiting_completes_the_sign_in_and_clears_the_field(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_code_flow(pilot)
        assert "c copies it" in screen_text(app)
        await pilot.press("u")  # the URL alone, no border around it
        shown = screen_text(app)
        assert "│" not in shown and "╭" not in shown
        assert "".join(line.rstrip() for line in shown.splitlines()).find(screen.url) >= 0
        await pilot.press("escape")
        assert app.screen is screen
        assert not isinstance(app.focused, Input)
        redirect = await browser.approve(screen.url, deliver=False)
        app.post_message(events.Paste(redirect))
        await until(pilot, lambda: screen.phase == "done", "the pasted redirect completes the sign-in")
        assert screen.query_one("#paste", Input).value == ""


# ---- 8. messages ----------------------------------------------------------------------------------


@pytest.mark.integration
async def test_cancelling_the_wizard_is_not_reported_as_a_failure(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_code_flow(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: screen.phase == "failed", "the sign-in is cancelled")
        text = screen_text(app)
        assert "Sign-in cancelled; press enter or l to start again" in text
        assert "Failed" not in text
        await pilot.press("l")
        assert screen.phase == "choose"


async def test_sign_out_asks_first_and_the_buttons_say_sign_in_again():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "x Sign out" in screen_text(app)
        assert str(app.screen.query_one("#do-login", Button).label) == "Sign in again (l)"
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        dialog = app.screen.query_one("#confirm-dialog")
        assert app.screen.region.contains_region(dialog.region) and dialog.region.height >= 4
        await pilot.press("n")
        await app.workers.wait_for_complete()
        assert app.profile is not None
        await pilot.press("x", "y")  # a letter never confirms
        await pilot.pause()
        assert app.profile is not None and isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.profile is None
        assert str(app.screen.query_one("#do-login", Button).label) == "Sign in (l)"


# ---- 7. explorer polish ---------------------------------------------------------------------------


def _leaf_labels(tree: Tree) -> dict[tuple[str, str], str]:
    labels = {}
    for group in tree.root.children:
        for leaf in group.children:
            if leaf.data is not None:
                labels[(leaf.data.method, leaf.data.path)] = str(leaf.label)
    return labels


async def test_catalog_is_legible_and_marks_what_the_sandbox_serves():
    session = FakeSession(sandbox=object())  # the target is the sandbox
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        tree = app.screen.query_one("#catalog", Tree)
        labels = _leaf_labels(tree)
        assert "DELETE /greets/{greet_id}" in labels[("DELETE", "/greets/{greet_id}")]
        assert labels[("GET", "/me")].startswith("●") and labels[("POST", "/profiles")].startswith("●")
        # the sandbox answers every published operation (issue 15): every leaf is marked
        assert all(label.startswith("●") for label in labels.values()), [k for k, v in labels.items() if not v.startswith("●")]
        assert tree.styles.overflow_x == "hidden"
        pane = app.screen.query_one("#catalog-pane")
        narrow = pane.region.width
        tree.focus()
        await pilot.pause()
        assert pane.region.width > narrow  # browsing the catalog widens it
        assert pane.region.width >= 48
        actions = app.screen.query_one("#response-actions")
        assert not actions.display  # hidden rather than squeezed while the catalog is wide
        app.screen.query_one("#path", Input).focus()
        await pilot.pause()
        assert actions.display and pane.region.width == narrow
        for button in actions.query(Button):  # back in full, nothing cut
            assert button.region.right <= actions.region.right


async def test_an_error_response_opens_its_error_node():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        app.screen.query_one("#path", Input).value = "/nothing-here"
        await pilot.press("ctrl+j")
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.screen.query_one(JsonTree)
        error = next(c for c in tree.root.children if str(c.label).startswith("error"))
        assert error.is_expanded and len(error.children) == 2


async def test_a_longer_button_label_after_a_sign_in_is_shown_whole():
    session = FakeSession()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("l")
        app.signed_in(session.sign_in(), None, switch=False)  # signed in while the wizard is shown
        await pilot.pause()
        await pilot.press("escape")  # the wizard leaves to status with escape (s is typing there)
        await pilot.pause()
        assert "Sign in again (l)" in screen_text(app)


async def test_help_shows_the_remapped_screen_keys(isolated_environment):
    config = isolated_environment / "config"
    config.mkdir()
    (config / "config.toml").write_text('[keymap]\n"explorer.send" = "ctrl+s"\n"login.copy" = "y"\n')
    app = make_app(FakeSession())
    async with app.run_test(size=(120, 60)) as pilot:  # tall enough for the whole help without scrolling
        await pilot.press("f1")
        text = screen_text(app)
        assert "^s" in text and "send with ^s" in text and "copy the URL (y)" in text
        assert not any("Unknown binding id" in m for m in notifications(app))
