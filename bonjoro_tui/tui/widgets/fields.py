"""Text fields whose keys take effect in the order they were pressed.

Textual (8.2.8, pinned) inserts a typed character in the field's own key handler, but runs the
field's bound keys — backspace, delete, the arrows, home/end, ctrl+k … — only after the key has
bubbled up through every ancestor to the app (``App._on_key`` → ``_check_bindings``). When keys
arrive faster than that round trip — a burst from the terminal while the app is busy (the
explorer rebuilds its parameter fields as a path is typed), a key held down, a macro or a
scripted terminal — characters typed after a backspace were inserted before it ran, and the late
backspaces then deleted them: ``End``, forty backspaces and ``/greets?limit=9`` left the field
empty or ``/greets?`` (found in tmux, issue 16's review; upstream: Textualize/textual#6605).

``KeysInOrder`` runs the field's own (non-priority) bindings in the field's key handler, in turn
with its characters. The focused field is the first namespace the app would have tried, and the
app's priority bindings have run before a key reaches the field, so what runs is what would
have run — now in order. Keys the field does not bind bubble on as before.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.widgets import Input, TextArea


class KeysInOrder:
    """Mix in before ``Input`` or ``TextArea``."""

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            return  # the field's own handler inserts it, in turn
        widget: Any = self
        for binding in widget._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await widget.app.run_action(binding.action, widget):
                # Handled: it does not bubble to the app's bindings (they would run it again);
                # the field's own handler still sees it (it restarts the cursor's blink).
                event.stop()
                return


class TextField(KeysInOrder, Input):
    """``Input``, its keys in order (see the module docstring)."""


class TextEditor(KeysInOrder, TextArea):
    """``TextArea``, its keys in order (see the module docstring). This module imports TextArea
    (~8 ms): the screens that show a field import it when they are first shown."""
