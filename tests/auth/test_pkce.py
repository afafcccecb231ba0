"""PKCE verifier/challenge (RFC 7636), state, and the authorization URL."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import pytest

from bonjoro_tui.auth.pkce import VERIFIER_RE, AuthorizationRequest, new_state, new_verifier, s256_challenge


def test_rfc7636_appendix_b_example():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifier_is_43_to_128_unreserved_chars_with_at_least_256_bits():
    seen = set()
    for _ in range(200):
        v = new_verifier()
        assert VERIFIER_RE.match(v)
        assert 43 <= len(v) <= 128
        # base64url carries 6 bits per character
        assert len(v) * 6 >= 256
        seen.add(v)
    assert len(seen) == 200


def test_state_has_at_least_128_bits_and_is_unique():
    states = {new_state() for _ in range(200)}
    assert len(states) == 200
    assert all(len(s) * 6 >= 128 and math.isfinite(len(s)) for s in states)


@pytest.mark.parametrize("bad", ["short", "x" * 129, "a" * 42 + "!", "ä" * 50])
def test_challenge_refuses_invalid_verifiers(bad):
    with pytest.raises(ValueError):
        s256_challenge(bad)


def test_authorization_url_carries_every_parameter():
    req = AuthorizationRequest.new(
        "https://as.test/oauth/authorize?tenant=a b", "client 1", "http://127.0.0.1:5000/callback", scope="read write"
    )
    assert req.challenge == s256_challenge(req.verifier)
    parts = urlsplit(req.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "as.test", "/oauth/authorize")
    q = parse_qs(parts.query)
    assert q == {
        "tenant": ["a b"],
        "response_type": ["code"],
        "client_id": ["client 1"],
        "redirect_uri": ["http://127.0.0.1:5000/callback"],
        "state": [req.state],
        "code_challenge": [req.challenge],
        "code_challenge_method": ["S256"],
        "scope": ["read write"],
    }
    assert req.verifier not in req.url
    assert req.verifier not in repr(req) and req.state not in repr(req)


def test_no_scope_parameter_when_unset():
    req = AuthorizationRequest.new("https://as.test/authorize", "c", "http://127.0.0.1:1/callback")
    assert "scope" not in parse_qs(urlsplit(req.url).query)
    assert AuthorizationRequest.new("https://as.test/authorize", "c", "http://127.0.0.1:1/callback").state != req.state
