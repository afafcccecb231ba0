"""Every button of the wizard and of every modal does what its key does — by a click and by enter
with focus on it (issue 13 item 1). The status screen's own buttons: test_status_buttons.py."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bonjoro_tui.account import preferences
from bonjoro_tui.tui.modals.confirm import ConfirmScreen
from bonjoro_tui.tui.modals.profiles import ProfilesScreen
from bonjoro_tui.tui.modals.token import TokenScreen
from bonjoro_tui.tui.screens.login import LoginScreen
from bonjoro_tui.tui.screens.status import StatusScreen

from .fakes import FakeSession
from .helpers import make_app, start_code_flow, until


async def press_button(pilot, selector: str, how: str) -> None:
    if how == "click":
        assert await pilot.click(selector), selector
    else:
        pilot.app.screen.query_one(selector).focus()
        await pilot.press("enter")
    await pilot.pause()


@pytest.mark.parametrize("how", ["click", "enter"])
async def test_confirm_cancel_and_sign_out_buttons(how):
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.focused.id == "confirm-no"  # focus starts on Cancel
        await press_button(pilot, "#confirm-no", how)
        assert isinstance(app.screen, StatusScreen) and app.profile is not None
        await pilot.press("x")
        await pilot.press(*"yes")  # a word typed into the question confirms nothing
        assert isinstance(app.screen, ConfirmScreen) and app.profile is not None
        await press_button(pilot, "#confirm-yes", how)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.profile is None and isinstance(app.screen, StatusScreen)


@pytest.mark.parametrize("how", ["click", "enter"])
async def test_token_inspector_close_button_and_keys(how):
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        assert isinstance(app.screen, TokenScreen)
        await press_button(pilot, "#token-close", how)
        assert isinstance(app.screen, StatusScreen)
        for key in ("escape", "q"):
            await pilot.press("t")
            assert isinstance(app.screen, TokenScreen)
            await pilot.press(key)
            assert isinstance(app.screen, StatusScreen)


def _second_profile(session, name="work"):
    p = session.store.load(session.settings.profile)
    session.store.save(replace(p, name=name))


@pytest.mark.parametrize("how", ["click", "enter"])
async def test_profiles_use_sign_out_and_close_buttons(how):
    session = FakeSession()
    session.sign_in()
    _second_profile(session, "work")
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, ProfilesScreen)
        assert [p.name for p in screen.profiles] == ["default", "work"]
        await pilot.press("down")  # highlight "work"
        await press_button(pilot, "#profiles-use", how)
        assert isinstance(app.screen, StatusScreen)
        assert app.settings.profile == "work" and session.settings.profile == "work"
        assert preferences.read(session.settings, "profile") == "work"
        assert app.profile is not None and app.profile.name == "work"

        await pilot.press("p")
        await pilot.press("up")  # highlight "default" (not in use now)
        await press_button(pilot, "#profiles-remove", how)
        assert isinstance(app.screen, ConfirmScreen)
        await press_button(pilot, "#confirm-no", how)  # Cancel keeps it
        assert isinstance(app.screen, ProfilesScreen) and "default" in session.store.names()
        await press_button(pilot, "#profiles-close", how)
        assert isinstance(app.screen, StatusScreen)


async def test_profiles_keys_enter_switches_delete_signs_out_the_active_one_after_confirming():
    """Keys: enter on a profile switches to it, delete asks, and only the button confirms."""
    session = FakeSession()
    session.sign_in()
    _second_profile(session, "work")
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("p")
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.settings.profile == "work" and isinstance(app.screen, StatusScreen)
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.selected().name == "work"  # the list starts on the active profile
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")  # the deliberate choice: Tab to "Sign out", enter
        await app.workers.wait_for_complete()
        await until(pilot, lambda: isinstance(app.screen, ProfilesScreen)
                    and [p.name for p in app.screen.profiles] == ["default"], "work signed out")
        assert app.profile is None  # the active profile is gone; default is still stored
        assert session.store.names() == ["default"]


async def test_wizard_buttons_start_cancel_start_over_by_click_and_enter():
    session = FakeSession()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("l")
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        await press_button(pilot, "#start", "click")
        await until(pilot, lambda: screen.url is not None, "the code flow waits")
        await press_button(pilot, "#cancel", "click")
        await until(pilot, lambda: screen.phase == "failed", "cancelled by a click")
        await press_button(pilot, "#again", "enter")
        assert screen.phase == "choose"
        await press_button(pilot, "#start", "enter")
        await until(pilot, lambda: screen.url is not None, "the code flow waits again")
        await press_button(pilot, "#cancel", "enter")
        await until(pilot, lambda: screen.phase == "failed", "cancelled by enter")
        await press_button(pilot, "#again", "click")
        assert screen.phase == "choose"
        # After a failure, the wizard opened again is a fresh one (l from the status screen).
        await press_button(pilot, "#start", "click")
        await until(pilot, lambda: screen.url is not None, "waiting")
        await pilot.press("escape")  # cancel
        await until(pilot, lambda: screen.phase == "failed", "cancelled")
        await pilot.press("escape")  # leave to status
        assert isinstance(app.screen, StatusScreen)
        await pilot.press("l")
        assert app.screen is screen and screen.phase == "choose"


@pytest.mark.parametrize("how", ["click", "enter"])
async def test_wizard_approve_copy_open_and_go_to_status_buttons(session, clock, how):
    opened: list[str] = []
    app = make_app(session, clock, open_browser=lambda url: opened.append(url) or False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await start_code_flow(pilot)
        copied: list[str] = []
        app.copy_to_clipboard = copied.append
        await press_button(pilot, "#copy", how)
        assert copied == [screen.url]
        await press_button(pilot, "#open", how)
        assert opened[-1] == screen.url and len(opened) == 2
        await press_button(pilot, "#approve", how)
        await until(pilot, lambda: screen.phase == "done", "approved in the sandbox")
        waiting = screen.query_one("StepList").step("WAITING")
        assert "elapsed" not in waiting.detail  # the live "… elapsed" text ends with the step
        await press_button(pilot, "#to-status", how)
        assert isinstance(app.screen, StatusScreen) and app.profile is not None


async def test_a_profile_whose_revocation_fails_is_kept_and_offered_to_be_forgotten():
    """Another profile's tokens are revoked through a client of its own; when the server cannot be
    reached they are kept, and forgetting them is a second deliberate choice (like sign-out)."""
    session = FakeSession()
    session.sign_in()
    _second_profile(session, "work")
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("p")
        await pilot.press("down")  # "work": not the active profile (nothing listens at its server)
        assert app.screen.selected().name == "work"
        await pilot.press("delete")
        await pilot.press("tab", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and "Forget" in str(
            app.screen.query_one("#confirm-yes").label), "offered to forget")
        assert "work" in session.store.names()  # kept: still valid at the server
        await pilot.press("tab", "enter")
        await until(pilot, lambda: session.store.names() == ["default"], "forgotten")
        assert app.profile is not None and app.profile.name == "default"
