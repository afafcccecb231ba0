"""Done-when of issue 13 item 1: whole words typed with focus in each reachable place of each
screen fire no action — the screen stays, the profile stays, no refresh, no sign-out.

The rule is tui/keyguard.py's (docs/DESIGN.md "Typed text is never a shortcut"): in a text field a
typed character runs no binding; a typing run that leaves the field by Tab, or a word begun with a
letter that is no shortcut, swallows the typing keys after it until a non-typing key, a click or a
pause. The clocks here are fixed, so no pause ever happens by itself: between two places the test
moves the clock past the pause (keyguard.PAUSE), as a person stopping would.
"""

from __future__ import annotations

from textual.widgets import Input

from bonjoro_tui.tui import keyguard
from bonjoro_tui.tui.modals.confirm import ConfirmScreen
from bonjoro_tui.tui.modals.help import HelpScreen
from bonjoro_tui.tui.modals.profiles import ProfilesScreen
from bonjoro_tui.tui.modals.token import TokenScreen
from bonjoro_tui.tui.screens.login import LoginScreen
from bonjoro_tui.tui.screens.status import StatusScreen

from .fakes import FakeSession
from .helpers import make_app, start_code_flow, until

WORDS = ("sandbox-api-key", "greets")


class Witness:
    """What an action would change: the screen (and the stack of modals), the stored profile,
    refreshes and sign-outs."""

    def __init__(self, app) -> None:
        self.app = app
        self.screen = app.screen
        self.depth = len(app.screen_stack)
        self.token = app.profile.tokens.access_token if app.profile else None
        self.refreshes = app.refresh_events
        self.notified = len(app._notifications)

    def unchanged(self, where: str) -> None:
        app = self.app
        assert app.screen is self.screen, f"{where}: the screen changed to {type(app.screen).__name__}"
        assert len(app.screen_stack) == self.depth, f"{where}: a screen was pushed or popped"
        now = app.profile.tokens.access_token if app.profile else None
        assert now == self.token, f"{where}: the profile changed (refresh or sign-out)"
        assert app.refresh_events == self.refreshes, f"{where}: a refresh happened"
        titles = [n.title for n in list(app._notifications)[self.notified:]]
        assert not {"Refreshed", "Signed out", "Signed in"} & set(titles), f"{where}: {titles}"


async def type_words(pilot, where: str, *, field: Input | None = None, wait: bool = True) -> None:
    """Type each word with focus where it is; nothing may fire (a field, if given, takes it)."""
    app = pilot.app
    for word in WORDS:
        app.now.t += keyguard.PAUSE + 1  # a pause before: the run of the previous word is over
        witness = Witness(app)
        before = field.value if field is not None else None
        await pilot.press(*word)
        await pilot.pause()
        if wait:  # not while a sign-in waits for its redirect (its worker runs until then)
            await app.workers.wait_for_complete()
        witness.unchanged(f"{word!r} typed {where}")
        if field is not None:  # (a field may select its text on focus: the word then replaces it)
            assert field.value in (before + word, word), f"{where}: the field did not take {word!r}"


async def test_words_typed_on_the_status_screen_and_in_every_modal_fire_nothing():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StatusScreen)
        app.set_focus(None)
        await type_words(pilot, "on the status screen, nothing focused")
        for button in ("#do-login", "#do-refresh", "#do-explorer", "#do-token", "#do-profiles", "#do-logout"):
            app.screen.query_one(button).focus()
            await type_words(pilot, f"with focus on {button}")

        for key, modal in (("x", ConfirmScreen), ("t", TokenScreen), ("p", ProfilesScreen), ("f1", HelpScreen)):
            app.now.t += keyguard.PAUSE + 1
            await pilot.press(key)
            await until(pilot, lambda: isinstance(app.screen, modal), f"{key} opens {modal.__name__}")
            for widget in [None, *app.screen.query("Button, OptionList")]:
                if widget is not None:
                    widget.focus()
                await type_words(pilot, f"in {modal.__name__} with focus on {widget}")
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, StatusScreen), "escape closes it")
        assert app.profile is not None


async def test_words_typed_in_the_wizard_in_the_api_key_field_and_after_tab_out_of_it_fire_nothing():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("l")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        await type_words(pilot, "on the wizard's method list")  # s and e do not leave the wizard
        await pilot.click("#method-key")
        await pilot.pause()
        key_field = screen.query_one("#api-key", Input)
        assert app.focused is key_field
        app.now.t += keyguard.PAUSE + 1
        await type_words(pilot, "in the API-key field", field=key_field)
        # Tab out of the field in the middle of typing, and keep typing: swallowed, not shortcuts.
        for word in WORDS:
            app.now.t += keyguard.PAUSE + 1
            key_field.focus()
            await pilot.press(*"abc", "tab")
            assert app.focused is not key_field
            witness = Witness(app)
            value = key_field.value
            await pilot.press(*word)
            await pilot.pause()
            witness.unchanged(f"{word!r} typed after Tab out of the API-key field")
            assert key_field.value == value
        # The first typed key of the run said why nothing happened, once.
        assert any("Taken as typing" in n.message for n in app._notifications)


async def test_words_typed_while_the_wizard_waits_in_the_paste_field_and_on_its_buttons(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await start_code_flow(pilot)
        approve = screen.query_one("#approve")
        assert app.focused is approve  # "sandbox-api-key" has an a: it must not approve
        await type_words(pilot, "on the Approve button while waiting", wait=False)
        for button in ("#copy", "#open", "#cancel"):
            screen.query_one(button).focus()
            await type_words(pilot, f"on {button} while waiting", wait=False)
        paste = screen.query_one("#paste", Input)
        paste.focus()
        await type_words(pilot, "in the paste field", field=paste, wait=False)
        paste.value = ""
        clock.t += keyguard.PAUSE + 1
        await pilot.press(*"http", "tab", *"sandbox-api-key")
        await pilot.pause()
        assert screen.phase == "running" and app.screen is screen and app.profile is None
        assert screen.query_one("#paste", Input).value == "http"
        # Signing in is still one deliberate press (enter on Approve; the click test is elsewhere).
        screen.query_one("#approve").focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.phase == "done", "signed in")
        await type_words(pilot, "on the finished wizard")


async def test_words_typed_in_the_explorer_path_field_and_after_tab_out_of_it_fire_nothing():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        field = app.focused
        assert isinstance(field, Input), f"the explorer focuses a text field on entry, not {field}"
        await type_words(pilot, "in the explorer's first field", field=field)
        app.now.t += keyguard.PAUSE + 1
        witness = Witness(app)
        await pilot.press(*"gr", "tab", *"sandbox-api-key")
        await pilot.pause()
        await app.workers.wait_for_complete()
        witness.unchanged("typed after Tab out of the explorer's field")
        assert app.screen is screen
