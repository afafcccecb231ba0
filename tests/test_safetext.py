"""bonjoro_tui.safetext: the one function between server text and a screen or terminal.

Exhaustive where the domain is small (every code point below U+00A0, every bidi control),
property-based where it is not (any string, any JSON document).
"""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bonjoro_tui.safetext import UNSAFE, has_unsafe, safe_json_dumps, safe_text

PRINTABLE_ASCII = [chr(c) for c in range(0x20, 0x7F)]
C0 = [chr(c) for c in range(0x00, 0x20)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
BIDI = ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
        "\u2066", "\u2067", "\u2068", "\u2069"]
INVISIBLE = ["\u00ad", "\u180e", "\u200b", "\u200c", "\u2028", "\u2029", "\u2060", "\u2061", "\u2062",
             "\u2063", "\u2064", "\ufeff", "\ufff9", "\ufffa", "\ufffb"]
#: The escape sequences the issue names, and what each must look like on screen.
SEQUENCES = {
    "\x1b]52;c;cHduZWQ=\x07": "\\x1b]52;c;cHduZWQ=\\x07",
    "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\": "\\x1b]8;;https://evil.example/\\x1b\\link\\x1b]8;;\\x1b\\",
    "\x1b]0;pwned\x07": "\\x1b]0;pwned\\x07",
    "\x1b[2J": "\\x1b[2J",
    "\x9b2J": "\\x9b2J",
    "\u202eexe.txt": "\\u202eexe.txt",
    "a\x00b": "a\\x00b",
    "shown\rhidden": "shown\\rhidden",
}


def _raw_unsafe(text: str, *, multiline: bool) -> list[str]:
    """Characters of ``text`` a terminal would act on or hide (independent of the module's regex)."""
    allowed = {"\n", "\t"} if multiline else set()
    bad = []
    for ch in text:
        if ch in allowed:
            continue
        code = ord(ch)
        if code < 0x20 or 0x7F <= code < 0xA0 or ch in BIDI or ch in INVISIBLE or 0xD800 <= code <= 0xDFFF:
            bad.append(ch)
    return bad


# ---- the small domains, exhaustively ---------------------------------------------------------


@pytest.mark.parametrize("multiline", [False, True])
def test_every_printable_ascii_character_is_unchanged(multiline):
    for ch in PRINTABLE_ASCII:
        assert safe_text(ch, multiline=multiline) == ch
    everything = "".join(PRINTABLE_ASCII)
    assert safe_text(everything, multiline=multiline) == everything
    assert not has_unsafe(everything, multiline=multiline)


def test_markup_is_not_this_modules_business():
    """Brackets are printable text: the TUI keeps markup literal by never parsing it."""
    for value in ("[@click=app.screenshot('x','/tmp')]Verify[/]", "[/x]", "[bold red]x", "\\[escaped]"):
        assert safe_text(value) == value


@pytest.mark.parametrize("code", range(0x00, 0x20))
def test_every_c0_control_is_escaped_on_one_line(code):
    ch = chr(code)
    out = safe_text(f"a{ch}b")
    names = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x1B: "\\x1b"}
    shown = names.get(code, "\\x%02x" % code)
    assert out == "a" + shown + "b"
    assert ch not in out and has_unsafe(ch)


@pytest.mark.parametrize("code", range(0x00, 0x20))
def test_multiline_keeps_only_tab_and_newline(code):
    ch = chr(code)
    out = safe_text(f"a{ch}b", multiline=True)
    if ch in "\t\n":
        assert out == f"a{ch}b"
        assert not has_unsafe(ch, multiline=True)
    else:
        assert ch not in out and out.startswith("a\\") and out.endswith("b")
        assert has_unsafe(ch, multiline=True)


def test_carriage_return_is_escaped_even_in_multiline():
    assert safe_text("line\r\nnext", multiline=True) == "line\\r\nnext"


@pytest.mark.parametrize("code", [0x7F, *range(0x80, 0xA0)])
@pytest.mark.parametrize("multiline", [False, True])
def test_del_and_every_c1_control_is_escaped(code, multiline):
    out = safe_text(f"x{chr(code)}y", multiline=multiline)
    assert out == f"x\\x{code:02x}y"


@pytest.mark.parametrize("ch", BIDI + INVISIBLE)
@pytest.mark.parametrize("multiline", [False, True])
def test_bidi_and_invisible_format_characters_are_escaped(ch, multiline):
    out = safe_text(f"a{ch}b", multiline=multiline)
    code = ord(ch)
    assert out == ("a\\x%02xb" % code if code <= 0xFF else "a\\u%04xb" % code)


