"""``json.loads`` for large bodies, in pieces, so a parse in a worker thread does not freeze the UI.

``json.loads`` is one C call that holds the GIL for its whole run: parsing 5 MB in a thread
still stalls the event loop for the full parse (~100 ms and more). :func:`loads_in_pieces`
parses the top level and the containers directly inside it value by value with
``JSONDecoder.raw_decode``; between values the interpreter may hand the GIL to the event loop,
so the longest stall is the parse of one element (a greet: a fraction of a millisecond).

The result equals ``json.loads(data)``; whatever this module does not handle itself (a
non-UTF-8 encoding, invalid JSON, a small document) goes to ``json.loads``, which also
produces the usual error.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Below this size one ``json.loads`` call is quick enough.
SMALL = 256 * 1024

_decoder = json.JSONDecoder()
_ws = re.compile(r"[ \t\n\r]*")


class _Fallback(Exception):
    pass


def loads_in_pieces(data: bytes | str) -> Any:
    if len(data) < SMALL:
        return json.loads(data)
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    except UnicodeDecodeError:
        return json.loads(data)  # UTF-16/32 (detected by json) or an error
    if text.startswith("\ufeff"):
        return json.loads(data)  # json.loads refuses a BOM in a str: keep its behaviour
    try:
        value, end = _value(text, _ws.match(text, 0).end(), depth=0)
        end = _ws.match(text, end).end()
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
    i = _ws.match(text, i).end()
    if text[i : i + 1] == "}":
        return result, i + 1
    while True:
        if text[i : i + 1] != '"':
            raise _Fallback
        key, i = _decoder.raw_decode(text, i)
        i = _ws.match(text, i).end()
        if text[i : i + 1] != ":":
            raise _Fallback
        value, i = _value(text, _ws.match(text, i + 1).end(), depth)
        result[key] = value
        i = _ws.match(text, i).end()
        sep = text[i : i + 1]
        if sep == "}":
            return result, i + 1
        if sep != ",":
            raise _Fallback
        i = _ws.match(text, i + 1).end()


def _array(text: str, i: int, depth: int) -> tuple[list, int]:
    result: list[Any] = []
    i = _ws.match(text, i).end()
    if text[i : i + 1] == "]":
        return result, i + 1
    while True:
        value, i = _value(text, i, depth)
        result.append(value)
        i = _ws.match(text, i).end()
        sep = text[i : i + 1]
        if sep == "]":
            return result, i + 1
        if sep != ",":
            raise _Fallback
        i = _ws.match(text, i + 1).end()
