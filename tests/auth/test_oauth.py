"""OAuthClient against respx-mocked token and revocation endpoints."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from bonjoro_tui.auth.oauth import InvalidGrant, OAuthClient, OAuthError, TokenEndpointError
from bonjoro_tui.settings import load_settings

BASE = "https://as.example.test"
TOKEN_URL = BASE + "/api/v2/oauth/2/token"
REVOKE_URL = BASE + "/oauth/revoke"
SECRET = "client-secret-value-123"
NOW = 1_800_000_000.0


@pytest.fixture
def settings():
    return load_settings(env={**os.environ, "BONJORO_CLIENT_ID": "cid", "BONJORO_BASE_URL": BASE})


@pytest.fixture
async def http():
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def client(settings, http, **changes):
    return OAuthClient(replace(settings, **changes), http, now=lambda: NOW)


def sent(route) -> dict:
    request = route.calls.last.request
    if request.headers["content-type"].startswith("application/json"):
        return json.loads(request.content)
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


GOOD = {"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-1", "scope": "all"}


@respx.mock
async def test_code_exchange_posts_json_without_secret_for_public_client(settings, http):
    route = respx.post(TOKEN_URL).respond(200, json=GOOD)
    tokens = await client(settings, http).exchange_code("the-code", "v" * 43, "http://127.0.0.1:5555/callback")
    assert sent(route) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "http://127.0.0.1:5555/callback",
        "code_verifier": "v" * 43,
        "client_id": "cid",
    }
    assert route.calls.last.request.headers["accept"] == "application/json"
    assert tokens.access_token == "at-1" and tokens.refresh_token == "rt-1" and tokens.scope == "all"
    assert tokens.obtained_at == NOW and tokens.expires_at == NOW + 3600


@respx.mock
async def test_expiry_counts_from_when_the_request_was_sent(settings, http):
    clock = iter([NOW, NOW + 50])
    respx.post(TOKEN_URL).respond(200, json=GOOD)
    tokens = await OAuthClient(settings, http, now=lambda: next(clock)).exchange_code("c", "v" * 43, "http://x")
    assert tokens.expires_at == NOW + 3600


@respx.mock
async def test_form_format_and_client_secret_when_configured(settings, http):
    route = respx.post(TOKEN_URL).respond(200, json=GOOD)
    await client(settings, http, token_format="form", client_secret=SECRET).exchange_code("c", "v" * 43, "http://r")
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    body = sent(route)
    assert body["client_secret"] == SECRET and body["grant_type"] == "authorization_code"


@respx.mock
async def test_refresh_keeps_old_refresh_token_when_none_returned(settings, http):
    route = respx.post(TOKEN_URL).respond(200, json={"access_token": "at-2", "expires_in": 60})
    tokens = await client(settings, http).refresh("rt-old")
    assert sent(route) == {"grant_type": "refresh_token", "refresh_token": "rt-old", "client_id": "cid"}
    assert tokens.refresh_token == "rt-old" and tokens.access_token == "at-2"


@respx.mock
async def test_refresh_uses_rotated_refresh_token(settings, http):
    respx.post(TOKEN_URL).respond(200, json={**GOOD, "refresh_token": "rt-new"})
    assert (await client(settings, http).refresh("rt-old")).refresh_token == "rt-new"


@respx.mock
async def test_client_credentials(settings, http):
    route = respx.post(TOKEN_URL).respond(200, json={"access_token": "cc", "expires_in": 100})
    tokens = await client(settings, http, client_secret=SECRET, scope="read").client_credentials()
    assert sent(route) == {"grant_type": "client_credentials", "scope": "read", "client_id": "cid", "client_secret": SECRET}
    assert tokens.access_token == "cc" and tokens.refresh_token is None


async def test_client_credentials_without_secret_is_refused_before_any_request(settings, http):
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(TOKEN_URL)
        with pytest.raises(OAuthError, match="client secret"):
            await client(settings, http).client_credentials()
        assert not route.called


@respx.mock
async def test_revoke_is_form_encoded_with_hint(settings, http):
    route = respx.post(REVOKE_URL).respond(200)
    assert await client(settings, http, client_secret=SECRET).revoke("rt-1", "refresh_token") is True
    assert route.calls.last.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent(route) == {"token": "rt-1", "token_type_hint": "refresh_token", "client_id": "cid", "client_secret": SECRET}


async def test_revoke_without_endpoint_returns_false(settings, http):
    assert await client(settings, http, revoke_url=None).revoke("t", "access_token") is False


@respx.mock
async def test_revoke_error_is_an_oauth_error(settings, http):
    respx.post(REVOKE_URL).respond(400, json={"error": "unsupported_token_type"})
    with pytest.raises(OAuthError) as info:
        await client(settings, http).revoke("t", "access_token")
    assert info.value.error == "unsupported_token_type"


@respx.mock
@pytest.mark.parametrize("status", [400, 401])
async def test_invalid_grant(settings, http, status):
    respx.post(TOKEN_URL).respond(
        status, json={"error": "invalid_grant", "error_description": "refresh token revoked\x1b[2J"}
    )
    with pytest.raises(InvalidGrant) as info:
        await client(settings, http).refresh("rt")
    assert (info.value.error, info.value.status) == ("invalid_grant", status)
    assert info.value.description == "refresh token revoked\\x1b[2J"  # shown, not dropped (issue 10)
    assert "sign in again" in info.value.hint


@respx.mock
@pytest.mark.parametrize(
    ("body", "error", "description"),
    [
        ({"error": "invalid_client", "error_description": "bad secret"}, "invalid_client", "bad secret"),
        ({"error": {"message": "Invalid client.", "status_code": 401}}, "http_401", "Invalid client."),
        ({"message": "Unauthenticated."}, "http_401", "Unauthenticated."),
    ],
)
async def test_oauth_and_bonjoro_error_shapes(settings, http, body, error, description):
    respx.post(TOKEN_URL).respond(401, json=body)
    with pytest.raises(OAuthError) as info:
        await client(settings, http, client_secret=SECRET).exchange_code("c", "v" * 43, "http://r")
    assert not isinstance(info.value, InvalidGrant)
    assert (info.value.error, info.value.description, info.value.status) == (error, description, 401)


MALFORMED = [
    (httpx.Response(200, html="<html><body>Login</body></html>"), "HTML page"),
    (httpx.Response(200, content=b""), "empty answer"),
    (httpx.Response(200, json=["not", "an", "object"]), "not a JSON object"),
    (httpx.Response(200, json={"token_type": "Bearer"}), "no access_token"),
    (httpx.Response(200, json={"access_token": "a", "expires_in": "soon"}), "expires_in"),
    (httpx.Response(200, json={"access_token": "a", "expires_in": -5}), "expires_in"),
    (httpx.Response(200, json={"access_token": "a", "token_type": "MAC"}), "only Bearer"),
    (httpx.Response(200, text="access_token=a&token_type=bearer"), "not JSON"),
    (httpx.Response(500, text="Internal Server Error"), "HTTP 500"),
    (httpx.Response(503, headers={"Retry-After": "7"}, json={"error": "temporarily_unavailable"}), "HTTP 503"),
    (httpx.Response(404, html="<h1>Not Found</h1>"), "HTTP 404"),
    (httpx.Response(400, json={"unexpected": True}), "no OAuth error"),
    (httpx.Response(302, headers={"Location": "https://elsewhere.test/login"}), "redirected"),
]


@respx.mock
@pytest.mark.parametrize(("response", "fragment"), MALFORMED)
async def test_malformed_responses_are_token_endpoint_errors(settings, http, response, fragment):
    respx.post(TOKEN_URL).mock(return_value=response)
    with pytest.raises(TokenEndpointError) as info:
        await client(settings, http, client_secret=SECRET).exchange_code("the-code", "v" * 43, "http://r")
    message = str(info.value)
    assert fragment in message
    for secret in (SECRET, "the-code", "v" * 43):
        assert secret not in message
    if response.status_code == 503:
        assert info.value.retry_after == "7" and info.value.status == 503


@respx.mock
@pytest.mark.parametrize(
    ("exc", "fragment"),
    [
        (httpx.ReadTimeout("timed out"), "did not answer in time"),
        (httpx.ConnectTimeout("timed out"), "did not answer in time"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "could not reach"),
        (httpx.ReadError("[Errno 104] Connection reset by peer"), "Connection reset"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "could not reach"),
    ],
)
async def test_network_errors_are_token_endpoint_errors(settings, http, exc, fragment):
    respx.post(TOKEN_URL).mock(side_effect=exc)
    with pytest.raises(TokenEndpointError) as info:
        await client(settings, http, client_secret=SECRET).refresh("rt-secret-value")
    assert fragment in str(info.value)
    assert "rt-secret-value" not in str(info.value) and SECRET not in str(info.value)
    assert info.value.hint


async def test_missing_token_url_is_a_clear_error(http):
    sandbox_unresolved = load_settings()
    with pytest.raises(TokenEndpointError, match="no token URL"):
        await OAuthClient(sandbox_unresolved, http).refresh("rt")


@respx.mock
@pytest.mark.parametrize("grant", ["refresh", "client_credentials", "code"])
async def test_a_server_quoting_our_request_back_never_gets_a_secret_into_the_message(settings, http, grant):
    """A hostile or careless token endpoint echoes the request body in its error: the refresh
    token, the client secret, the code and the verifier we sent are masked in the message."""
    refresh, code, verifier = 're fresh,"tok"\'en', "the-code-0123456789", "v" * 64

    def echo(request):
        return httpx.Response(400, json={"error": "invalid_request", "error_description": request.content.decode()})

    respx.post(TOKEN_URL).mock(side_effect=echo)
    c = client(settings, http, client_secret=SECRET)
    call = {"refresh": lambda: c.refresh(refresh), "client_credentials": c.client_credentials,
            "code": lambda: c.exchange_code(code, verifier, "http://127.0.0.1:1/callback")}[grant]
    with pytest.raises(OAuthError) as info:
        await call()
    message = f"{info.value} {info.value.description}"
    for secret in (SECRET, refresh, code, verifier, json.dumps(refresh)[1:-1]):
        assert secret not in message, grant
    assert "grant_type" in message  # the rest of the echo is still shown
