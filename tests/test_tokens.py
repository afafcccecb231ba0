import math

import pytest

from bonjoro_tui.tokens import TokenResponseError, TokenSet


def test_expires_at_counts_from_the_time_the_request_was_sent():
    t = TokenSet.from_response({"access_token": "a", "expires_in": 3600, "token_type": "Bearer"}, sent_at=1000.0)
    assert t.expires_at == 4600.0
    assert t.expires_in(now=1600.0) == 3000.0
    assert t.lifetime == 3600.0


def test_leeway_is_capped_by_the_lifetime():
    short = TokenSet.from_response({"access_token": "a", "expires_in": 2}, sent_at=0.0)
    assert short.effective_leeway() == 1.0
    assert not short.needs_refresh(now=0.5)
    assert short.needs_refresh(now=1.0)
    long = TokenSet.from_response({"access_token": "a", "expires_in": 3600}, sent_at=0.0)
    assert not long.needs_refresh(now=3539.0)
    assert long.needs_refresh(now=3540.0)


def test_api_key_never_needs_refresh():
    t = TokenSet(access_token="k", obtained_at=0.0)
    assert t.expires_in(10**9) is None
    assert not t.needs_refresh(10**9)
    assert t.fraction_left(5) is None


def test_clock_jumping_backwards_forces_refresh():
    t = TokenSet.from_response({"access_token": "a", "expires_in": 3600}, sent_at=10_000.0)
    assert t.needs_refresh(now=1_000.0)


def test_fraction_left_is_clamped():
    t = TokenSet.from_response({"access_token": "a", "expires_in": 100}, sent_at=0.0)
    assert t.fraction_left(0) == 1.0
    assert t.fraction_left(25) == 0.75
    assert t.fraction_left(1000) == 0.0


def test_numeric_string_expires_in_is_accepted():
    t = TokenSet.from_response({"access_token": "a", "expires_in": "60"}, sent_at=0.0)
    assert t.expires_at == 60.0


def test_refresh_response_without_refresh_token_keeps_the_old_one():
    old = TokenSet(access_token="a", obtained_at=0, refresh_token="r1")
    new = TokenSet(access_token="b", obtained_at=1).with_refresh_fallback(old)
    assert new.refresh_token == "r1"


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("<html>", "not a JSON object"),
        ([], "not a JSON object"),
        ({}, "no access_token"),
        ({"access_token": ""}, "no access_token"),
        ({"access_token": 5}, "no access_token"),
        ({"access_token": "a", "token_type": "mac"}, "only Bearer"),
        ({"access_token": "a", "expires_in": -1}, "not usable"),
        ({"access_token": "a", "expires_in": 0}, "not usable"),
        ({"access_token": "a", "expires_in": 10**12}, "not usable"),
        ({"access_token": "a", "expires_in": math.inf}, "not usable"),
        ({"access_token": "a", "expires_in": "soon"}, "not a number"),
        ({"access_token": "a", "expires_in": True}, "not a number"),
        ({"access_token": "a", "refresh_token": 7}, "refresh_token"),
    ],
)
def test_malformed_token_responses_are_refused_with_a_clear_reason(body, fragment):
    with pytest.raises(TokenResponseError, match=fragment):
        TokenSet.from_response(body, sent_at=0.0)


def test_repr_never_shows_a_token_in_full():
    t = TokenSet(access_token="access-SECRET-value-123", obtained_at=0, refresh_token="refresh-SECRET-value-456")
    text = repr(t) + str(t) + repr([t])
    assert "access-SECRET-value-123" not in text
    assert "refresh-SECRET-value-456" not in text
    assert "23 chars" in text
