"""The stored profiles: which server each signed in to, with what, until when; switch to one,
sign one out. The use cases are headless (:mod:`bonjoro_tui.account.profiles`, shared with
``bonjoro-tui profiles``); this modal lists and asks.

Switching (enter on a profile, a double-click, or "Use") makes it the default in config.toml and
re-opens the app's session for it (``BonjoroApp.switch_profile``). A single click only highlights
a row, so a profile can be chosen by mouse and then signed out without switching to it. Signing one out is destructive, so it asks
first (``ConfirmScreen``: focus on Cancel, no letter confirms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from bonjoro_tui.account.format import clock_time
from bonjoro_tui.account.methods import method_label
from bonjoro_tui.account.profiles import ProfileSummary, list_profiles
from bonjoro_tui.tui.text import notice, plain, rich_plain

if TYPE_CHECKING:
    from bonjoro_tui.tui.app import BonjoroApp


def profile_line(p: ProfileSummary, now: float) -> Text:
    """One row: markers, name, where, method, state — server-free text, escaped anyway."""
    text = Text()
    text.append("● " if p.active else "  ", style="bold green")
    text.append(rich_plain(p.name, "bold"))
    if p.default:
        text.append(" (default)", style="dim")
    text.append("  ")
    text.append(rich_plain(p.where))
    text.append("  ")
    text.append(rich_plain(method_label(p.method), "dim"))
    text.append("  ")
    if not p.on_this_target:
        text.append("other server (its tokens are not sent from here)", style="yellow")
    elif p.signed_in:
        until = "never expires" if p.expires_at is None else f"until {clock_time(p.expires_at)}"
        text.append(rich_plain("signed in, " + until, "green"))
    else:
        text.append("expired" if p.expired else "signed out", style="red")
    return text


class ProfileList(OptionList):
    """An OptionList where one click only highlights (enter or a double-click chooses)."""

    async def _on_click(self, event: events.Click) -> None:
        event.prevent_default()  # not OptionList's own handler, which selects on one click
        clicked: int | None = event.style.meta.get("option")
        if clicked is None or self._options[clicked].disabled:
            return
        self.highlighted = clicked
        if event.chain >= 2:
            self.action_select()


class ProfilesScreen(ModalScreen[None]):
    """Opened from the status screen (key ``p``, button "Profiles")."""

    if TYPE_CHECKING:
        app: "BonjoroApp"
    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="profiles.close"),
        Binding("delete", "remove", "Sign out…", id="profiles.remove"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.profiles: list[ProfileSummary] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="profiles-dialog"):
            yield Static(id="profiles-note")
            yield ProfileList(id="profiles-list")
            with Horizontal(id="profiles-buttons"):
                yield Button("Use (enter)", id="profiles-use", variant="primary", compact=True)
                yield Button("Sign out… (del)", id="profiles-remove", variant="error", compact=True)
                yield Button("Close (esc)", id="profiles-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#profiles-dialog").border_title = "Profiles"
        self.show_profiles()
        self.query_one("#profiles-list").focus()

    def show_profiles(self) -> None:
        try:
            self.profiles = list_profiles(self.app.session)
        except Exception as exc:  # a corrupt or unsafe store: said, never fatal
            what, todo = self.app.explain(exc)
            self.query_one("#profiles-note", Static).update(rich_plain(f"{what} {todo}", "red"))
            self.profiles = []
        options = self.query_one("#profiles-list", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        now = self.app.now()
        options.add_options([Option(profile_line(p, now), id=p.name) for p in self.profiles])  # safe-text: profile_line returns a Text of rich_plain pieces
        note = self.query_one("#profiles-note", Static)
        if not self.profiles:
            note.update(plain(f"No profile is stored yet. Sign in ({self.app.key_for('login')}) to make one."))
        else:
            note.update(plain("● in use · a click highlights · enter or a double-click switches to the "
                              "highlighted profile (and remembers it in config.toml) · del signs it out"))
        if self.profiles:
            active = next((i for i, p in enumerate(self.profiles) if p.active), 0)
            options.highlighted = min(highlighted, len(self.profiles) - 1) if highlighted is not None else active
        self.query_one("#profiles-use", Button).disabled = not self.profiles
        self.query_one("#profiles-remove", Button).disabled = not self.profiles

    def selected(self) -> ProfileSummary | None:
        index = self.query_one("#profiles-list", OptionList).highlighted
        if index is None or not 0 <= index < len(self.profiles):
            return None
        return self.profiles[index]

    # ---- actions: each button does what its key does --------------------------------------

    @on(OptionList.OptionSelected, "#profiles-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_use()

    @on(Button.Pressed, "#profiles-use")
    def _use_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_use()

    @on(Button.Pressed, "#profiles-remove")
    def _remove_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_remove()

    @on(Button.Pressed, "#profiles-close")
    def _close_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_use(self) -> None:
        p = self.selected()
        if p is None:
            return
        self.app.switch_profile(p.name)
        self.dismiss(None)

    def action_remove(self) -> None:
        p = self.selected()
        if p is None:
            return
        from bonjoro_tui.tui.modals.confirm import ConfirmScreen

        if p.on_this_target:
            question = (f"Sign out of profile {notice(p.name)} ({notice(p.where)})? Its tokens are revoked at the "
                        "server where possible and forgotten here.")
            label, revoke = "Sign out", True
        else:
            question = (f"Forget profile {notice(p.name)}? Its tokens belong to {notice(p.where)}, which these "
                        "settings do not talk to: they cannot be revoked from here and stay valid there until they "
                        "expire.")
            label, revoke = "Forget", False

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.remove_one(p.name, revoke)

        self.app.push_screen(ConfirmScreen(question, confirm=label, title="Profile"), confirmed)

    @work(exclusive=True, group="profiles", description="sign a profile out")
    async def remove_one(self, name: str, revoke: bool) -> None:
        from bonjoro_tui.account.profiles import repair_default

        await self.app.remove_profile(name, revoke=revoke)
        try:
            repaired = repair_default(self.app.session, name)
        except Exception as exc:  # config.toml not ours to rewrite: said, with what to do
            what, todo = self.app.explain(exc)
            self.app.notify(f"Profile {notice(name)} was the default in config.toml and still is: {notice(what)} {notice(todo)}",
                            title="Profiles", severity="warning", markup=False)
        else:
            if repaired is not None:
                self.app.notify(notice(repaired.sentence("enter on a profile here chooses another")), title="Profiles", markup=False)
        self.show_profiles()
