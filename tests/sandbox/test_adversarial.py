"""Hostile input: whatever arrives, the sandbox never errors out, never redirects to a URI that is
not registered, and always answers in the documented shapes. Bounded example counts."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bonjoro_tui.sandbox import create_app
from bonjoro_tui.sandbox.clients import CLIENTS, redirect_uri_allowed
from bonjoro_tui.sandbox.state import SandboxState

pytestmark = pytest.mark.adversarial

STATE = SandboxState()
STATE.set_knobs(auto_approve=True, rate_limit=1_000_000)
APP = create_app(STATE)
FIELDS = ["client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method",
          "scope", "grant_type", "code", "code_verifier", "refresh_token", "client_secret", "token"]
VALUES = st.one_of(
    st.sampled_from(["sandbox-public", "sandbox-confidential", "code", "S256", "plain", "authorization_code",
                     "refresh_token", "client_credentials", "http://127.0.0.1:1/callback", "http://[::1]:80/callback",
                     "http://localhost:3000/callback", "http://127.0.0.1:1/callback/../x", "http://127.0.0.1:1@e.x/callback",
                     "A" * 43, "<script>", ""]),
    st.text(max_size=60),
)
PARAMS = st.lists(st.tuples(st.sampled_from(FIELDS), VALUES), max_size=8)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def call(method: str, path: str, **kwargs) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://127.0.0.1") as http:
            return await http.request(method, path, **kwargs)

    return asyncio.run(go())


@SETTINGS
@given(PARAMS)
def test_authorize_never_redirects_to_an_unregistered_uri(params):
    r = call("GET", "/oauth/authorize", params=params)
    assert r.status_code in (200, 302, 400)
    if r.status_code == 302:
        location = r.headers["location"]
        target = location.split("?", 1)[0]
        client = CLIENTS[dict(params)["client_id"]]
        assert redirect_uri_allowed(client, target) and target == dict(params)["redirect_uri"]
        assert urlsplit(location).query
    else:
        assert r.headers["content-type"].startswith("text/html") and "<script>" not in r.text


@SETTINGS
@given(PARAMS, st.booleans())
def test_token_endpoint_answers_rfc_errors_for_anything(params, as_json):
    if as_json:
        r = call("POST", "/oauth/token", content=json.dumps(dict(params)), headers={"content-type": "application/json"})
    else:
        r = call("POST", "/oauth/token", content=urlencode(params),
                 headers={"content-type": "application/x-www-form-urlencoded"})
    body = r.json()
    if r.status_code == 200:  # only a real grant can succeed
        assert dict(params).get("grant_type") == "client_credentials" and body["token_type"] == "Bearer"
    else:
        assert r.status_code in (400, 401) and set(body) == {"error", "error_description"}
        assert body["error"] in {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                                 "unsupported_grant_type", "invalid_scope"}


@SETTINGS
@given(st.text(max_size=200), st.text(max_size=80))
def test_api_refuses_garbage_tokens_in_bonjoro_shape(token, path):
    safe_path = "/api/v2/" + "".join(c for c in path if c.isalnum() or c in "-/_")
    try:
        r = call("GET", safe_path, headers={"Authorization": f"Bearer {token}"})
    except (httpx.LocalProtocolError, UnicodeEncodeError):
        return  # not a valid header value: httpx refuses to send it
    if token.strip() == "sandbox-api-key":
        assert r.status_code in (200, 404, 405)
    else:
        assert r.status_code == 401 and r.json() == {"message": "Unauthenticated."}
    assert r.headers["x-ratelimit-limit"] == "1000000" and "x-ratelimit-remaining" in r.headers


@SETTINGS
@given(st.sampled_from(["/users", "/profiles", "/greets", "/campaigns", "/message-templates"]),
       st.lists(st.tuples(st.sampled_from(["page", "limit", "status", "sort", "search", "includes"]),
                          st.one_of(st.text(max_size=12), st.integers(-5, 10**12).map(str))), max_size=4))
def test_list_parameters_never_break_the_page_envelope(path, query):
    r = call("GET", "/api/v2" + path, params=query, headers={"Authorization": "Bearer sandbox-api-key"})
    assert r.status_code in (200, 400), r.text
    body = r.json()
    if r.status_code == 200:
        assert body["current_page"] >= 1 and 1 <= body["per_page"] <= 5000 and len(body["data"]) <= body["per_page"]
    else:
        assert set(body) == {"error"} and body["error"]["status_code"] == 400


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/api/v2/me", "/api/v2/profiles", "/_sandbox/knobs"])
def test_lone_surrogates_in_json_are_a_400_and_stored_nowhere(path):
    body = b'{"grant_type":"refresh_token","refresh_token":"\\ud800","token":"\\ud800","client_id":"sandbox-public",' \
           b'"bio":"\\ud800","email":"\\ud800@x.example","latency":"\\ud800"}'
    r = call("POST", path, content=body, headers={"content-type": "application/json", "authorization": "Bearer sandbox-api-key"})
    assert r.status_code == 400
    assert call("GET", "/api/v2/me", headers={"authorization": "Bearer sandbox-api-key"}).status_code == 200
