"""Every button on the status screen does what its key does — clicked with the mouse, and by
Enter with focus on it. (They did nothing at all: the handler called the coroutine
``App.run_action`` without awaiting it, and every earlier test pressed keys.)"""

from __future__ import annotations

import pytest

from bonjoro_tui.account.session import AppSession

from .fakes import FakeSession
from .helpers import make_app


def test_the_fake_session_keeps_the_typed_contract():
    assert isinstance(FakeSession(), AppSession)


def screen_name(app) -> str:
    return type(app.screen).__name__


@pytest.mark.parametrize("how", ["click", "enter"])
@pytest.mark.parametrize(
    "button, expected",
    [("#do-login", "LoginScreen"), ("#do-explorer", "ExplorerScreen"), ("#do-logout", "ConfirmScreen"),
     ("#do-token", "TokenScreen"), ("#do-profiles", "ProfilesScreen")],
)
async def test_each_status_button_opens_what_its_key_opens(button, expected, how):
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        if how == "click":
            assert await pilot.click(button)
        else:
            app.screen.query_one(button).focus()
            await pilot.press("enter")
        await pilot.pause(0.2)
        assert screen_name(app) == expected


@pytest.mark.parametrize("how", ["click", "enter"])
async def test_the_refresh_button_refreshes(how):
    session = FakeSession()
    before = session.sign_in().tokens.access_token
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        if how == "click":
            assert await pilot.click("#do-refresh")
        else:
            app.screen.query_one("#do-refresh").focus()
            await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.profile is not None and app.profile.tokens.access_token != before
        assert any(n.title == "Refreshed" for n in app._notifications)


async def test_sign_out_by_clicks_asks_first_and_escape_keeps_everything():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#do-logout")
        await pilot.pause(0.2)
        assert screen_name(app) == "ConfirmScreen"
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.profile is not None  # nothing happened
        await pilot.click("#do-logout")
        await pilot.pause(0.2)
        yes = next(b for b in app.screen.query("Button") if "yes" in (b.id or "") or "Sign out" in str(b.label))
        await pilot.click(f"#{yes.id}")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.profile is None
