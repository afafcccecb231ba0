"""The state file: tokens survive a restart, atomic 0600 writes, corrupt files set aside, shared use."""

from __future__ import annotations

import json
import stat

import httpx

from bonjoro_tui.sandbox import create_app
from bonjoro_tui.sandbox.state import SandboxState

from .helpers import BASE, PUBLIC, Clock, Sandbox


async def open_sandbox(path, clock, **options) -> tuple[Sandbox, httpx.AsyncClient]:
    state = SandboxState(path, now=clock, **options)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state)), base_url=BASE)
    return Sandbox(state, clock, http), http


async def test_signed_in_user_survives_a_restart(tmp_path):
    path = tmp_path / "sandbox" / "state.json"
    clock = Clock()
    first, http = await open_sandbox(path, clock)
    async with http:
        tokens = await first.sign_in()
        first.state.set_knobs(rate_limit=50)
    second, http = await open_sandbox(path, clock)  # a new process would do the same
    async with http:
        assert (await second.api("GET", "/me", tokens["access_token"])).status_code == 200
        r = await second.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": PUBLIC})
        assert r.status_code == 200
        assert second.state.knobs["rate_limit"] == 50


async def test_without_a_state_file_a_restart_forgets_everything(tmp_path):
    clock = Clock()
    first, http = await open_sandbox(None, clock)
    async with http:
        tokens = await first.sign_in()
    second, http = await open_sandbox(None, clock)
    async with http:
        assert (await second.api("GET", "/me", tokens["access_token"])).status_code == 401


async def test_state_file_is_private_and_holds_no_raw_secrets(tmp_path):
    path = tmp_path / "sandbox" / "state.json"
    sandbox, http = await open_sandbox(path, Clock())
    async with http:
        tokens = await sandbox.sign_in()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert tokens["refresh_token"] not in text and tokens["access_token"] not in text
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".state")] == []  # no temp files left


async def test_explicit_options_override_persisted_knobs(tmp_path):
    path = tmp_path / "state.json"
    clock = Clock()
    SandboxState(path, now=clock).set_knobs(access_ttl=50, latency=2.0)
    state = SandboxState(path, now=clock, access_ttl=7)
    assert state.knobs["access_ttl"] == 7 and state.knobs["latency"] == 2.0


async def test_corrupt_state_file_is_set_aside_not_overwritten(tmp_path, caplog):
    path = tmp_path / "state.json"
    path.write_text("{ not json")
    state = SandboxState(path, now=Clock())
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("state.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_text() == "{ not json"
    assert json.loads(path.read_text())["version"] == 1
    assert state.knobs["access_ttl"] == 3600
    assert "moved it to" in caplog.text


async def test_two_sandboxes_sharing_a_file_see_each_others_rotations(tmp_path):
    path = tmp_path / "state.json"
    clock = Clock()
    a, http_a = await open_sandbox(path, clock)
    b, http_b = await open_sandbox(path, clock)
    async with http_a, http_b:
        tokens = await a.sign_in()
        r = await b.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": PUBLIC})
        assert r.status_code == 200
        successor = r.json()
        # a now sees the rotation: presenting the old token is reuse, and kills the family everywhere
        r = await a.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": PUBLIC})
        assert r.json()["error"] == "invalid_grant"
        r = await b.token({"grant_type": "refresh_token", "refresh_token": successor["refresh_token"], "client_id": PUBLIC})
        assert r.json()["error"] == "invalid_grant"
        assert (await b.api("GET", "/me", successor["access_token"])).status_code == 401


async def test_expired_codes_and_dead_families_are_pruned(tmp_path):
    path = tmp_path / "state.json"
    clock = Clock()
    sandbox, http = await open_sandbox(path, clock)
    async with http:
        sandbox.state.set_knobs(refresh_ttl=60)
        await sandbox.sign_in()
        await sandbox.code()
        clock.advance(2 * 24 * 3600)
        await sandbox.sign_in()
    doc = json.loads(path.read_text())
    assert len(doc["families"]) == 1 and len(doc["codes"]) == 1


async def test_state_file_of_an_unexpected_shape_is_set_aside(tmp_path, caplog):
    path = tmp_path / "state.json"
    good = SandboxState(path, now=Clock())
    doc = json.loads(path.read_text())
    doc["families"] = {"f1": {"current": "x"}}  # a family without its fields
    path.write_text(json.dumps(doc))
    state = SandboxState(path, now=Clock())
    assert state.knobs["access_ttl"] == 3600
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and json.loads(aside[0].read_text())["families"] == {"f1": {"current": "x"}}
    assert "unexpected shape" in caplog.text
    del good
