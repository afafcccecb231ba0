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
