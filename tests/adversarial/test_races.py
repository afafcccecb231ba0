"""Racing refreshes (issue 5, part 4): two processes of 25 coroutines and this process's 50
coroutines, all on the same expired profile against one sandbox, at once. Exactly one refresh
reaches the server, everyone sends the new token, and the rotated refresh token is never
presented twice (the sandbox's reuse detection, which would revoke the family, never fires)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from adversarial import figures, registry
from adversarial.race_child import digest, race
from bonjoro_tui.api.client import BonjoroClient
from bonjoro_tui.auth.login import CodeLogin
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import TokenStore
from support import redirect_browser

CHILD = Path(__file__).with_name("race_child.py")
TESTS = str(Path(__file__).parents[1])


@pytest.fixture
def sandbox():
    with SandboxServer(auto_approve=True) as server:
        yield server


async def sign_in(sandbox):
    settings = load_settings().resolved_for_sandbox(sandbox.url)
    store = TokenStore(settings.store_path)
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        profile = await CodeLogin(settings, store, http).run(open_browser=redirect_browser(), timeout=20)
    registry.secret(profile.tokens.access_token, profile.tokens.refresh_token)
    return settings, store


async def test_two_processes_and_fifty_coroutines_refresh_once(sandbox, scale):
    settings, store = await sign_in(sandbox)
    rounds = 2 * scale
    for k in range(1, rounds + 1):
        offset = k * 7200.0  # every clock in the race says the token expired an hour ago
        before = store.load(settings.profile)
        sandbox.state.reset_stats()
        children = [
            subprocess.Popen([sys.executable, str(CHILD), sandbox.url, str(offset), "25"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
            for _ in range(2)
        ]
        loop = asyncio.get_running_loop()
        for child in children:  # both have imported everything and built their client
            assert await loop.run_in_executor(None, child.stdout.readline) == "ready\n", child.stderr.read()

        async def go() -> None:
            for child in children:
                child.stdin.write("go\n")
                child.stdin.flush()

        mine = await race(sandbox.url, offset, 50, go)
        outputs = [await loop.run_in_executor(None, c.communicate) for c in children]
        results = [mine] + [json.loads(out) for out, _ in outputs]
        for child, (_, err) in zip(children, outputs):
            assert child.returncode == 0, err
            registry.output("race child stderr", err)

        after = store.load(settings.profile)
        registry.secret(after.tokens.access_token, after.tokens.refresh_token)
        stats = sandbox.state.stats()
        assert stats["token_requests"] == {"refresh_token": 1}, stats
        assert stats["token_errors"] == {}, stats  # no reuse detected, no family revoked
        assert after.tokens.refresh_token != before.tokens.refresh_token
        assert sum(r["refreshes"] for r in results) == 1
        assert all(r["statuses"] == [200] * len(r["statuses"]) for r in results)
        assert sum(len(r["statuses"]) for r in results) == 100
        assert {d for r in results for d in r["sent"]} == {digest(after.tokens.access_token)}
        figures.keep_max("races: refreshes reaching the server per race (max)", stats["token_requests"]["refresh_token"])
        figures.add("races: races run (2 processes + 50 coroutines each)", 1)

    # The family is intact: the latest refresh token still refreshes.
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        refreshed = await BonjoroClient(settings, store, http=http).refresh_now()
    registry.secret(refreshed.tokens.access_token, refreshed.tokens.refresh_token)
    assert refreshed.last_refresh_result == "ok"


def _env():
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (TESTS, env.get("PYTHONPATH", "")) if p)
    return env
