"""Typing in the wizard never fires a shortcut (issue 13, found by a new-user review): choosing
"API key" with the mouse puts the focus in the key field, so the key typed next goes there; and
escape in the paste field leaves the field instead of cancelling the sign-in."""

from __future__ import annotations

from textual.widgets import Input

from .fakes import FakeSession
from .helpers import make_app, start_code_flow, until


async def test_choosing_api_key_by_mouse_then_typing_a_key_types_it():
    session = FakeSession()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("l")
        await pilot.pause()
        screen = app.screen
        assert await pilot.click("#method-key")
        await pilot.pause()
        await pilot.press(*"sandbox-api-key")  # s, e, x, ?: shortcuts elsewhere
        await pilot.pause()
        assert app.screen is screen and not app.screen_stack[1:]  # nothing opened, no help, no status
        assert screen.query_one("#api-key", Input).value == "sandbox-api-key"


async def test_after_start_over_with_api_key_chosen_typing_goes_into_the_key_field():
    session = FakeSession()
    session.client.fail_with = None
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("l")
        await pilot.pause()
        screen = app.screen
        await pilot.click("#method-key")
        await pilot.press(*"wrong-key-123456", "enter")  # FakeSession's http answers nothing: it fails
        await until(pilot, lambda: screen.phase == "failed", "the attempt stops")
        await pilot.click("#again")
        await pilot.pause()
        await pilot.press(*"sandbox-api-key")
        await pilot.pause()
        assert app.screen is screen and not app.screen_stack[1:]
        assert screen.query_one("#api-key", Input).value == "sandbox-api-key"


async def test_escape_in_the_paste_field_leaves_the_field_and_the_sign_in_goes_on(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await start_code_flow(pilot)
        field = screen.query_one("#paste", Input)
        field.focus()
        await pilot.press(*"http://127.0.0.1/x")
        await pilot.press("escape")
        await pilot.pause()
        assert screen.phase == "running"  # not cancelled
        assert app.focused is not field
        await pilot.press("escape")  # a second escape, outside the field, cancels as before
        await until(pilot, lambda: screen.phase == "failed", "cancelled")
