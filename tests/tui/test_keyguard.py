"""tui/keyguard.py's rule as a pure function of the keys (no app): which keys are swallowed."""

from __future__ import annotations

from bonjoro_tui.tui.keyguard import PAUSE, TypingGuard, is_typing_key


class Keys:
    def __init__(self, shortcuts: str = "srexltp?") -> None:
        self.t = 0.0
        self.guard = TypingGuard(lambda: self.t)
        self.shortcuts = set(shortcuts)

    def feed(self, keys, *, in_field: bool = False) -> str:
        """The keys that got through (not swallowed), as a string; names in <> are special keys."""
        out = []
        for key in keys:
            char = key if len(key) == 1 else None
            if not self.guard.key(key, char, in_field=in_field, shortcut=key in self.shortcuts):
                out.append(key if len(key) == 1 else f"<{key}>")
        return "".join(out)


def test_typing_keys():
    assert is_typing_key("s", "s") and is_typing_key("space", " ") and is_typing_key("question_mark", "?")
    assert not is_typing_key("tab", "\t") and not is_typing_key("enter", "\r") and not is_typing_key("ctrl+s", "\x13")
    assert not is_typing_key("escape", "\x1b") and not is_typing_key("up", None)


def test_a_word_after_tab_out_of_a_field_is_swallowed_until_a_non_typing_key():
    k = Keys()
    assert k.feed(list("abc"), in_field=True) == "abc"
    assert k.feed(["tab", *"sandbox-api-key"]) == "<tab>"
    assert k.feed(["escape", "s"]) == "<escape>s"  # a deliberate key ends the run: s is a shortcut again


def test_leaving_a_field_with_enter_or_escape_starts_no_run():
    for leave in ("enter", "escape"):
        k = Keys()
        k.feed([*"abc", leave], in_field=True)
        assert k.feed(["s"]) == "s"


def test_a_word_begun_with_a_letter_that_is_no_shortcut_keeps_its_shortcut_letters():
    k = Keys()
    assert k.feed(list("greets")) == "g"  # g is nothing; r and e are part of the word
    k.t += PAUSE  # a pause ends the run
    assert k.feed(list("r")) == "r"


def test_the_first_letter_of_a_word_is_a_shortcut_and_the_rest_of_it_is_not():
    k = Keys()
    assert k.feed(list("rest")) == "r"  # refresh once; its t does not open the token inspector
    k.t += PAUSE
    assert k.feed(list("cancel")) == "c"  # in the wizard: copy, and no approve (a)
    k.t += PAUSE
    assert k.feed(list("sandbox")) == "s"


def test_shortcuts_one_after_another_need_a_pause_a_key_or_a_new_screen_between_them():
    k = Keys()
    assert k.feed(["r"]) == "r"
    k.t += PAUSE
    assert k.feed(["e"]) == "e"  # a second later: a shortcut again
    assert k.feed(["down", "s"]) == "<down>s"  # a non-typing key ends the run
    k.guard.new_screen()
    assert k.feed(["q"]) == "q"  # the first letter opened another screen: q is read there


def test_punctuation_shortcuts_repeat():
    k = Keys(shortcuts="[]?")
    assert k.feed(["]", "]", "]", "["]) == "]]]["  # pages forward three times and back once


def test_navigation_carries_the_run_and_a_click_ends_it():
    k = Keys()
    k.feed(list("ab"), in_field=True)
    assert k.feed(["tab", "shift+tab", "tab", "x"]) == "<tab><shift+tab><tab>"
    k.guard.click()
    assert k.feed(["x"]) == "x"


def test_a_pause_after_leaving_the_field_gives_the_shortcuts_back():
    k = Keys()
    k.feed(list("ab"), in_field=True)
    k.feed(["tab"], in_field=True)  # Tab arrives while the field still has focus
    k.t += PAUSE
    assert k.feed(["s"]) == "s"
