"""A question before something that cannot be undone (sign out, remove a profile, forget tokens).

Confirming is a deliberate choice: focus starts on Cancel, and the only ways to confirm are a
click on the action's button or enter (or space) with focus on it (Tab moves there). No letter
confirms — a ``y`` typed as part of a word once signed the user out. escape or ``n`` cancels.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from bonjoro_tui.tui.text import plain


class ConfirmScreen(ModalScreen[bool]):
    """Dismissed with True by the action's button (``confirm``), False by Cancel / escape / n."""

    CSS_PATH = "dialogs.tcss"

    BINDINGS = [
        Binding("escape,n", "answer(False)", "Cancel", id="confirm.no"),
    ]

    def __init__(self, question: str, *, confirm: str = "Sign out", title: str = "Confirm") -> None:
        super().__init__()
        self.question = question
        self.confirm = confirm
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(plain(self.question, multiline=True), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel (esc)", id="confirm-no", variant="primary", compact=True)
                yield Button(plain(self.confirm), id="confirm-yes", variant="error", compact=True)
            yield Static("Tab to the button, then enter (or click it).", id="confirm-hint")

    def on_mount(self) -> None:
        self.query_one("#confirm-dialog").border_title = plain(self.title_text)
        self.query_one("#confirm-no").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
