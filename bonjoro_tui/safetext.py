"""Server text is text: the one way a string from outside the process reaches a screen.

Anything a server sends (names, emails, scopes, error messages and descriptions, header
values, JSON keys and values, non-JSON bodies, a callback's ``error`` / ``iss``) may hold
terminal control sequences — OSC 52 writes the clipboard, OSC 8 makes links, CSI clears the
screen — or bidirectional overrides that make text read differently from what it is. This
module turns such a value into display text in which every one of those characters is shown
visibly (``\\x1b``, ``\\u202e``) instead of being written raw.

It does not deal with markup: the TUI never parses server text as Textual/Rich markup (it
builds ``Content``/``Text`` objects from :func:`safe_text`), so ``[@click=…]`` stays
literal text. Keeping the two concerns apart keeps this module headless (no Textual, no
Rich) so the command line uses the very same function.

- :func:`safe_text` — one line (names, scopes, messages): every control character escaped.
- :func:`safe_text` with ``multiline=True`` — bodies: newlines and tabs kept, the rest escaped.
- :func:`safe_json_dumps` — JSON for a terminal or a pipe that stays valid JSON: the
  characters above are written as ``\\uXXXX`` escapes by the encoder's own rules.
- :func:`as_sent_text` — bytes that may be written as they are (``api`` on a pipe writes a JSON
  body that is clean without parsing and re-encoding it): one line of UTF-8 text in which
  :func:`safe_text` would find nothing to escape.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["UNSAFE", "as_sent_text", "has_unsafe", "safe_json_dumps", "safe_text"]

#: Characters never written raw: C0 controls, DEL, C1 controls (``\x9b`` is a one-byte CSI),
#: bidirectional marks, embeddings, overrides and isolates, zero-width characters that hide
#: text (not U+200D ZERO WIDTH JOINER, which emoji sequences need), line/paragraph
#: separators, the BOM, interlinear annotation controls, and lone surrogates.
_UNSAFE_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 except \t \n, DEL, C1
    "\u00ad"  # soft hyphen (invisible)
    "\u061c"  # Arabic letter mark
    "\u180e"  # Mongolian vowel separator
    "\u200b\u200c\u200e\u200f"  # zero-width space / non-joiner, LRM, RLM
    "\u2028-\u202e"  # line/paragraph separators, LRE RLE PDF LRO RLO
    "\u2060-\u2064\u2066-\u206f"  # word joiner, invisible operators, isolates, deprecated formats
    "\ufeff"  # BOM / zero-width no-break space
    "\ufff9-\ufffb"  # interlinear annotation
    "\ud800-\udfff"  # lone surrogates (from a lax decoder)
)
#: One line: tab and newline are escaped too.
UNSAFE = re.compile(f"[\t\n{_UNSAFE_CLASS}]")
_UNSAFE_MULTILINE = re.compile(f"[{_UNSAFE_CLASS}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x09:
        return "\\t"
    if code == 0x0A:
        return "\\n"
    if code == 0x0D:
        return "\\r"
    if code == 0x1B:
        return "\\x1b"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe_text(value: Any, *, multiline: bool = False, limit: int | None = None) -> str:
    """``value`` as text fit for a screen or a terminal.

    Non-strings are converted with ``str`` (``None`` becomes ``""``); bytes are decoded as
    UTF-8 with replacement. Every unsafe character is replaced by a visible escape; with
    ``multiline`` newlines and tabs stay as they are (``\\r`` is still escaped: it would let a
    line overwrite itself). ``limit`` cuts the result to that many characters, ending in ``…``.
    """
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = bytes(value).decode("utf-8", errors="replace")
    else:
        text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    pattern = _UNSAFE_MULTILINE if multiline else UNSAFE
    return pattern.sub(_escape, text)


def has_unsafe(value: str, *, multiline: bool = False) -> bool:
    """True when :func:`safe_text` would change ``value``."""
    return (_UNSAFE_MULTILINE if multiline else UNSAFE).search(value) is not None


#: Printable ASCII (space to ``~``): never unsafe, and never part of a multi-byte UTF-8 sequence.
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


def _unsafe_in_utf8(data: bytes, *, multiline: bool) -> bool:
    """Whether ``data`` (valid UTF-8, lone surrogates allowed) holds a character ``safe_text``
    escapes. Printable ASCII is deleted first (``bytes.translate``, one C pass: ~1 ms per MB)
    and only what is left, usually a few bytes, is searched: in valid UTF-8 an ASCII byte is
    never inside a multi-byte sequence, so what is left is whole characters, in order. A regex
    over the full text costs ~10 ms per MB; over the bytes, more still."""
    rest = data.translate(None, _PRINTABLE_ASCII)
    if not rest:
        return False
    pattern = _UNSAFE_MULTILINE if multiline else UNSAFE
    return pattern.search(rest.decode("utf-8", errors="surrogatepass")) is not None


def as_sent_text(data: bytes) -> str | None:
    """``data`` as text when it may be written as it is, else ``None``.

    Clean: strictly valid UTF-8 (no lone surrogates) and nothing :func:`safe_text` would
    escape on one line: no C0 control (tab, newline and CR included), DEL, C1 control, bidi
    or invisible character, BOM. The bytes of a clean JSON document are a single line of
    JSON with no raw control character in it: what ``api`` writes to a pipe without
    re-encoding (an escape such as ``\\u001b`` is six printable characters: clean).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _unsafe_in_utf8(data, multiline=False) else text


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def safe_json_dumps(data: Any, *, indent: int | None = None) -> str:
    """``json.dumps`` for output a person may read: UTF-8 kept readable, unsafe characters escaped.

    ``json.dumps(ensure_ascii=False)`` escapes C0 controls but writes C1 controls and bidi
    overrides raw; here they become ``\\uXXXX`` escapes, which every JSON parser reads back as
    the same string. Outside strings JSON is plain ASCII, so the substitution only ever
    touches string contents.
    """
    separators = (",", ": ") if indent is not None else (",", ":")
    text = json.dumps(data, indent=indent, ensure_ascii=False, separators=separators)
    # The substitution scans the whole text (~8 ms per MB); checking the UTF-8 first is ~1 ms
    # per MB, and most documents hold nothing to escape. (Lone surrogates pass through the
    # encoder as they are: "surrogatepass" keeps them, for the regex to find.)
    if not _unsafe_in_utf8(text.encode("utf-8", errors="surrogatepass"), multiline=True):
        return text
    return _UNSAFE_MULTILINE.sub(_json_escape, text)
