"""20 concurrent requests on an expired token cause exactly one refresh — the sandbox's counter says so.

Real loopback sockets: an in-process ``SandboxServer``, a real code sign-in (``CodeLogin`` with
the sandbox's browser stand-in), then the client's clock is moved past the token's expiry.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bonjoro_tui.api.client import BonjoroClient
from bonjoro_tui.auth.login import CodeLogin
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import TokenStore
from support import ApprovingBrowser

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        import time

        self.offset = 0.0
        self._time = time.time

    def __call__(self) -> float:
        return self._time() + self.offset


@pytest.fixture
def sandbox():
    server = SandboxServer(port=0, auto_approve=True)
    server.start()
    yield server
    server.stop()


async def _signed_in(sandbox, tmp_path, http, clock):
    settings = load_settings(
        env={
            "BONJORO_BASE_URL": sandbox.url,
            "BONJORO_CLIENT_ID": "sandbox-public",
            "BONJORO_TUI_DATA_DIR": str(tmp_path / "data"),
            "BONJORO_TUI_CONFIG_DIR": str(tmp_path / "config"),
        },
        cwd=tmp_path,
    )
    store = TokenStore(settings.store_path)
    browser = ApprovingBrowser()  # the sandbox's stand-in for the user's browser
    await CodeLogin(settings, store, http, now=clock).run(open_browser=browser, timeout=30)
    await browser.settle()
    return settings, store


async def test_twenty_concurrent_requests_on_an_expired_token_refresh_once(sandbox, tmp_path):
    clock = Clock()
    async with httpx.AsyncClient() as http:
        settings, store = await _signed_in(sandbox, tmp_path, http, clock)
        first = store.load(settings.profile)
        clock.offset = first.tokens.expires_at - first.tokens.obtained_at + 1  # past expiry
        sandbox.state.reset_stats()

        client = BonjoroClient(settings, store, http=http, now=clock)
        results = await asyncio.gather(*(client.request("GET", "/me") for _ in range(20)))

    assert [r.status for r in results] == [200] * 20
    stats = sandbox.state.stats()
    assert stats["token_requests"] == {"refresh_token": 1}
    assert stats["api_requests"] == 20
    assert store.load(settings.profile).tokens.refresh_token != first.tokens.refresh_token


async def test_twenty_concurrent_401s_share_one_refresh_and_all_retry(sandbox, tmp_path):
    clock = Clock()
    async with httpx.AsyncClient() as http:
        settings, store = await _signed_in(sandbox, tmp_path, http, clock)
        # The server stops accepting the (unexpired) access token: every request that carries it
        # gets a 401, whatever order the 20 requests and their retries reach the server in.
        # (Queued fault answers would be spent in arrival order, so a retry could draw one.)
        revoked = await http.post(
            settings.revoke_url,
            data={"token": store.load(settings.profile).tokens.access_token, "client_id": settings.client_id},
        )
        assert revoked.status_code == 200
        sandbox.state.reset_stats()

        client = BonjoroClient(settings, store, http=http, now=clock)
        results = await asyncio.gather(*(client.request("GET", "/me") for _ in range(20)))

    assert [r.status for r in results] == [200] * 20
    stats = sandbox.state.stats()
    assert stats["token_requests"] == {"refresh_token": 1}
    assert stats["api_requests"] >= 21  # at least one 401 before the refresh, then 20 successes
