"""Clocks (issue 5, part 5): the client's clock jumps forward or backward, the server's clock
runs ahead, and the server's expires_in is shorter than the refresh leeway. Each time the
client refreshes when it must, exactly once, and never loops."""

from __future__ import annotations

import time

import httpx
import pytest

from adversarial import figures, registry
from bonjoro_tui.api.client import BonjoroClient
from bonjoro_tui.auth.login import CodeLogin
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import TokenStore
from support import redirect_browser


class JumpyClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def sandbox():
    with SandboxServer(auto_approve=True) as server:
        yield server


async def signed_in(sandbox, clock, http, ttl=None):
    if ttl is not None:
        sandbox.state.set_knobs(access_ttl=ttl)
    settings = load_settings().resolved_for_sandbox(sandbox.url)
    store = TokenStore(settings.store_path)
    profile = await CodeLogin(settings, store, http, now=clock).run(open_browser=redirect_browser(), timeout=20)
    registry.secret(profile.tokens.access_token, profile.tokens.refresh_token)
    sandbox.state.reset_stats()
    return BonjoroClient(settings, store, http=http, now=clock), store, profile


def refreshes(sandbox) -> int:
    return sandbox.state.stats()["token_requests"].get("refresh_token", 0)


async def calls(client, n=3) -> list[int]:
    return [(await client.request("GET", "/me")).status for _ in range(n)]


@pytest.mark.parametrize("jump,expected", [(30.0, 0), (3600 - 59.0, 1), (3600 + 1.0, 1), (10 * 365 * 86400.0, 1),
                                           (-3.0, 0), (-600.0, 1), (-10 * 365 * 86400.0, 1)])
async def test_client_clock_jumps(sandbox, jump, expected):
    clock = JumpyClock()
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        client, store, first = await signed_in(sandbox, clock, http)
        clock.offset = jump
        assert await calls(client) == [200, 200, 200]
        assert refreshes(sandbox) == expected  # once at most, however many requests follow
        after = store.load("default")
        registry.secret(after.tokens.access_token, after.tokens.refresh_token)
        if expected:
            assert after.tokens.access_token != first.tokens.access_token
            # A backward jump: the fresh token counts from the clock as it now reads.
            assert after.tokens.obtained_at == pytest.approx(clock(), abs=5)
            assert not after.tokens.needs_refresh(clock())
    figures.add("clocks: jump scenarios passed", 1)


async def test_server_clock_ahead_means_one_refresh_on_401(sandbox):
    clock = JumpyClock()
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        client, store, first = await signed_in(sandbox, clock, http)
        sandbox.state.advance_clock(3600 + 5)  # the server thinks the token has expired
        assert await calls(client) == [200, 200, 200]
        assert refreshes(sandbox) == 1
    figures.add("clocks: jump scenarios passed", 1)


class SettableClock:
    def __init__(self) -> None:
        # A whole second: the sandbox's JWT exp is whole seconds (floor(iat) + ttl), as real
        # servers' are, so a fractional start would expire a 1 s token early and pass through
        # the 401 path instead of the one under test.
        self.t = float(int(time.time()))

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("ttl", [30, 2, 1])
async def test_expires_in_shorter_than_the_leeway(ttl):
    """The 60 s leeway is capped at half the lifetime: the token is used, then refreshed once.

    Client and sandbox share one settable clock, so nothing depends on real time passing."""
    clock = SettableClock()
    with SandboxServer(auto_approve=True, now=clock) as sandbox:
        async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
            client, store, first = await signed_in(sandbox, clock, http, ttl=ttl)
            clock.t = first.tokens.obtained_at + ttl * 0.25  # inside the first half: used as it is
            assert await calls(client) == [200, 200, 200] and refreshes(sandbox) == 0
            clock.t = first.tokens.obtained_at + ttl * 0.75  # inside the capped leeway: refreshed once
            assert (await client.request("GET", "/me")).status == 200
            assert refreshes(sandbox) == 1
            assert await calls(client) == [200, 200, 200] and refreshes(sandbox) == 1  # no refresh loop
            latest = store.load("default")
            registry.secret(latest.tokens.access_token, latest.tokens.refresh_token)
            assert latest.tokens.expires_at - latest.tokens.obtained_at == pytest.approx(ttl)
            clock.t = latest.tokens.expires_at + 1  # expired outright: one more refresh, then quiet
            assert await calls(client) == [200, 200, 200] and refreshes(sandbox) == 2
    figures.add("clocks: jump scenarios passed", 1)
