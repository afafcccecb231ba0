"""Redaction masks whole secrets (issue 11, part B).

RFC 6749 allows any printable ASCII (%x20-7E) in a token, so a token may hold ``,``, a space,
quotes, ``&``, ``=``, ``}``, ``\\``, ``%``. The debug log used to mask such a token only up to its
first ``,`` or space (the field rule ran first and stopped there), leaving the tail in the log.
Now known secrets are replaced first, longest first, in every spelling a body gives them (raw,
JSON-escaped, repr-escaped, percent-encoded), and a quoted field value of an unknown secret is
masked to its closing quote. Checked with hypothesis over all of %x20-7E and with explicit
tokens, in every context the debug log writes, and end to end through the debug log.
"""

from __future__ import annotations

import json
import os
import re
import string
import sys
from urllib.parse import quote, quote_plus, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st

from adversarial import figures
from bonjoro_tui.plumbing.debug import LOG_FILE_NAME, open_debug_log
from bonjoro_tui.redact import Redactor, mask

SOAK = "--soak" in sys.argv or os.environ.get("BONJORO_TUI_SOAK", "") not in ("", "0")
EXAMPLES = 300 * (10 if SOAK else 1)
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))  # RFC 6749 VSCHAR plus space
TRICKY = [",", " ", '"', "'", "&", "=", "}", "\\", "%"]
TRIED = "redaction: tokens tried (hypothesis over %x20-7E + explicit)"
SHOWN = "redaction: tokens partly shown"
MASK_TAIL = re.compile(r"…\(\d+ chars\)")

tokens = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=4, max_size=80)
hyp = hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def spellings(token: str) -> set[str]:
    """How the token can appear in a logged text."""
    return {token, json.dumps(token)[1:-1], repr(token)[1:-1], quote(token, safe=""), quote_plus(token, safe="")}


def contexts(token: str) -> dict[str, str]:
    """Every kind of text the debug log writes, carrying the token."""
    return {
        "json field": json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 3600}),
        "json compact": json.dumps({"refresh_token": token, "scope": "*"}, separators=(",", ":")),
        "json unknown field": json.dumps({"echo": token, "ok": True}),
        "json pretty": json.dumps({"data": {"token": token}}, indent=2),
        "form body": urlencode({"grant_type": "refresh_token", "refresh_token": token, "client_id": "c"}),
        "query": "→ GET http://api.test/me?" + urlencode({"token": token}) + " (3 ms)",
        "bearer header": "  authorization: Bearer " + token,
        "plain text": f"the server said {token} twice: {token}.",
        "python repr": repr({"access_token": token, "n": 1}),
        "glued": f"x{token}{token}y",
    }


def leaked(token: str, text: str, original: str) -> list[str]:
    """Spellings of the token, or 8-character windows of one, left in ``text`` (a window that the
    text around the token had anyway does not count). Mask tails are cut out first: a token such
    as ``8 chars)`` would otherwise "appear" in its own mask."""
    out = MASK_TAIL.sub("\0", text)
    found = [s for s in spellings(token) if s in out]
    for s in spellings(token):
        around = original.replace(s, "\0")
        for i in range(len(s) - 7):
            w = s[i:i + 8]
            if w in out and w not in around:
                found.append(w)
    return found


def tried(token: str, shown: bool) -> None:
    figures.add(TRIED)
    figures.add(SHOWN, int(shown))


# --------------------------------------------------------------------------- known secrets


@hyp
@given(token=tokens)
@example(token=PRINTABLE)
@example(token="8 chars)")
@example(token="ab,cd ef")
def test_a_known_token_of_any_printable_ascii_is_masked_whole_everywhere(token):
    r = Redactor([token])
    bad = {}
    for where, text in contexts(token).items():
        found = leaked(token, r(text), text)
        if found:
            bad[where] = found
    tried(token, bool(bad))
    assert not bad, f"token of {len(token)} chars partly shown in: {sorted(bad)}"


@pytest.mark.parametrize("char", TRICKY, ids=[f"U+{ord(c):04X}" for c in TRICKY])
@pytest.mark.parametrize("at", ["start", "middle", "end", "everywhere"])
def test_a_known_token_with_a_tricky_character(char, at):
    base = "tokABCDEFGH12345678"
    token = {"start": char + base, "middle": base[:9] + char + base[9:], "end": base + char,
             "everywhere": char.join(base[i:i + 3] for i in range(0, len(base), 3))}[at]
    r = Redactor([token])
    for where, text in contexts(token).items():
        out = r(text)
        assert not leaked(token, out, text), (where, out)
    # The tail after the tricky character is what the old order left in the log.
    tail = token.split(char)[-1] if char in token else ""
    if len(tail) >= 6:
        assert tail not in r(json.dumps({"access_token": token}))
        assert tail not in r("Authorization: Bearer " + token)
    tried(token, False)


