"""loads_in_pieces gives exactly what json.loads gives, including its errors."""

import json

import pytest

from bonjoro_tui.jsonload import SMALL, loads_in_pieces

GOOD = [
    '{"a": [1, 2, {"b": null}], "c": "x"}',
    json.dumps(
        {
            "data": [{"i": i, "s": "é\u2028\"\\", "n": None, "f": 1.5e3, "t": True, "l": [1, {}]} for i in range(20000)],
            "k": {},
            "e": [],
        }
    ),
    json.dumps([[i, {"x": [i]}] for i in range(30000)], indent=2),
    " \n" + json.dumps({"a": [1] * 100000}) + "\n ",
    '{"dup": 1, "dup": 2, "pad": "' + "x" * SMALL + '"}',
]


@pytest.mark.parametrize("text", GOOD)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_same_document_as_json_loads(text, as_bytes):
    data = text.encode() if as_bytes else text
    assert loads_in_pieces(data) == json.loads(data)


BAD = [
    json.dumps({"a": [1] * 100000})[:-1],  # cut short
    json.dumps({"a": [1] * 100000}) + "x",  # trailing garbage
    '{"a": [1,]' + " " * SMALL + "}",  # trailing comma
    "[" + "1," * 200000 + "]",
    '{"a" 1' + " " * SMALL + "}",  # missing colon
    '{1: 2' + " " * SMALL + "}",  # key that is not a string
]


@pytest.mark.parametrize("text", BAD)
def test_same_error_as_json_loads(text):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        loads_in_pieces(text)
    assert (got.value.msg, got.value.pos) == (expected.value.msg, expected.value.pos)


def test_other_encodings_and_bom_behave_like_json_loads():
    doc = {"data": ["é" * 10] * 30000}
    utf16 = json.dumps(doc, ensure_ascii=False).encode("utf-16")
    assert loads_in_pieces(utf16) == doc
    with_bom = "\ufeff" + json.dumps(doc)
    with pytest.raises(json.JSONDecodeError):
        loads_in_pieces(with_bom)


# ---- nesting depth: a bad body is a ValueError, never a RecursionError ------------------------

from bonjoro_tui import jsonload  # noqa: E402
from bonjoro_tui.jsonload import MAX_DEPTH, TooDeep, nests_deeper_than  # noqa: E402


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("data", ["[" * 100_000, nested(5000), '{"a":' * 3000 + "1" + "}" * 3000,
                                  nested(MAX_DEPTH + 1), "[" * 100_000 + '"'])
@pytest.mark.parametrize("encode", [None, "utf-8", "utf-16", "utf-32"])
def test_deeper_than_the_limit_raises_too_deep(data, encode):
    body = data if encode is None else data.encode(encode)
    with pytest.raises(TooDeep) as info:
        loads_in_pieces(body, max_depth=MAX_DEPTH)
    assert str(info.value) == f"nested deeper than {MAX_DEPTH} levels" and info.value.limit == MAX_DEPTH
    assert isinstance(info.value, ValueError)


def test_at_the_limit_parses():
    assert loads_in_pieces(nested(MAX_DEPTH), max_depth=MAX_DEPTH) == json.loads(nested(MAX_DEPTH))
    big = '{"pad": "' + "x" * SMALL + '", "deep": ' + nested(MAX_DEPTH - 1) + "}"
    assert loads_in_pieces(big.encode(), max_depth=MAX_DEPTH) == json.loads(big)


def test_without_a_limit_recursion_is_still_too_deep():
    for body in ("[" * 100_000, nested(5000), ("[" * 5000 + " " * SMALL + "]" * 5000).encode()):
        with pytest.raises(TooDeep) as info:
            loads_in_pieces(body)
        assert info.value.limit is None


def test_brackets_in_strings_do_not_count():
    doc = ["[" * 1000, "{" * 1000, "]" * 1000, '\\"[[[[' * 300, "\\\\"]
    text = json.dumps(doc)
    assert not nests_deeper_than(text, 1)
    assert loads_in_pieces(text, max_depth=1) == doc
    # closing brackets hidden in a string do not hide the depth either
    hidden = "[" * 300 + '"' + "]" * 300 + '"' + "]" * 300
    assert nests_deeper_than(hidden, 299) and not nests_deeper_than(hidden, 300)


@pytest.mark.parametrize("slice_size", [1, 2, 3, 7, 64])
def test_measure_in_slices_is_exact(monkeypatch, slice_size):
    monkeypatch.setattr(jsonload, "_SLICE", slice_size)
    for k in range(12):
        doc = ['\\"' * k + "[[[", "x\\" * k, [[["\\\\" * k, '"]]]' * k]]]]
        text = json.dumps(doc)
        depth = 4
        assert nests_deeper_than(text, depth - 1) and not nests_deeper_than(text, depth), text


def test_undecodable_bodies_keep_json_loads_errors():
    with pytest.raises(UnicodeDecodeError):
        loads_in_pieces(b'{"a": "\xff"}', max_depth=MAX_DEPTH)
    with pytest.raises(UnicodeDecodeError):
        loads_in_pieces(b'[' * 300 + b'"\xff', max_depth=MAX_DEPTH * 10)
    with pytest.raises(TooDeep):  # invalid UTF-8 in a deep body is still measured
        loads_in_pieces(b'["\xff", ' + b"[" * 1000, max_depth=MAX_DEPTH)
