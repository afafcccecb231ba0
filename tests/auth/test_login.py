"""CodeLogin over a real loopback callback server, with the token endpoint mocked in-process;
client-credentials and API-key sign-in."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bonjoro_tui.auth.errors import ApiKeyRejected, AuthorizationDenied, LoginCancelled, LoginError, StateMismatch
from bonjoro_tui.auth.login import CodeLogin, LoginStep, login_api_key, login_client_credentials, verify_api_key
from bonjoro_tui.auth.oauth import InvalidGrant
from bonjoro_tui.auth.pkce import s256_challenge
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet

pytestmark = pytest.mark.integration
BASE = "https://as.example.test"
NOW = 1_800_000_000.0


class TokenEndpoint:
    """An in-process token endpoint recording what it was sent."""

    def __init__(self, response: httpx.Response | None = None) -> None:
        self.requests: list[dict] = []
        self.response = response or httpx.Response(
            200, json={"access_token": "at-xyz", "expires_in": 3600, "refresh_token": "rt-xyz"}
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        return self.response


@pytest.fixture
def settings():
    return load_settings(env={**os.environ, "BONJORO_CLIENT_ID": "cid", "BONJORO_BASE_URL": BASE, "BONJORO_SCOPE": "all"})


@pytest.fixture
def store(settings):
    return TokenStore(settings.store_path)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class Browser:
    """Plays the user's browser: follows the authorization URL to the callback with the
    given parameters (or the real state when ``state`` is None)."""

    def __init__(self, **params: str | None) -> None:
        self.params = params
        self.task: asyncio.Task | None = None
        self.response: httpx.Response | None = None

    def __call__(self, url: str) -> bool:
        q = query(url)
        params = {"code": "the-code", "state": q["state"], **self.params}
        params = {k: v for k, v in params.items() if v is not None}

        async def go() -> None:
            async with httpx.AsyncClient(trust_env=False) as http:
                self.response = await http.get(q["redirect_uri"], params=params)

        self.task = asyncio.ensure_future(go())
        return True


def make_login(settings, store, endpoint, **kw):
    steps: list[tuple[LoginStep, str]] = []
    http = httpx.AsyncClient(transport=httpx.MockTransport(endpoint))
    login = CodeLogin(settings, store, http, now=lambda: NOW, on_step=lambda s, d: steps.append((s, d)), **kw)
    return login, steps


def assert_port_closed(uri: str) -> None:
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", urlsplit(uri).port)) != 0


async def test_code_login_end_to_end(settings, store):
    endpoint = TokenEndpoint()
    login, steps = make_login(settings, store, endpoint)
    browser = Browser()
    profile = await login.run(open_browser=browser, timeout=10)
    await browser.task
    assert browser.response.status_code == 200

    url_q = query(login.authorization_url)
    assert url_q["response_type"] == "code" and url_q["client_id"] == "cid" and url_q["scope"] == "all"
    assert url_q["code_challenge_method"] == "S256"
    assert login.redirect_uri.startswith("http://127.0.0.1:") and login.redirect_uri.endswith("/callback")
    [body] = endpoint.requests
    assert body["code"] == "the-code"
    assert body["redirect_uri"] == url_q["redirect_uri"] == login.redirect_uri  # identical
    assert s256_challenge(body["code_verifier"]) == url_q["code_challenge"]
    assert "client_secret" not in body

    assert [s for s, _ in steps] == [
        LoginStep.PREPARE,
        LoginStep.LISTENING,
        LoginStep.BROWSER,
        LoginStep.WAITING,
        LoginStep.CODE_RECEIVED,
        LoginStep.EXCHANGING,
        LoginStep.SAVED,
    ]
    assert steps[0][0] == "PREPARE"  # str enum: the TUI can compare with names
    assert all("the-code" not in d and "at-xyz" not in d for _, d in steps)

    assert profile.method == "code" and profile.target == BASE and profile.client_id == "cid"
    assert profile.tokens.expires_at == NOW + 3600
    assert store.load("default") == profile
    assert_port_closed(login.redirect_uri)


@pytest.mark.parametrize("bad_state", ["forged", None])
async def test_bad_state_never_leads_to_a_token_request(settings, store, bad_state):
    endpoint = TokenEndpoint()
    login, steps = make_login(settings, store, endpoint)
    browser = Browser(state=bad_state)
    with pytest.raises(StateMismatch):
        await login.run(open_browser=browser, timeout=0.5)
    refused = [d for s, d in steps if s == LoginStep.WAITING and "refused" in d]
    assert len(refused) == 1 and "still waiting" in refused[0]  # the user is told at once
    assert LoginStep.EXCHANGING not in [s for s, _ in steps]
    await browser.task
    assert browser.response.status_code == 400
    assert endpoint.requests == []
    assert store.load("default") is None


async def test_access_denied_fails_cleanly_without_token_request(settings, store):
    endpoint = TokenEndpoint()
    login, steps = make_login(settings, store, endpoint)
    browser = Browser(code=None, error="access_denied")
    with pytest.raises(AuthorizationDenied, match="access_denied"):
        await login.run(open_browser=browser, timeout=10)
    assert endpoint.requests == []
    assert LoginStep.EXCHANGING not in [s for s, _ in steps]
    assert_port_closed(login.redirect_uri)


async def test_pasted_redirect_url(settings, store):
    endpoint = TokenEndpoint()
    login, _ = make_login(settings, store, endpoint)

    def no_browser(url: str) -> bool:
        q = query(url)

        def paste() -> None:
            with pytest.raises(StateMismatch):
                login.paste(f"{q['redirect_uri']}?code=x&state=wrong")
            login.paste(f"{q['redirect_uri']}?code=pasted-code&state={q['state']}")

        asyncio.get_running_loop().call_soon(paste)
        return False

    profile = await login.run(open_browser=no_browser, timeout=10)
    assert endpoint.requests[0]["code"] == "pasted-code"
    assert profile.tokens.access_token == "at-xyz"


async def test_cancel_while_waiting(settings, store):
    endpoint = TokenEndpoint()
    login, steps = make_login(settings, store, endpoint)
    task = asyncio.create_task(login.run(open_browser=lambda url: False, timeout=30))
    while not steps or steps[-1][0] != LoginStep.WAITING:
        await asyncio.sleep(0.01)
    login.cancel()
    with pytest.raises(LoginCancelled):
        await task
    assert endpoint.requests == []
    assert_port_closed(login.redirect_uri)


async def test_invalid_grant_on_exchange_keeps_previous_tokens(settings, store):
    previous = StoredProfile("default", BASE, "code", "cid", TokenSet("old-at", NOW - 10, refresh_token="old-rt"))
    store.save(previous)
    endpoint = TokenEndpoint(httpx.Response(400, json={"error": "invalid_grant"}))
    login, _ = make_login(settings, store, endpoint)
    with pytest.raises(InvalidGrant):
        await login.run(open_browser=Browser(), timeout=10)
    assert store.load("default") == previous


async def test_configured_redirect_uri_is_used_verbatim(settings, store):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    configured = replace(settings, redirect_uri=f"http://localhost:{port}/oauth/cb")
    endpoint = TokenEndpoint()
    login, _ = make_login(configured, store, endpoint)
    await login.run(open_browser=Browser(), timeout=10)
    assert query(login.authorization_url)["redirect_uri"] == f"http://localhost:{port}/oauth/cb"
    assert endpoint.requests[0]["redirect_uri"] == f"http://localhost:{port}/oauth/cb"


async def test_missing_configuration_is_a_clear_error(store):
    unresolved_sandbox = load_settings()
    login, _ = make_login(unresolved_sandbox, store, TokenEndpoint())
    with pytest.raises(LoginError, match="authorize_url, token_url not configured"):
        await login.run(open_browser=Browser(), timeout=1)


async def test_client_credentials_login_saves_profile(settings, store):
    endpoint = TokenEndpoint(httpx.Response(200, json={"access_token": "cc-token", "expires_in": 600}))
    http = httpx.AsyncClient(transport=httpx.MockTransport(endpoint))
    profile = await login_client_credentials(replace(settings, client_secret="s3cret"), store, http, lambda: NOW)
    assert endpoint.requests[0]["grant_type"] == "client_credentials"
    assert profile.method == "client_credentials" and profile.tokens.expires_at == NOW + 600
    assert store.load("default") == profile


def test_api_key_login_saves_non_expiring_bearer(settings, store):
    profile = login_api_key(settings, store, "  bj_live_abc123\n", now=lambda: NOW)
    assert profile.method == "api_key"
    assert profile.tokens.access_token == "bj_live_abc123"
    assert profile.tokens.expires_at is None and profile.tokens.refresh_token is None
    assert profile.tokens.needs_refresh(NOW + 10**9) is False
    assert store.load("default") == profile


@pytest.mark.parametrize("key", ["", "   ", "two words", "ctrl\x07char"])
def test_api_key_login_refuses_bad_keys(settings, store, key):
    with pytest.raises(LoginError):
        login_api_key(settings, store, key)
    assert store.load("default") is None


class MeEndpoint:
    """GET /me answering with a fixed status; records the Authorization headers it saw."""

    def __init__(self, status: int = 200, error: Exception | None = None) -> None:
        self.status = status
        self.error = error
        self.seen: list[tuple[str, str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, str(request.url), request.headers.get("authorization")))
        if self.error is not None:
            raise self.error
        return httpx.Response(self.status, json={"data": {"name": "Ada"}})


async def test_verify_api_key_accepts_a_working_key(settings):
    me = MeEndpoint(200)
    async with httpx.AsyncClient(transport=httpx.MockTransport(me)) as http:
        await verify_api_key(settings, http, " bj_good \n")
    assert me.seen == [("GET", f"{BASE}/api/v2/me", "Bearer bj_good")]


@pytest.mark.parametrize("status", [401, 403])
async def test_verify_api_key_rejected_key_leaves_previous_sign_in(settings, store, status):
    previous = StoredProfile("default", settings.target_id, "code", "cid", TokenSet("at-old", NOW, refresh_token="rt-old"))
    store.save(previous)
    me = MeEndpoint(status)
    async with httpx.AsyncClient(transport=httpx.MockTransport(me)) as http:
        with pytest.raises(ApiKeyRejected) as info:
            await verify_api_key(settings, http, "bj_wrong")
    assert isinstance(info.value, LoginError)
    assert "unchanged" in info.value.hint
    assert "bj_wrong" not in str(info.value) + info.value.hint
    assert len(me.seen) == 1  # no retries
    assert store.load("default") == previous


@pytest.mark.parametrize(
    ("me", "words"),
    [
        (MeEndpoint(error=httpx.ConnectError("refused")), "cannot reach"),
        (MeEndpoint(500), "HTTP 500"),
    ],
)
async def test_verify_api_key_network_error_or_other_status_is_a_login_error(settings, me, words):
    async with httpx.AsyncClient(transport=httpx.MockTransport(me)) as http:
        with pytest.raises(LoginError) as info:
            await verify_api_key(settings, http, "bj_key")
    assert not isinstance(info.value, ApiKeyRejected)
    assert words in str(info.value) and "bj_key" not in str(info.value)


@pytest.fixture
def shutdowns(monkeypatch):
    """Records each shutdown of a callback server (the real one runs)."""
    from bonjoro_tui.auth.callback import CallbackServer

    calls: list[int] = []
    real = CallbackServer._shutdown

    async def counted(self):
        calls.append(self.port)
        await real(self)

    monkeypatch.setattr(CallbackServer, "_shutdown", counted)
    return calls


@pytest.mark.parametrize("exchange_fails", [False, True])
async def test_server_is_closed_once_after_the_run_and_the_next_sign_in_works(
    settings, store, shutdowns, exchange_fails
):
    response = httpx.Response(400, json={"error": "invalid_grant"}) if exchange_fails else None
    login, _ = make_login(settings, store, TokenEndpoint(response))
    browser = Browser()
    if exchange_fails:
        with pytest.raises(InvalidGrant):
            await login.run(open_browser=browser, timeout=10)
    else:
        await login.run(open_browser=browser, timeout=10)
    await browser.task
    assert browser.response.status_code == 200
    assert not login.server.listening
    assert shutdowns == [login.server.port]
    assert_port_closed(login.redirect_uri)
    # A second sign-in in the same loop: its connections are unharmed by the first close.
    second, _ = make_login(settings, store, TokenEndpoint())
    profile = await second.run(open_browser=Browser(), timeout=10)
    assert profile.tokens.access_token == "at-xyz" and store.load("default") == profile
    assert shutdowns == [login.server.port, second.server.port]
    assert_port_closed(second.redirect_uri)


async def test_cancel_during_the_exchange_still_closes_the_server(settings, store, shutdowns):
    exchanging = asyncio.Event()

    async def slow_endpoint(request: httpx.Request) -> httpx.Response:
        exchanging.set()
        await asyncio.sleep(30)
        return httpx.Response(500)

    http = httpx.AsyncClient(transport=httpx.MockTransport(slow_endpoint))
    login = CodeLogin(settings, store, http, now=lambda: NOW)
    task = asyncio.create_task(login.run(open_browser=Browser(), timeout=10))
    await exchanging.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not login.server.listening
    assert shutdowns == [login.server.port]
    assert_port_closed(login.redirect_uri)
    assert store.load("default") is None
