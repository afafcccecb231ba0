"""safetext.as_sent_text (bytes written as they are) and safe_json_dumps's quick check, against the
rule they shortcut: clean exactly when ``safe_text`` would change nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bonjoro_tui.safetext import UNSAFE, _UNSAFE_MULTILINE, _json_escape, as_sent_text, safe_json_dumps, safe_text

EVERY_BELOW_U0800 = "".join(chr(c) for c in range(0x800))
SPECIAL = "\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202e\u2060\u2064\u2065\u2066\u206f\ufeff\ufff9\ufffb\ufffc"


@given(st.text())
def test_clean_exactly_when_safe_text_changes_nothing(text):
    data = text.encode("utf-8", errors="surrogatepass")
    expected = text if safe_text(text) == text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text) else None
    assert as_sent_text(data) == expected


def test_every_character_below_u0800_and_every_special_one_alone_and_among_text():
    for ch in EVERY_BELOW_U0800 + SPECIAL:
        for text in (ch, f"abc{ch}def", f"日本{ch}—"):
            assert (as_sent_text(text.encode()) is not None) == (UNSAFE.search(text) is None), hex(ord(ch))


@given(st.binary())
def test_any_bytes(data):
    text = as_sent_text(data)
    if text is not None:
        assert data.decode("utf-8") == text and safe_text(text) == text


def test_invalid_utf8_and_encoded_surrogates_are_not_clean():
    for data in (b"\xff", b"caf\xe9", b"\xe2\x80", b"a\xed\xa0\x80b", b"\xc0\xaf", b"\xe2A\x80\x94"):
        assert as_sent_text(data) is None


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20),
       st.sampled_from([None, 2]))
def test_safe_json_dumps_is_the_substitution_it_shortcuts(data, indent):
    separators = (",", ": ") if indent is not None else (",", ":")
    text = json.dumps(data, indent=indent, ensure_ascii=False, separators=separators)
    assert safe_json_dumps(data, indent=indent) == _UNSAFE_MULTILINE.sub(_json_escape, text)
