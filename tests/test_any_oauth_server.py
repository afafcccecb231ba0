"""Issue 12's findings about configuration, each as a test: URLs mean what they say, endpoints
come from the one origin the user gave, and a profile's own client is the one presented."""

from __future__ import annotations

import os
from dataclasses import replace

import httpx
import pytest
import respx

from bonjoro_tui.account.status import describe
from bonjoro_tui.api.client import BonjoroClient
from bonjoro_tui.api.errors import ClientMismatch
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet

T0 = 1_800_000_000.0


def settings(**env: str):
    return load_settings(env={**os.environ, **env})


@pytest.mark.parametrize("url", ["https://auth.example/o/token/", "https://auth.example/o/revoke_token/"])
def test_an_endpoint_keeps_its_trailing_slash(url):
    s = settings(BONJORO_CLIENT_ID="c", BONJORO_TOKEN_URL="https://auth.example/o/token/",
                 BONJORO_REVOKE_URL="https://auth.example/o/revoke_token/", BONJORO_ISSUER="https://auth.example/")
    assert url in (s.token_url, s.revoke_url)
    assert s.issuer == "https://auth.example/"  # RFC 9207 compares it exactly


def test_unset_endpoints_come_from_the_origin_the_user_gave_never_bonjoros():
    s = settings(BONJORO_CLIENT_ID="c", BONJORO_TOKEN_URL="https://auth.example:8443/o/token/")
    assert s.base_url == "https://auth.example:8443"
    assert s.authorize_url == "https://auth.example:8443/oauth/authorize"
    assert s.api_base == "https://auth.example:8443/api/v2"
    assert s.revoke_url is None  # a revocation path is not guessed for another server
    assert "bonjoro.com" not in " ".join(str(v) for v in (s.base_url, s.authorize_url, s.api_base))
    assert s.source("api_base") == "derived from the environment variable BONJORO_TOKEN_URL"
    # status names the server actually in use
    status = describe(s, None, T0)
    assert status.where == "live (https://auth.example:8443)" and status.to_json()["base_url"] == s.base_url


def test_the_body_format_and_client_authentication_follow_the_server():
    other = settings(BONJORO_CLIENT_ID="c", BONJORO_TOKEN_URL="https://auth.example/o/token/")
    assert (other.token_format, other.token_auth) == ("form", "client_secret_basic")
    bonjoro = settings(BONJORO_CLIENT_ID="c")
    assert (bonjoro.token_format, bonjoro.token_auth) == ("json", "client_secret_post")
    forced = settings(BONJORO_CLIENT_ID="c", BONJORO_TOKEN_URL="https://auth.example/t",
                      BONJORO_TOKEN_FORMAT="json", BONJORO_TOKEN_AUTH="client_secret_post")
    assert (forced.token_format, forced.token_auth) == ("json", "client_secret_post")


@respx.mock
async def test_a_refused_body_format_names_the_setting_to_change():
    from bonjoro_tui.auth.oauth import OAuthClient, OAuthError

    s = settings(BONJORO_CLIENT_ID="c", BONJORO_TOKEN_URL="https://auth.example/o/token/", BONJORO_TOKEN_FORMAT="json")
    respx.post("https://auth.example/o/token/").respond(400, json={"error": "unsupported_grant_type"})
    async with httpx.AsyncClient() as http:
        with pytest.raises(OAuthError) as info:
            await OAuthClient(s, http).refresh("r" * 20)
    assert "set BONJORO_TOKEN_FORMAT=form" in info.value.hint


@respx.mock
async def test_a_profile_of_another_client_is_never_refreshed_with_the_configured_clients_secret(tmp_path):
    s = replace(settings(BONJORO_CLIENT_ID="configured", BONJORO_CLIENT_SECRET="its-secret",
                         BONJORO_TOKEN_URL="https://auth.example/o/token/"), data_dir=tmp_path)
    store = TokenStore(s.store_path)
    store.save(StoredProfile(s.profile, s.target_id, "code", "the-original-client",
                             TokenSet("a" * 20, T0, refresh_token="r" * 20, expires_at=T0 + 10)))
    token = respx.post("https://auth.example/o/token/")
    async with httpx.AsyncClient() as http:
        client = BonjoroClient(s, store, http=http, now=lambda: T0 + 60)
        with pytest.raises(ClientMismatch, match="issued to client 'the-original-client'"):
            await client.refresh_now()
    assert not token.called  # nothing sent: no invalid_grant, no profile deleted
    assert store.load(s.profile) is not None


@respx.mock
async def test_a_public_clients_profile_is_refreshed_as_that_client(tmp_path):
    s = replace(settings(BONJORO_CLIENT_ID="configured", BONJORO_TOKEN_URL="https://auth.example/o/token/"),
                data_dir=tmp_path)
    store = TokenStore(s.store_path)
    store.save(StoredProfile(s.profile, s.target_id, "code", "the-original-client",
                             TokenSet("a" * 20, T0, refresh_token="r" * 20, expires_at=T0 + 10)))
    token = respx.post("https://auth.example/o/token/").respond(
        200, json={"access_token": "b" * 20, "token_type": "Bearer", "expires_in": 3600})
    async with httpx.AsyncClient() as http:
        await BonjoroClient(s, store, http=http, now=lambda: T0 + 60).refresh_now()
    assert b"client_id=the-original-client" in token.calls.last.request.content
