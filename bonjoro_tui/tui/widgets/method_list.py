"""The wizard's list of sign-in methods, keyboard-first."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import RadioButton, RadioSet


class MethodList(RadioSet):
    """The sign-in methods. Enter on the method that is already chosen starts the sign-in
    (``l`` then enter signs in with the default); on another one, chooses it."""

    class Confirmed(Message):
        pass

    def action_toggle_button(self) -> None:
        buttons = list(self.query(RadioButton))
        index = self._selected
        if index is not None and 0 <= index < len(buttons) and buttons[index].value:
            self.post_message(self.Confirmed())
            return
        super().action_toggle_button()
