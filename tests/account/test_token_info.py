"""account/token_info.py: a JWT decoded (never verified), exp against the stored expiry, an opaque
token said to be one, and nothing secret shown whole."""

from __future__ import annotations

import base64
import json

from bonjoro_tui.account.token_info import TOLERANCE, inspect_token
from bonjoro_tui.tokens import TokenSet

T0 = 1_800_000_000.0


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def jwt(claims: dict, header: dict | None = None) -> str:
    return f"{b64(header or {'typ': 'JWT', 'alg': 'HS256'})}.{b64(claims)}.c2lnbmF0dXJl"


def test_a_jwt_is_decoded_and_its_exp_agrees_with_the_stored_expiry():
    token = jwt({"sub": "u1", "iat": T0, "exp": T0 + 3600, "scope": "read"})
    info = inspect_token(TokenSet(token, T0, expires_at=T0 + 3601))
    assert info.is_jwt and info.header == {"typ": "JWT", "alg": "HS256"}
    assert info.claims["sub"] == "u1" and dict(info.times) == {"iat": T0, "exp": T0 + 3600}
    assert info.exp_difference == -1 and not info.exp_disagrees
    assert token not in repr(info) and info.masked.startswith(token[:6]) and "chars" in info.masked


def test_an_exp_that_disagrees_with_the_stored_expiry_is_flagged():
    info = inspect_token(TokenSet(jwt({"exp": T0 + 7200, "nbf": T0}), T0, expires_at=T0 + 3600))
    assert info.exp_disagrees and info.exp_difference == 3600 and TOLERANCE < 3600
    assert dict(info.times)["nbf"] == T0


def test_opaque_and_broken_tokens_are_said_to_be_opaque():
    for token in ("sandbox-api-key", "a.b", "eyJ.eyJ.sig", "x" * 40, "a.b.c.d.e"):
        info = inspect_token(TokenSet(token, T0))
        assert not info.is_jwt and info.opaque_reason, token
    assert "encrypted" in inspect_token(TokenSet("a.b.c.d.e", T0)).opaque_reason
    assert inspect_token(TokenSet(f"{b64({'alg': 'none'})}.{b64([1, 2])}.", T0)).is_jwt is False


def test_secret_looking_claims_and_the_tokens_themselves_are_masked():
    refresh = "refresh-token-value-0123456789"
    claims = {"sub": "u1", "client_secret": "s3cr3t-value-xyz", "nested": {"api_key": "k" * 30},
              "echo": refresh, "exp": T0, "short_key": "ab"}
    info = inspect_token(TokenSet(jwt(claims), T0, refresh_token=refresh))
    shown = json.dumps(info.claims)
    assert "s3cr3t-value-xyz" not in shown and "k" * 30 not in shown and refresh not in shown
    assert set(info.masked_claims) == {"client_secret", "nested.api_key", "echo"}
    assert info.claims["sub"] == "u1" and info.claims["short_key"] == "ab"
