"""RFC 7009 revocation, the fault knobs (Python and /_sandbox/), and the /_sandbox/ admin paths."""

from __future__ import annotations

import base64

import pytest

from bonjoro_tui.sandbox import app as app_module
from bonjoro_tui.sandbox.state import KnobError

from .helpers import CONFIDENTIAL, PUBLIC, SECRET


async def revoke(sandbox, token: str, client_id: str = PUBLIC, **extra: str):
    return await sandbox.http.post("/oauth/revoke", data={"token": token, "client_id": client_id, **extra})


async def refresh(sandbox, token: str):
    return await sandbox.token({"grant_type": "refresh_token", "refresh_token": token, "client_id": PUBLIC})


# -- revocation -------------------------------------------------------------------------------


async def test_revoking_the_refresh_token_kills_its_family_and_access_tokens(sandbox):
    tokens = await sandbox.sign_in()
    r = await revoke(sandbox, tokens["refresh_token"], token_type_hint="refresh_token")
    assert r.status_code == 200 and r.content == b"" and r.headers["cache-control"] == "no-store"
    assert (await refresh(sandbox, tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await sandbox.api("GET", "/me", tokens["access_token"])).status_code == 401


async def test_revoking_an_access_token_leaves_the_refresh_token(sandbox):
    tokens = await sandbox.sign_in()
    # a wrong hint is only a hint (RFC 7009 §2.1)
    assert (await revoke(sandbox, tokens["access_token"], token_type_hint="refresh_token")).status_code == 200
    assert (await sandbox.api("GET", "/me", tokens["access_token"])).status_code == 401
    assert (await refresh(sandbox, tokens["refresh_token"])).status_code == 200


async def test_revoking_unknown_or_already_revoked_tokens_is_200(sandbox):
    tokens = await sandbox.sign_in()
    assert (await revoke(sandbox, "never-issued")).status_code == 200
    assert (await revoke(sandbox, tokens["refresh_token"])).status_code == 200
    assert (await revoke(sandbox, tokens["refresh_token"])).status_code == 200


async def test_revocation_authenticates_the_client(sandbox):
    tokens = await sandbox.sign_in(CONFIDENTIAL)
    r = await revoke(sandbox, tokens["refresh_token"], client_id=CONFIDENTIAL, client_secret="wrong")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await revoke(sandbox, tokens["refresh_token"], client_id=PUBLIC)  # not this client's token
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    assert (await sandbox.api("GET", "/me", tokens["access_token"])).status_code == 200
    basic = base64.b64encode(f"{CONFIDENTIAL}:{SECRET}".encode()).decode()
    r = await sandbox.http.post("/oauth/revoke", data={"token": tokens["refresh_token"]}, headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200
    assert (await sandbox.api("GET", "/me", tokens["access_token"])).status_code == 401


async def test_revocation_needs_a_token(sandbox):
    r = await sandbox.http.post("/oauth/revoke", data={"client_id": PUBLIC})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


async def test_revoke_all_knob(sandbox):
    a, b = await sandbox.sign_in(), await sandbox.sign_in(CONFIDENTIAL)
    code, verifier = await sandbox.code()
    r = await sandbox.http.post("/_sandbox/revoke-all")
    assert r.status_code == 200
    for tokens in (a, b):
        assert (await sandbox.api("GET", "/me", tokens["access_token"])).status_code == 401
    assert (await refresh(sandbox, a["refresh_token"])).json()["error"] == "invalid_grant"
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:8765/callback",
            "client_id": PUBLIC, "code_verifier": verifier}
    assert (await sandbox.token(body)).json()["error"] == "invalid_grant"
    # new sign-ins work again, and the API key is not a token the knob revokes
    assert (await sandbox.api("GET", "/me", (await sandbox.sign_in())["access_token"])).status_code == 200
    assert (await sandbox.api("GET", "/me")).status_code == 200


# -- fault knobs ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 429, 500, 503])
async def test_fail_next_api_requests(sandbox, status):
    sandbox.state.fail_next(2, status, "api")
    for _ in range(2):
        r = await sandbox.api("GET", "/me")
        assert r.status_code == status
        assert "x-ratelimit-limit" in r.headers
        if status == 401:
            assert r.json() == {"message": "Unauthenticated."} and r.headers["www-authenticate"].startswith("Bearer")
        if status in (429, 503):
            assert r.headers["retry-after"] == "1"
    assert (await sandbox.api("GET", "/me")).status_code == 200


async def test_fail_next_token_scope_leaves_the_api_alone(sandbox):
    tokens = await sandbox.sign_in()
    sandbox.state.fail_next(1, 503, "token")
    assert (await sandbox.api("GET", "/me", tokens["access_token"])).status_code == 200
    r = await refresh(sandbox, tokens["refresh_token"])
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert sandbox.state.stats()["token_requests"]["refresh_token"] == 1
    assert (await refresh(sandbox, tokens["refresh_token"])).status_code == 200  # the refresh token was not spent


async def test_fail_next_any_scope_and_order(sandbox):
    sandbox.state.fail_next(1, 500, "any")
    sandbox.state.fail_next(1, 429, "api")
    assert (await sandbox.http.get("/oauth/authorize")).status_code == 500
    assert (await sandbox.api("GET", "/me")).status_code == 429
    assert sandbox.state.faults == []


async def test_fault_knobs_over_http(sandbox):
    r = await sandbox.http.post("/_sandbox/fail", json={"count": 3, "status": 401, "scope": "api"})
    assert r.status_code == 200 and r.json()["faults"] == [{"scope": "api", "status": 401, "remaining": 3}]
    assert (await sandbox.api("GET", "/me")).status_code == 401
    assert (await sandbox.http.get("/_sandbox/fail")).json()["faults"][0]["remaining"] == 2
    assert (await sandbox.http.delete("/_sandbox/fail")).json() == {"faults": []}
    assert (await sandbox.api("GET", "/me")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"count": 1, "status": 404}, {"count": 0, "status": 500}, {"count": 1, "status": 500, "scope": "web"},
     {"status": 500, "extra": 1}, {"count": "1", "status": 500}],
)
async def test_bad_fault_requests_are_400(sandbox, body):
    r = await sandbox.http.post("/_sandbox/fail", json=body)
    assert r.status_code == 400 and r.json()["error"]


