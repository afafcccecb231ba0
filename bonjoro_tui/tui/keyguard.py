"""Typed text is never a shortcut: the rule for single-character keys, in one place.

The dashboard has single-letter keys (``s`` status, ``x`` sign out, ``r`` refresh, ``?`` help …).
A word typed into a text field must not reach them — not while the field has focus, not when
focus has just left it in the middle of the typing (Tab out of the API-key field, keep typing
``sandbox-api-key``: ``s``, ``x`` used to fire), and not when a word is typed where there is no
field at all (``greets`` on the status screen spent a refresh token on its ``r``). The rule,
applied by ``BonjoroApp`` to every key before anything else sees it:

1. **In a text field** (an ``Input`` or a ``TextArea``, read-only ones included) a typing key —
   one printable character, space included, no ctrl — never runs a binding of the app, its
   screen or a widget: the field takes it, or it is dropped.
2. **Outside a text field a typing run swallows typing keys** (they reach no widget and no
   binding). A run starts
   a. when focus has left a text field while typing: the previous key was typed in the field —
      a typing key, or Tab/shift+Tab leaving it;
   b. at a letter or digit, or at any typing key that is no shortcut here (no enabled binding
      on the focused widget, its screen or the app): the keys right after it are a word being
      typed, not shortcuts. ``greets``: ``g`` is nothing, so ``r`` and ``e`` are swallowed;
      ``rest`` refreshes once (its ``r``) and does not open the token inspector with its ``t``;
      ``cancel`` typed in the wizard copies the URL (``c``) and does not approve the sign-in
      with its ``a``. The first letter *is* a shortcut when it is one — that is what a
      single-letter key is. A punctuation shortcut (``]`` next page, ``?`` help) starts no run:
      ``]]]`` turns three pages.
3. **The run ends** at the first key that is not a typing key other than Tab/shift+Tab (enter,
   escape, an arrow, a function key, a ctrl combination — that key then works as usual), at a
   mouse click, when another screen is shown (the first letter opened the token inspector, a
   dialog, the wizard: the next key is read on what is now shown; ``BonjoroApp`` tells the
   guard on every push, pop and switch), or at a
   pause: a key that comes :data:`PAUSE` seconds or more after the previous
   one, on the app's clock (``BonjoroApp.now``). Keystrokes are counted, not timed, everywhere
   else, and the tests' clock is fixed: every test of this rule is deterministic, while a
   person who stops typing for a second gets the shortcuts back.

Enter and escape are deliberate keys, not typing: leaving a field with enter (submitting it) or
escape does not start a run. The first key swallowed in a run raises one short notice, so a
user who meant the shortcut knows why nothing happened.
"""

from __future__ import annotations

from typing import Any, Callable

#: Seconds without a key after which a typing run is over (on the app's clock).
PAUSE = 1.0
#: Keys that move focus: they carry a typing run along instead of ending it.
NAVIGATION = frozenset({"tab", "shift+tab"})


def is_text_field(widget: Any) -> bool:
    """An ``Input`` or a ``TextArea`` (or a subclass), without importing ``TextArea`` (heavy)."""
    if widget is None:
        return False
    return any(
        cls.__name__ in ("Input", "TextArea") and cls.__module__.startswith("textual.widgets")
        for cls in type(widget).__mro__
    )


def is_typing_key(key: str, character: str | None) -> bool:
    """One printable character (space included) and no ctrl: what typing a word produces."""
    return (
        character is not None and len(character) == 1 and character.isprintable() and not key.startswith("ctrl+")
    )


class TypingGuard:
    """The state of rule 2 and 3 (see the module docstring). Feed it every key, in order."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self.armed = False
        #: The key (name) of the previous key when it arrived with focus in a text field, else None.
        self._previous_in_field: str | None = None
        self._previous_typing = False
        self._last_at: float | None = None
        #: Keys swallowed in the current run (the first one raises the notice).
        self.swallowed = 0

    def key(self, key: str, character: str | None, *, in_field: bool, shortcut: bool = False) -> bool:
        """A key arrives, with focus in a text field or not, and ``shortcut`` when an enabled
        binding would take it: True when it must be swallowed."""
        at = self.now()
        paused = self._last_at is not None and at - self._last_at >= PAUSE
        self._last_at = at
        typing = is_typing_key(key, character)
        if in_field:
            self._previous_in_field = key
            self._previous_typing = typing
            self._disarm()
            return False
        left_by_typing = self._previous_in_field is not None and (
            self._previous_typing or self._previous_in_field in NAVIGATION
        )
        self._previous_in_field = None
        if paused or not (typing or key in NAVIGATION):
            self._disarm()
        if left_by_typing and not paused:
            self.armed = True
        if not typing:
            return False
        if self.armed:
            self.swallowed += 1
            return True
        if not shortcut or (character or "").isalnum():
            self.armed = True  # the keys right after this one are a word being typed, not shortcuts
        return False

    def new_screen(self) -> None:
        """Another screen is shown (pushed, popped, switched): the next key is read on it."""
        self._previous_in_field = None
        self._disarm()

    def click(self) -> None:
        """A mouse click is deliberate: the run is over."""
        self._previous_in_field = None
        self._disarm()

    def _disarm(self) -> None:
        self.armed = False
        self.swallowed = 0
