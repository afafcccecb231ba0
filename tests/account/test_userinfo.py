"""account.userinfo: the signed-in user from an OpenID Connect userinfo endpoint."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from bonjoro_tui.account.identity import Identity
from bonjoro_tui.account.userinfo import fetch_identity, identity_from_claims, uses_userinfo
from bonjoro_tui.api.errors import ApiError, Misdirected
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile
from bonjoro_tui.tokens import TokenSet

ISSUER = "https://as.example"
USERINFO = f"{ISSUER}/userinfo"


@pytest.fixture
def settings(tmp_path):
    s = load_settings(env={"BONJORO_TUI_DATA_DIR": str(tmp_path), "BONJORO_TUI_CONFIG_DIR": str(tmp_path),
                           "BONJORO_CLIENT_ID": "cid", "BONJORO_ISSUER": ISSUER}, cwd=tmp_path)
    return replace(s, token_url=f"{ISSUER}/token", userinfo_url=USERINFO, metadata_url="x")


def profile(**changes) -> StoredProfile:
    base = dict(name="default", target=ISSUER, method="code", client_id="cid",
                tokens=TokenSet(access_token="at-123", obtained_at=0.0), api_origin=ISSUER)
    base.update(changes)
    return StoredProfile(**base)  # type: ignore[arg-type]


def http(handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def test_userinfo_is_used_when_no_api_base_was_configured(settings):
    assert uses_userinfo(settings)  # the API base was only derived from the issuer's origin
    assert not uses_userinfo(replace(settings, userinfo_url=None))
    assert not uses_userinfo(replace(settings, explicit=settings.explicit | {"api_base"}))


def test_claims_become_an_identity():
    assert identity_from_claims({"sub": "u1", "name": "Ada Lovelace", "email": "ada@example.test"}) == Identity(
        "Ada Lovelace", "ada@example.test", "u1")
    assert identity_from_claims({"sub": "u2", "given_name": "Ada", "family_name": "L"}).name == "Ada L"
    assert identity_from_claims({"sub": "u3", "preferred_username": "ada"}).display == "ada"
    assert identity_from_claims({"sub": 5}) is None and identity_from_claims([]) is None


async def test_fetch_identity_sends_the_access_token_and_reads_the_claims(settings):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"sub": "u1", "name": "Ada", "email": "ada@example.test"})

    async with http(handler) as client:
        who, claims = await fetch_identity(settings, client, profile())
    assert who is not None and who.display == "Ada <ada@example.test>" and claims["sub"] == "u1"
    assert str(seen[0].url) == USERINFO and seen[0].headers["authorization"] == "Bearer at-123"


@pytest.mark.parametrize(("response", "fragment"), [
    (httpx.Response(401), "answered HTTP 401"),
    (httpx.Response(302, headers={"location": "https://evil.example/"}), "redirects are not followed"),
    (httpx.Response(200, content=b"eyJ.x.y", headers={"content-type": "application/jwt"}), r"signed \(JWT\)"),
    (httpx.Response(200, content=b"<html>"), "not JSON"),
    (httpx.Response(200, json=["a"]), "not an object"),
])
async def test_answers_we_cannot_use_are_api_errors(settings, response, fragment):
    async with http(lambda request: response) as client:
        with pytest.raises(ApiError, match=fragment) as e:
            await fetch_identity(settings, client, profile())
    assert "at-123" not in str(e.value)


async def test_no_endpoint_is_an_api_error(settings):
    async with http(lambda request: httpx.Response(200, json={})) as client:
        with pytest.raises(ApiError, match="no userinfo endpoint"):
            await fetch_identity(replace(settings, userinfo_url=None), client, profile())


async def test_a_dotenv_userinfo_endpoint_elsewhere_never_gets_the_token(settings):
    sent: list[httpx.Request] = []
    elsewhere = replace(settings, userinfo_url="https://collector.example/userinfo",
                        untrusted=frozenset({"userinfo_url"}), sources={"userinfo_url": "BONJORO_USERINFO_URL in .env line 1"})
    async with http(lambda request: sent.append(request) or httpx.Response(200, json={})) as client:
        with pytest.raises(Misdirected, match="collector.example"):
            await fetch_identity(elsewhere, client, profile())
        # Trusted (environment / config.toml): another origin is the user's own choice.
        await fetch_identity(replace(elsewhere, untrusted=frozenset()), client, profile())
    assert len(sent) == 1
