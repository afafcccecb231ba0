"""``json.loads`` for large bodies, in pieces, so a parse in a worker thread does not freeze the UI.

``json.loads`` is one C call that holds the GIL for its whole run: parsing 5 MB in a thread
still stalls the event loop for the full parse (~100 ms and more). :func:`loads_in_pieces`
parses the top level and the containers directly inside it value by value with
``JSONDecoder.raw_decode``; between values the interpreter may hand the GIL to the event loop,
so the longest stall is the parse of one element (a greet: a fraction of a millisecond).

The result equals ``json.loads(data)``; whatever this module does not handle itself (a
non-UTF-8 encoding, invalid JSON, a small document) goes to ``json.loads``, which also
produces the usual error.

Nesting: ``json.loads`` recurses once per level and raises ``RecursionError`` somewhere near
the interpreter's recursion limit (about 1000 levels, less the caller's own stack), so how
deep a body may be would depend on who parses it. With ``max_depth`` a body nested deeper
raises :class:`TooDeep` (a ``ValueError``) before any parsing, whatever its size or validity
(``[`` × 100 000 included); without it a ``RecursionError`` still becomes :class:`TooDeep`.
The depth is measured over the bytes: brackets are counted in one C pass, and only a body
whose bracket count goes past the limit is measured again with its strings taken out.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

#: Below this size one ``json.loads`` call is quick enough.
SMALL = 256 * 1024

#: How deep the explorer lets a body nest: far beyond any real API response (Bonjoro's go five
#: levels deep), and far enough under CPython's recursion limit (1000) that neither
#: ``json.loads`` nor a recursive walk of the document (Textual's tree builds its lines
#: recursively) comes near it, wherever it is called from.
MAX_DEPTH = 256


class TooDeep(ValueError):
    """The body nests containers deeper than ``limit`` levels (``None``: deeper than the parser goes)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        super().__init__(
            f"nested deeper than {limit} levels" if limit is not None else "nested too deeply to parse"
        )

_decoder = json.JSONDecoder()
_ws = re.compile(r"[ \t\n\r]*")


def _skip_ws(text: str, i: int) -> int:
    """The index of the first character at or after ``i`` that is not JSON whitespace."""
    match = _ws.match(text, i)
    assert match is not None  # the pattern matches the empty string: it matches everywhere
    return match.end()


class _Fallback(Exception):
    pass


def loads_in_pieces(data: bytes | str, *, max_depth: int | None = None) -> Any:
    """``json.loads(data)``, in pieces when ``data`` is large; :class:`TooDeep` past ``max_depth``."""
    if max_depth is not None and nests_deeper_than(data, max_depth):
        raise TooDeep(max_depth)
    try:
        return _loads(data)
    except RecursionError:
        raise TooDeep(max_depth) from None


def _loads(data: bytes | str) -> Any:
    if len(data) < SMALL:
        return json.loads(data)
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    except UnicodeDecodeError:
        return json.loads(data)  # UTF-16/32 (detected by json) or an error
    if text.startswith("\ufeff"):
        return json.loads(data)  # json.loads refuses a BOM in a str: keep its behaviour
    try:
        value, end = _value(text, _skip_ws(text, 0), depth=0)
        end = _skip_ws(text, end)
        if end != len(text):
            raise _Fallback
        return value
    except (_Fallback, ValueError, IndexError):
        return json.loads(data)


def _value(text: str, i: int, depth: int) -> tuple[Any, int]:
    first = text[i : i + 1]
    if depth < 2 and first == "{":
        return _object(text, i + 1, depth + 1)
    if depth < 2 and first == "[":
        return _array(text, i + 1, depth + 1)
    return _decoder.raw_decode(text, i)


def _object(text: str, i: int, depth: int) -> tuple[dict, int]:
    result: dict[str, Any] = {}
    i = _skip_ws(text, i)
    if text[i : i + 1] == "}":
        return result, i + 1
    while True:
        if text[i : i + 1] != '"':
            raise _Fallback
        key, i = _decoder.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text[i : i + 1] != ":":
            raise _Fallback
        value, i = _value(text, _skip_ws(text, i + 1), depth)
        result[key] = value
        i = _skip_ws(text, i)
        sep = text[i : i + 1]
        if sep == "}":
            return result, i + 1
        if sep != ",":
            raise _Fallback
        i = _skip_ws(text, i + 1)


def _array(text: str, i: int, depth: int) -> tuple[list, int]:
    result: list[Any] = []
    i = _skip_ws(text, i)
    if text[i : i + 1] == "]":
        return result, i + 1
    while True:
        value, i = _value(text, i, depth)
        result.append(value)
        i = _skip_ws(text, i)
        sep = text[i : i + 1]
        if sep == "]":
            return result, i + 1
        if sep != ",":
            raise _Fallback
        i = _skip_ws(text, i + 1)


# ---- nesting depth -----------------------------------------------------------------------------

#: Bytes that matter for the depth: brackets and the quotes around strings.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_STEP = [0] * 256
for _b in b"[{":
    _STEP[_b] = 1
for _b in b"]}":
    _STEP[_b] = -1
_STEP_OF = _STEP.__getitem__
#: The body is measured in slices of this size: each step is one short C call, and between
#: slices the interpreter may hand the GIL to the event loop (as in the parse itself).
_SLICE = 256 * 1024


def nests_deeper_than(data: bytes | str, limit: int) -> bool:
    """Whether the containers of the JSON text ``data`` nest deeper than ``limit`` levels.

    Brackets inside strings do not count. Invalid JSON is measured as far as it goes
    (``[`` × 100 000 is 100 000 deep); a body that cannot be decoded is not measured
    (``json.loads`` reports it).
    """
    raw = _as_utf8(data)
    if raw is None or raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # cannot go deeper than its number of containers
    depth, in_string, start = 0, False, 0
    while start < len(raw):
        end = min(len(raw), start + _SLICE)
        while end < len(raw) and raw[end - 1] == 0x5C:  # never cut a run of backslashes
            end += 1
        # Escaped backslashes first, then escaped quotes: the quotes left delimit strings.
        piece = raw[start:end].replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
        parts = piece.split(b'"')
        outside = b"".join(parts[1::2] if in_string else parts[::2])
        if len(parts) % 2 == 0:
            in_string = not in_string
        if outside:
            levels = list(accumulate(map(_STEP_OF, outside), initial=depth))
            if max(levels) > limit:
                return True
            depth = levels[-1]
        start = end
    return False


def _as_utf8(data: bytes | str) -> bytes | None:
    """``data`` as UTF-8 bytes for measuring (UTF-16/32 re-encoded), None if it cannot be decoded."""
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    data = bytes(data)
    encoding = json.detect_encoding(data)
    if encoding.startswith("utf-8"):
        return data  # invalid UTF-8 is measured as it is: only ASCII brackets and quotes count
    try:
        return data.decode(encoding, "surrogatepass").encode("utf-8", "surrogatepass")
    except UnicodeError:
        return None
