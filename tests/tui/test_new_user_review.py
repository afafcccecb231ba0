"""A new user's review of the dashboard (profiles by mouse, the status screen after a revoke),
each finding pinned by a Pilot test."""

from __future__ import annotations

from dataclasses import replace

from bonjoro_tui.account import preferences
from bonjoro_tui.tui.modals.confirm import ConfirmScreen
from bonjoro_tui.tui.modals.profiles import ProfilesScreen
from bonjoro_tui.tui.screens.status import StatusScreen

from .fakes import FakeSession
from .helpers import make_app, notifications, until


def _two_profiles() -> FakeSession:
    session = FakeSession()
    p = session.sign_in()
    session.store.save(replace(p, name="tmp1"))
    return session


async def _click_row(pilot, index: int, times: int = 1) -> None:
    lst = pilot.app.screen.query_one("#profiles-list")
    region = lst.content_region  # a row may wrap onto two lines: find the first line of row `index`
    y = next(y for y in range(region.y, region.bottom)
             if pilot.app.screen.get_style_at(region.x + 4, y).meta.get("option") == index)
    assert await pilot.click("#profiles-list", offset=(4 + region.x - lst.region.x, y - lst.region.y), times=times)
    await pilot.pause()


async def test_a_click_only_highlights_a_profile_and_a_double_click_switches():
    session = _two_profiles()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, ProfilesScreen) and screen.selected().name == "default"
        await _click_row(pilot, 1)
        assert app.screen is screen and screen.selected().name == "tmp1"
        assert app.settings.profile == "default" and preferences.read(session.settings, "profile") is None
        assert not any("Now using" in m for m in notifications(app))
        await _click_row(pilot, 1, times=2)
        assert isinstance(app.screen, StatusScreen) and app.settings.profile == "tmp1"
        assert preferences.read(session.settings, "profile") == "tmp1"


async def test_signing_out_the_remembered_default_by_mouse_says_so_and_clears_it():
    session = _two_profiles()
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("p")
        await pilot.press("down", "enter")  # use tmp1: remembered in config.toml
        assert preferences.read(session.settings, "profile") == "tmp1"
        await pilot.press("p")
        screen = app.screen
        await _click_row(pilot, 0)  # "default": highlighted, not switched to
        assert screen.selected().name == "default" and app.settings.profile == "tmp1"
        await _click_row(pilot, 1)  # back to tmp1, the one config.toml names, by mouse
        assert await pilot.click("#profiles-remove")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert await pilot.click("#confirm-yes")
        await until(pilot, lambda: session.store.names() == ["default"], "tmp1 signed out")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: any("was the default profile" in m for m in notifications(app)),
                    "the modal says the default was cleared")
        said = next(m for m in notifications(app) if "was the default profile" in m)
        assert "'tmp1'" in said and "next start uses profile 'default'" in said and "bonjoro-tui" not in said
        assert preferences.read(session.settings, "profile") is None
