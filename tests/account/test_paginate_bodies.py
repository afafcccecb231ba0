"""account/paginate.Bodies: each page parsed once, and whether its bytes may be written as they
are (``api`` on a pipe; tests/cli/test_api_output_as_sent.py for the command's output)."""

from __future__ import annotations

import httpx
import pytest

from bonjoro_tui.account.paginate import Bodies
from bonjoro_tui.api.client import ApiResponse


def _response(content: bytes):
    return ApiResponse("GET", "https://bonjoro.test/api/v2/x", 200, "OK", httpx.Headers(), 0.0, content)


@pytest.mark.parametrize("content, clean", [
    (b'{"a":"Zo\xc3\xab \\u001b"}', b'{"a":"Zo\xc3\xab \\u001b"}'),
    (b' \r\n{"a":1}\n', b'{"a":1}'),
    (b'{"a":\n1}', None),  # a newline inside: one line per page, so encoded again
    (b'{"a":"\xe2\x80\xae"}', None),  # a raw RLO
    (b'{"a":"\xc2\x9b"}', None),  # a raw C1 CSI
    (b'\xef\xbb\xbf{"a":1}', None),  # a BOM
])
def test_bodies_parse_once_and_say_whether_the_bytes_are_clean(content, clean):
    r = _response(content)
    bodies = Bodies()
    assert bodies.of(r) == r.json()
    assert bodies.clean(r) == clean
    assert bodies.of(r) is bodies.of(r)


@pytest.mark.parametrize("content", [b"", b"  ", b"nope", b'{"a":1} x', b"[" * 100_000, b"\xff"])
def test_bodies_raise_r_json_s_error_for_what_is_not_json(content):
    r = _response(content)
    with pytest.raises(ValueError) as expected:
        r.json()
    with pytest.raises(ValueError) as got:
        Bodies().of(r)
    assert str(got.value) == str(expected.value)
    with pytest.raises(ValueError):
        Bodies().clean(r)