def test_the_longest_known_secret_goes_first():
    short, long = "ab, cd", "xx ab, cd yy,zz"
    r = Redactor([short, long])
    out = r(f"saw {long} and {short}")
    assert out == f"saw {mask(long)} and {mask(short)}"
    assert "yy,zz" not in out and " yy" not in out


def test_a_known_secret_is_masked_once_even_inside_a_field():
    token = 'a "quoted", spaced & = } \\ % token'
    r = Redactor([token])
    out = r(json.dumps({"access_token": token}))
    assert out == json.dumps({"access_token": "X"}).replace("X", mask(json.dumps(token)[1:-1]))
    assert r(f"access_token={quote_plus(token)}&x=1") == f"access_token={mask(quote_plus(token))}&x=1"


# --------------------------------------------------------------------------- unknown secrets (field rules)


@hyp
@given(token=tokens)
@example(token=PRINTABLE)
@example(token='ab\\"cd, ef')
def test_an_unknown_token_in_a_quoted_or_encoded_field_is_masked_whole(token):
    r = Redactor()  # never told: only the field rules can hide it
    escaped = json.dumps(token)[1:-1]
    assert r(json.dumps({"access_token": token, "expires_in": 3600})) == (
        '{"access_token": "' + mask(escaped) + '", "expires_in": 3600}')
    assert r(json.dumps({"refresh_token": token}, separators=(",", ":"))) == '{"refresh_token":"' + mask(escaped) + '"}'
    rep = repr(token)
    assert r(repr({"client_secret": token})) == "{'client_secret': " + rep[0] + mask(rep[1:-1]) + rep[-1] + "}"
    assert r(urlencode({"code": token, "state": "s"})) == f"code={mask(quote_plus(token))}&state=s"
    tried(token, False)


@pytest.mark.parametrize("char", TRICKY, ids=[f"U+{ord(c):04X}" for c in TRICKY])
def test_an_unknown_token_with_a_tricky_character_leaves_no_tail(char):
    token = f"head{char}TAILTAILTAIL"
    r = Redactor()
    for text in (json.dumps({"access_token": token}), json.dumps({"token": token}, indent=2),
                 repr({"password": token}), urlencode({"client_secret": token})):
        out = r(text)
        assert "TAILTAIL" not in out, out
    tried(token, False)


def test_an_unterminated_quoted_value_is_masked_to_the_end_of_the_line():
    r = Redactor()
    cut = '{"access_token": "abc, def ghi jkl mno'  # a body cut at the log's limit
    assert r(cut + '\nnext line') == '{"access_token": "' + mask("abc, def ghi jkl mno") + "\nnext line"


# --------------------------------------------------------------------------- through the debug log


async def test_debug_log_masks_whole_tokens_made_of_every_printable_character(tmp_path, capsys):
    access = "AT " + PRINTABLE + " end"
    refresh = 'RT, "x" & y = z } \\ % ' + PRINTABLE[::-1]
    secret = "cs,secret with spaces & = } %"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": access, "refresh_token": refresh, "token_type": "Bearer"})
        return httpx.Response(200, json={"echo": request.url.params.get("t", ""), "seen": [access, refresh]})

    log = open_debug_log(tmp_path / "logs", secrets=[secret])
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), event_hooks=log.event_hooks()) as http:
        await http.post("http://api.test/token", data={"grant_type": "client_credentials", "client_secret": secret})
        await http.get("http://api.test/me", params={"t": access})
        await http.post("http://api.test/revoke", data={"token": refresh, "token_type_hint": "refresh_token"})
        await http.post("http://api.test/echo", json={"note": f"{access} and {refresh}"})
    log.close()
    text = (tmp_path / "logs" / LOG_FILE_NAME).read_text()
    err = capsys.readouterr().err
    assert "→ POST http://api.test/token" in text and "grant_type=client_credentials" in text
    for out in (text, err):
        for token in (access, refresh, secret):
            found = leaked(token, out, "")
            tried(token, bool(found))
            assert not found, found[:3]