async def test_knobs_over_http(sandbox):
    knobs = (await sandbox.http.get("/_sandbox/knobs")).json()
    assert knobs["access_ttl"] == 3600 and knobs["rate_limit"] == 600
    r = await sandbox.http.post("/_sandbox/knobs", json={"access_ttl": 30, "latency": 0.25})
    assert r.status_code == 200 and r.json()["access_ttl"] == 30 and r.json()["latency"] == 0.25
    assert sandbox.state.knobs["access_ttl"] == 30
    for bad in ({"access_ttl": 0}, {"access_ttl": "60"}, {"nope": 1}, {"latency": 99}, {"auto_approve": 1}):
        r = await sandbox.http.post("/_sandbox/knobs", json=bad)
        assert r.status_code == 400, bad
    assert sandbox.state.knobs["access_ttl"] == 30  # a refused change changes nothing
    r = await sandbox.http.post("/_sandbox/reset")
    assert r.json()["knobs"]["access_ttl"] == 3600 and sandbox.state.knobs["latency"] == 0


async def test_latency_knob_delays_everything_but_the_admin_paths(sandbox, monkeypatch):
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(app_module.asyncio, "sleep", fake_sleep)
    sandbox.state.set_knobs(latency=1.5)
    await sandbox.api("GET", "/me")
    await sandbox.http.post("/oauth/token", data={})
    await sandbox.http.get("/_sandbox/stats")
    assert delays == [1.5, 1.5]


async def test_clock_knob_expires_tokens(sandbox):
    tokens = await sandbox.sign_in()
    r = await sandbox.http.post("/_sandbox/clock", json={"advance": 3600})
    assert r.status_code == 200 and r.json()["clock_offset"] == 3600
    assert (await sandbox.api("GET", "/me", tokens["access_token"])).status_code == 401
    assert (await sandbox.http.post("/_sandbox/clock", json={"advance": "soon"})).status_code == 400


async def test_cross_site_pages_cannot_change_knobs(sandbox):
    tokens = await sandbox.sign_in()
    r = await sandbox.http.post("/_sandbox/revoke-all", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert (await sandbox.api("GET", "/me", tokens["access_token"])).status_code == 200
    r = await sandbox.http.post("/_sandbox/knobs", json={"latency": 1}, headers={"Origin": "http://127.0.0.1"})
    assert r.status_code == 200  # its own origin is fine


async def test_admin_overview_and_unknown_paths(sandbox):
    overview = (await sandbox.http.get("/_sandbox/")).json()
    assert set(overview) >= {"knobs", "faults", "stats", "endpoints", "state_file"}
    assert (await sandbox.http.get("/_sandbox/nothing")).status_code == 404
    assert (await sandbox.http.get("/_sandbox/revoke-all")).status_code == 405


async def test_knob_errors_in_python(sandbox):
    with pytest.raises(KnobError):
        sandbox.state.set_knobs(access_ttl=-1)
    with pytest.raises(KnobError):
        sandbox.state.fail_next(1, 418)