@pytest.mark.parametrize("raw,shown", SEQUENCES.items(), ids=list(range(len(SEQUENCES))))
def test_the_named_escape_sequences_show_visibly(raw, shown):
    assert safe_text(raw) == shown
    assert safe_text(raw, multiline=True) == shown
    assert not _raw_unsafe(safe_text(raw), multiline=False)


def test_every_code_point_below_u0100_lands_on_the_right_side():
    for code in range(0x100):
        ch = chr(code)
        for multiline in (False, True):
            out = safe_text(ch, multiline=multiline)
            assert not _raw_unsafe(out, multiline=multiline), (hex(code), multiline)
            if code >= 0xA0 and ch != "\u00ad":
                assert out == ch  # Latin-1 letters and symbols are text


def test_ordinary_unicode_stays_readable():
    for value in ("Zoë Ångström", "日本語のテキスト", "مرحبا", "שלום", "👩‍💻 dev", "ß ∑ € 😀", "\u00a0nbsp"):
        assert safe_text(value) == value
    assert safe_text("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"  # ZWJ kept: emoji sequences need it


def test_lone_surrogates_are_escaped():
    assert safe_text("a\ud800b\udfffc") == "a\\ud800b\\udfffc"


# ---- conversions and limits ----------------------------------------------------------------


def test_non_strings():
    assert safe_text(None) == ""
    assert safe_text(42) == "42"
    assert safe_text(b"caf\xc3\xa9 \x1b[2J") == "café \\x1b[2J"
    assert safe_text(bytearray(b"\x9b")) == "\ufffd"  # not UTF-8: replaced, never a raw C1
    assert safe_text(memoryview(b"\xc2\x9b")) == "\\x9b"
    assert safe_text(ValueError("bad\x1b]0;t\x07")) == "bad\\x1b]0;t\\x07"


def test_limit_cuts_the_raw_text_and_marks_the_cut():
    assert safe_text("abcdef", limit=4) == "abc…"
    assert safe_text("abc", limit=3) == "abc"
    assert safe_text("abcd", limit=0) == "…"
    # The cut happens before escaping, so an escape is never cut in half.
    assert safe_text("ab\x1bcd", limit=4) == "ab\\x1b…"


# ---- properties ---------------------------------------------------------------------------


@given(st.text())
def test_no_output_holds_a_character_a_terminal_acts_on(value):
    for multiline in (False, True):
        out = safe_text(value, multiline=multiline)
        assert not _raw_unsafe(out, multiline=multiline)
        assert not has_unsafe(out, multiline=multiline)


@given(st.text())
def test_escaping_is_idempotent(value):
    once = safe_text(value)
    assert safe_text(once) == once
    multi = safe_text(value, multiline=True)
    assert safe_text(multi, multiline=True) == multi


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_text_without_controls_is_unchanged(value):
    assert safe_text(value, multiline=True) == value
    assert safe_text(value) == value


@given(st.text())
def test_one_line_output_is_one_line(value):
    assert "\n" not in safe_text(value) and "\r" not in safe_text(value)


def test_the_regex_covers_every_unicode_cc_character():
    for code in range(0x110000):
        if unicodedata.category(chr(code)) == "Cc":
            assert UNSAFE.fullmatch(chr(code)), hex(code)


# ---- JSON ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_json_reads_back_to_the_same_data(data):
    for indent in (None, 2):
        text = safe_json_dumps(data, indent=indent)
        assert json.loads(text) == data
        assert not _raw_unsafe(text, multiline=True)
        if indent is None:
            assert "\n" not in text


def test_json_escapes_c1_and_bidi_that_json_dumps_writes_raw():
    data = {"name": "\x9b2J \u202eexe \x1b]52;c;x\x07 \u2028", "\u202ekey": "[/x]"}
    assert "\x9b" in json.dumps(data, ensure_ascii=False)  # the reason this function exists
    text = safe_json_dumps(data)
    assert not _raw_unsafe(text, multiline=False)
    assert "\\u009b2J" in text and "\\u202e" in text and "\\u001b]52" in text and "\\u2028" in text
    assert json.loads(text) == data


def test_json_keeps_readable_unicode_and_the_layout_of_json_dumps():
    data = {"name": "Zoë 日本", "n": [1, 2], "nested": {"a": None}}
    assert safe_json_dumps(data) == json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    assert safe_json_dumps(data, indent=2) == json.dumps(data, ensure_ascii=False, indent=2)
    assert "Zoë 日本" in safe_json_dumps(data)


def test_json_of_every_code_point_below_u0100():
    data = "".join(chr(c) for c in range(0x100))
    for indent in (None, 2):
        text = safe_json_dumps({"s": data}, indent=indent)
        assert json.loads(text) == {"s": data}
        assert not _raw_unsafe(text, multiline=indent is not None)
