"""CodeLogin, OAuthClient and the other sign-in methods against the real sandbox over loopback.

The sandbox runs in a background thread with ``auto_approve``; a plain httpx client that
follows redirects plays the browser (authorization URL -> 302 -> our callback)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest

from bonjoro_tui.auth.errors import AuthorizationDenied, StateMismatch
from bonjoro_tui.auth.login import CodeLogin, LoginStep, login_api_key, login_client_credentials
from bonjoro_tui.auth.oauth import InvalidGrant, OAuthClient
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.sandbox.clients import API_KEY, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import TokenStore
from support import ApprovingBrowser, redirect_browser

pytestmark = pytest.mark.integration


def assert_stored(store: TokenStore, profile) -> None:
    """The store keeps times to the microsecond (ISO 8601), everything else exactly."""
    stored = store.load(profile.name)
    assert stored is not None
    assert replace(stored, tokens=None) == replace(profile, tokens=None)
    for field in ("access_token", "refresh_token", "token_type", "scope"):
        assert getattr(stored.tokens, field) == getattr(profile.tokens, field)
    assert stored.tokens.obtained_at == pytest.approx(profile.tokens.obtained_at, abs=1e-5)
    assert stored.tokens.expires_at == pytest.approx(profile.tokens.expires_at, abs=1e-5)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(auto_approve=True) as server:
        yield server


@pytest.fixture
async def http():
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        yield client


@pytest.mark.parametrize("token_format", ["json", "form"])
async def test_code_login_against_sandbox(sandbox, http, token_format):
    settings = replace(load_settings(), token_format=token_format).resolved_for_sandbox(sandbox.url)
    store = TokenStore(settings.store_path)
    steps: list[LoginStep] = []
    results: list[httpx.Response] = []
    login = CodeLogin(settings, store, http, on_step=lambda s, d: steps.append(s))
    profile = await login.run(open_browser=redirect_browser(results), timeout=20)
    assert results and results[0].status_code == 200  # the browser landed on our success page
    assert steps[-1] == LoginStep.SAVED
    assert profile.target == "sandbox" and profile.method == "code"
    assert profile.tokens.refresh_token and profile.tokens.expires_at
    assert_stored(store, profile)

    me = await http.get(settings.api_base + "/me", headers={"Authorization": f"Bearer {profile.tokens.access_token}"})
    assert me.status_code == 200

    oauth = OAuthClient(settings, http)
    refreshed = await oauth.refresh(profile.tokens.refresh_token)
    assert refreshed.access_token != profile.tokens.access_token
    assert refreshed.refresh_token  # rotated or kept
    # The revoked (rotated-away or explicitly revoked) refresh token is refused afterwards.
    assert await oauth.revoke(refreshed.refresh_token, "refresh_token") is True
    with pytest.raises(InvalidGrant):
        await oauth.refresh(refreshed.refresh_token)


async def test_forged_state_against_sandbox_makes_no_token_request(sandbox, http):
    settings = load_settings().resolved_for_sandbox(sandbox.url)
    store = TokenStore(settings.store_path)
    calls: list[httpx.Request] = []

    async def count(request: httpx.Request) -> None:
        calls.append(request)

    spy = httpx.AsyncClient(trust_env=False, event_hooks={"request": [count]})
    login = CodeLogin(settings, store, spy)

    def forging_browser(url: str) -> bool:
        async def go() -> None:
            async with httpx.AsyncClient(trust_env=False, timeout=10) as b:
                r = await b.get(url)  # the sandbox redirects with a genuine code...
                location = httpx.URL(r.headers["location"])
                forged = location.copy_set_param("state", "forged")  # ...which an attacker replays
                await b.get(forged)

        asyncio.ensure_future(go())
        return True

    with pytest.raises(StateMismatch):
        await login.run(open_browser=forging_browser, timeout=1.5)
    assert calls == []
    assert store.load(settings.profile) is None
    await spy.aclose()


async def test_client_credentials_against_sandbox(sandbox, http):
    settings = replace(
        load_settings().resolved_for_sandbox(sandbox.url),
        client_id=CONFIDENTIAL_CLIENT_ID,
        client_secret=CONFIDENTIAL_CLIENT_SECRET,
    )
    store = TokenStore(settings.store_path)
    profile = await login_client_credentials(settings, store, http)
    assert profile.method == "client_credentials"
    me = await http.get(settings.api_base + "/me", headers={"Authorization": f"Bearer {profile.tokens.access_token}"})
    assert me.status_code == 200


@pytest.fixture(scope="module")
def consent_sandbox():
    with SandboxServer(auto_approve=False) as server:
        yield server


async def run_with_consent(sandbox, http, decision: str):
    settings = load_settings().resolved_for_sandbox(sandbox.url)
    store = TokenStore(settings.store_path)
    login = CodeLogin(settings, store, http)
    browser = ApprovingBrowser(decision)
    try:
        return await login.run(open_browser=browser, timeout=20), store
    finally:
        await browser.settle(return_exceptions=True)


async def test_consent_page_approve_with_sandbox_browser(consent_sandbox, http):
    profile, store = await run_with_consent(consent_sandbox, http, "approve")
    assert_stored(store, profile)


async def test_consent_page_deny_is_a_clean_failure(consent_sandbox, http):
    with pytest.raises(AuthorizationDenied) as info:
        await run_with_consent(consent_sandbox, http, "deny")
    assert info.value.error == "access_denied"


async def test_api_key_against_sandbox(sandbox, http):
    settings = load_settings().resolved_for_sandbox(sandbox.url)
    store = TokenStore(settings.store_path)
    profile = login_api_key(settings, store, API_KEY)
    assert profile.method == "api_key" and profile.tokens.expires_at is None
    me = await http.get(settings.api_base + "/me", headers={"Authorization": f"Bearer {profile.tokens.access_token}"})
    assert me.status_code == 200


async def test_issuer_is_checked_by_default_against_the_sandbox(sandbox, http):
    """RFC 9207: the sandbox's origin is its issuer; CodeLogin checks `iss` without being told."""
    settings = load_settings().resolved_for_sandbox(sandbox.url)
    assert settings.issuer == sandbox.url.rstrip("/")
    login = CodeLogin(settings, TokenStore(settings.store_path), http)
    assert login.expected_issuer == settings.issuer
    await login.run(open_browser=redirect_browser([]), timeout=20)


async def test_wrong_issuer_stops_the_sign_in_before_any_token_request(sandbox, http):
    from bonjoro_tui.auth.errors import IssuerMismatch

    settings = replace(load_settings(), issuer="https://other-issuer.example").resolved_for_sandbox(sandbox.url)
    store = TokenStore(settings.store_path)
    before = sandbox.state.stats()["token_requests"].get("authorization_code", 0)
    login = CodeLogin(settings, store, http)
    with pytest.raises(IssuerMismatch, match="RFC 9207"):
        await login.run(open_browser=redirect_browser([]), timeout=20)
    assert sandbox.state.stats()["token_requests"].get("authorization_code", 0) == before
    assert store.load(settings.profile) is None
