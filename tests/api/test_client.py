"""BonjoroAuth / BonjoroClient against a mocked live server (respx), a real store and a fake clock."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from bonjoro_tui.api.client import (
    ApiError,
    BonjoroAuth,
    BonjoroClient,
    NotSignedIn,
    RefreshFailed,
    SignInAgain,
    WrongTarget,
    retry_after,
)

from .conftest import API, BASE, REVOKE_URL, T0, TOKEN_URL, bearer, make_profile, request_fields


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def token_response(n: int, lifetime: int = 3600, rotate: bool = True) -> httpx.Response:
    body = {"token_type": "Bearer", "expires_in": lifetime, "access_token": f"access-{n}"}
    if rotate:
        body["refresh_token"] = f"refresh-{n}"
    return httpx.Response(200, json=body)


@pytest.fixture
async def make_client(settings, store, clock):
    made = []

    def factory(**kw):
        c = BonjoroClient(settings, store, now=clock, sleep=kw.pop("sleep", Sleeps()), **kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        await c.aclose()


@pytest.fixture
def mock():
    with respx.mock(assert_all_called=False) as router:
        yield router


def me_route(mock, accept=("access-0",)):
    def answer(request):
        if bearer(request) in accept:
            return httpx.Response(200, json={"id": "u1", "token": "seen"})
        return httpx.Response(401, json={"message": "Unauthenticated."})

    return mock.get(f"{API}/me").mock(side_effect=answer)


async def test_fresh_token_is_sent_in_the_authorization_header_only(mock, settings, store, make_client):
    store.save(make_profile(settings))
    token = mock.post(TOKEN_URL)
    me = me_route(mock)
    r = await make_client().request("GET", "/me", params={"x": "1"})
    assert r.status == 200 and r.json()["id"] == "u1"
    assert not token.called
    sent = me.calls.last.request
    assert sent.headers["authorization"] == "Bearer access-0"
    assert "access-0" not in str(sent.url) and b"access-0" not in sent.content
    assert str(sent.url) == f"{API}/me?x=1"


async def test_refreshes_before_expiry_within_the_leeway(mock, settings, store, clock, make_client):
    store.save(make_profile(settings))
    clock.advance(3600 - 30)  # 30 s left: inside the 60 s leeway
    token = mock.post(TOKEN_URL).mock(return_value=token_response(1))
    me = me_route(mock, accept=("access-1",))
    events = []
    r = await make_client(on_refresh=events.append).request("GET", "/me")
    assert r.status == 200
    assert token.call_count == 1
    fields = request_fields(token.calls.last.request)
    assert fields["grant_type"] == "refresh_token" and fields["refresh_token"] == "refresh-0"
    assert bearer(me.calls.last.request) == "access-1"
    assert [(e.reason, e.ok) for e in events] == [("expiring", True)]
    stored = store.load(settings.profile)
    assert stored.last_refresh_at == clock.t and stored.last_refresh_result == "ok"
    assert stored.tokens.expires_at == clock.t + 3600


async def test_short_lived_token_leeway_is_capped_by_its_lifetime(mock, settings, store, clock, make_client):
    store.save(make_profile(settings, lifetime=10))
    clock.advance(4)  # 6 s left of 10: the 60 s leeway would refresh at once; half the lifetime does not
    token = mock.post(TOKEN_URL)
    me_route(mock)
    r = await make_client().request("GET", "/me")
    assert r.status == 200 and not r.refreshed
    assert not token.called


async def test_401_triggers_one_refresh_and_one_retry(mock, settings, store, make_client):
    store.save(make_profile(settings))
    token = mock.post(TOKEN_URL).mock(return_value=token_response(1))
    me = me_route(mock, accept=("access-1",))
    events = []
    r = await make_client(on_refresh=events.append).request("GET", "/me")
    assert r.status == 200
    assert token.call_count == 1
    assert [bearer(c.request) for c in me.calls] == ["access-0", "access-1"]
    assert [e.reason for e in events] == ["rejected"]
    assert r.refreshed  # the explorer says "401 → refreshed → 200"


async def test_a_second_401_is_returned_not_refreshed_again(mock, settings, store, make_client):
    store.save(make_profile(settings))
    token = mock.post(TOKEN_URL).mock(side_effect=[token_response(1), token_response(2)])
    me = me_route(mock, accept=())
    r = await make_client().request("GET", "/me")
    assert r.status == 401
    assert token.call_count == 1
    assert me.call_count == 2


async def test_rotated_refresh_token_is_saved_before_the_new_access_token_is_used(mock, settings, store, make_client):
    store.save(make_profile(settings))
    mock.post(TOKEN_URL).mock(return_value=token_response(1))
    seen_in_store = []

    def answer(request):
        if bearer(request) == "access-1":
            seen_in_store.append(store.load(settings.profile).tokens.refresh_token)
            return httpx.Response(200, json={})
        return httpx.Response(401, json={"message": "Unauthenticated."})

    mock.get(f"{API}/me").mock(side_effect=answer)
    assert (await make_client().request("GET", "/me")).status == 200
    assert seen_in_store == ["refresh-1"]


async def test_refresh_response_without_refresh_token_keeps_the_old_one(mock, settings, store, clock, make_client):
    store.save(make_profile(settings))
    clock.advance(3600)
    mock.post(TOKEN_URL).mock(return_value=token_response(1, rotate=False))
    me_route(mock, accept=("access-1",))
    assert (await make_client().request("GET", "/me")).status == 200
    assert store.load(settings.profile).tokens.refresh_token == "refresh-0"


async def test_invalid_grant_signs_the_profile_out(mock, settings, store, clock, make_client):
    store.save(make_profile(settings))
    clock.advance(4000)
    mock.post(TOKEN_URL).mock(
        return_value=httpx.Response(400, json={"error": "invalid_grant", "error_description": "refresh token revoked"})
    )
    me = me_route(mock)
    events = []
    with pytest.raises(SignInAgain) as info:
        await make_client(on_refresh=events.append).request("GET", "/me")
    assert "bonjoro-tui login" in str(info.value)
    assert isinstance(info.value, NotSignedIn)
    assert not me.called
    assert store.load(settings.profile) is None
    assert events and events[0].ok is False and "signed out" in events[0].detail
    with pytest.raises(NotSignedIn):
        await make_client().request("GET", "/me")


async def test_refresh_failure_keeps_the_tokens_and_records_the_reason(mock, settings, store, clock, make_client):
    store.save(make_profile(settings))
    clock.advance(4000)
    mock.post(TOKEN_URL).mock(return_value=httpx.Response(500, text="<html>oops</html>"))
    with pytest.raises(RefreshFailed):
        await make_client().request("GET", "/me")
    stored = store.load(settings.profile)
    assert stored.tokens.refresh_token == "refresh-0"
    assert stored.last_refresh_result and stored.last_refresh_result != "ok"


async def test_retry_after_is_honoured_with_bounded_retries(mock, settings, store, make_client):
    store.save(make_profile(settings))
    sleeps = Sleeps()
    busy = httpx.Response(429, headers={"Retry-After": "2"}, json={"message": "Too Many Attempts."})
    route = mock.get(f"{API}/me").mock(side_effect=[busy, busy, httpx.Response(200, json={"ok": 1})])
    r = await make_client(sleep=sleeps).request("GET", "/me")
    assert r.status == 200 and r.attempts == 3
    assert sleeps.calls == [2.0, 2.0]
    assert route.call_count == 3

    sleeps2 = Sleeps()
    always = mock.get(f"{API}/campaigns").mock(return_value=busy)
    r = await make_client(sleep=sleeps2, max_retries=3).request("GET", "/campaigns")
    assert r.status == 429
    assert always.call_count == 4 and sleeps2.calls == [2.0, 2.0, 2.0]


async def test_retries_are_reported_and_can_be_turned_off(mock, settings, store, make_client):
    store.save(make_profile(settings))
    busy = httpx.Response(429, headers={"Retry-After": "2"}, json={"message": "Too Many Attempts."})
    route = mock.get(f"{API}/me").mock(side_effect=[busy, httpx.Response(503), httpx.Response(200, json={"ok": 1})])
    r = await make_client().request("GET", "/me")
    assert r.status == 200 and r.retries == ((429, 2.0), (503, 1.0))  # backoff of the 2nd attempt
    assert r.request_headers is not None and r.request_headers["authorization"].startswith("Bearer ")
    assert "access-0" not in repr(r)  # the request's headers (and so the token) are left out of the repr

    route.side_effect = [busy, httpx.Response(200, json={"ok": 1})]
    sleeps = Sleeps()
    r = await make_client(sleep=sleeps).request("GET", "/me", retry=False)
    assert r.status == 429 and r.retries == () and r.attempts == 1 and sleeps.calls == []
    assert route.call_count == 4

    mock.get(f"{API}/campaigns").mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={})])
    with pytest.raises(ApiError, match="could not reach"):
        await make_client(sleep=Sleeps()).request("GET", "/campaigns", retry=False)


async def test_retry_after_beyond_the_cap_is_returned_at_once(mock, settings, store, make_client):
    store.save(make_profile(settings))
    sleeps = Sleeps()
    route = mock.get(f"{API}/me").mock(return_value=httpx.Response(503, headers={"Retry-After": "3600"}))
    r = await make_client(sleep=sleeps, max_retry_wait=30).request("GET", "/me")
    assert r.status == 503 and route.call_count == 1 and sleeps.calls == []


def test_retry_after_parses_seconds_and_http_dates():
    assert retry_after("7", now=0) == 7.0
    assert retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40) == 60.0
    assert retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=1000) == 0.0
    assert retry_after("soon", now=0) is None
    assert retry_after(None, now=0) is None


async def test_connection_errors_retry_idempotent_methods_only(mock, settings, store, make_client):
    store.save(make_profile(settings))
    sleeps = Sleeps()
    get = mock.get(f"{API}/me").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ConnectError("refused"), httpx.Response(200, json={})]
    )
    assert (await make_client(sleep=sleeps).request("GET", "/me")).status == 200
    assert get.call_count == 3 and len(sleeps.calls) == 2

    post = mock.post(f"{API}/me").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(ApiError, match="could not reach https://bonjoro.test") as info:
        await make_client(sleep=Sleeps()).request("POST", "/me", json={"bio": "x"})
    assert post.call_count == 1
    # What to do about it, for the CLI's one line and the TUI's hint.
    assert "server running" in info.value.hint and "BONJORO_BASE_URL" in info.value.hint
    assert "bonjoro-tui paths" in info.value.hint


async def test_profile_signed_in_to_another_server_is_never_used(mock, settings, store, make_client):
    store.save(make_profile(settings, target="https://other.example"))
    any_call = mock.route().mock(return_value=httpx.Response(200))
    with pytest.raises(WrongTarget) as info:
        await make_client().request("GET", "/me")
    assert "signed in to https://other.example, not https://bonjoro.test" in str(info.value)
    assert not any_call.called


async def test_absolute_url_to_another_origin_gets_no_token(mock, settings, store, clock, make_client):
    store.save(make_profile(settings))
    evil = mock.get("https://evil.example/steal").mock(return_value=httpx.Response(200))
    other_port = mock.get("https://bonjoro.test:8443/api/v2/me").mock(return_value=httpx.Response(200))
    client = make_client()
    for url in ("https://evil.example/steal", "http://bonjoro.test/api/v2/me", "https://bonjoro.test:8443/api/v2/me"):
        with pytest.raises(ApiError, match="refusing to send the token"):
            await client.request("GET", url)
    assert not evil.called and not other_port.called
    # The auth itself refuses too, whoever builds the request.
    auth = BonjoroAuth(settings, store, client.oauth, now=clock)
    async with httpx.AsyncClient() as http:
        await http.get("https://evil.example/steal", auth=auth)
    assert evil.call_count == 1 and "authorization" not in evil.calls.last.request.headers


async def test_absolute_url_on_the_api_origin_is_allowed(mock, settings, store, make_client):
    store.save(make_profile(settings))
    me = me_route(mock)
    assert (await make_client().request("GET", f"{API}/me")).status == 200
    assert bearer(me.calls.last.request) == "access-0"


async def test_not_signed_in_makes_no_request(mock, make_client):
    any_call = mock.route().mock(return_value=httpx.Response(200))
    with pytest.raises(NotSignedIn, match="bonjoro-tui login"):
        await make_client().request("GET", "/me")
    assert not any_call.called


async def test_twenty_concurrent_requests_share_one_refresh(mock, settings, store, clock, make_client):
    store.save(make_profile(settings))
    clock.advance(4000)

    async def slow_token(request):
        await asyncio.sleep(0.05)  # let every caller pile up behind the lock
        return token_response(1)

    token = mock.post(TOKEN_URL).mock(side_effect=slow_token)
    me = me_route(mock, accept=("access-1",))
    client = make_client()
    results = await asyncio.gather(*(client.request("GET", "/me") for _ in range(20)))
    assert [r.status for r in results] == [200] * 20
    assert token.call_count == 1
    assert {bearer(c.request) for c in me.calls} == {"access-1"}


async def test_a_refresh_made_by_another_process_is_picked_up_not_repeated(mock, settings, store, clock, make_client):
    store.save(make_profile(settings))
    token = mock.post(TOKEN_URL)
    sent = []

    def answer(request):
        sent.append(bearer(request))
        if bearer(request) == "access-0":
            # Meanwhile another process refreshed and rotated the tokens in the store.
            store.save(make_profile(settings, access="access-9", refresh="refresh-9", obtained=clock.t))
            return httpx.Response(401, json={"message": "Unauthenticated."})
        return httpx.Response(200 if bearer(request) == "access-9" else 401, json={})

    mock.get(f"{API}/me").mock(side_effect=answer)
    r = await make_client().request("GET", "/me")
    assert r.status == 200
    assert sent == ["access-0", "access-9"]
    assert not token.called


async def test_refresh_now_forces_a_refresh_and_api_keys_cannot_refresh(mock, settings, store, make_client):
    store.save(make_profile(settings))
    token = mock.post(TOKEN_URL).mock(return_value=token_response(1))
    profile = await make_client().refresh_now()
    assert profile.tokens.access_token == "access-1" and profile.tokens.refresh_token == "refresh-1"
    assert token.call_count == 1
    store.save(make_profile(settings, access="key-123456", refresh=None, lifetime=None, method="api_key"))
    with pytest.raises(RefreshFailed, match="API key"):
        await make_client().refresh_now()


async def test_client_credentials_profile_gets_a_new_token_instead_of_refreshing(tmp_path, mock, clock):
    from bonjoro_tui.settings import load_settings
    from bonjoro_tui.store import TokenStore

    s = load_settings(
        env={"BONJORO_BASE_URL": BASE, "BONJORO_CLIENT_ID": "cc", "BONJORO_CLIENT_SECRET": "cc-secret-value",
             "BONJORO_TUI_DATA_DIR": str(tmp_path / "d"), "BONJORO_TUI_CONFIG_DIR": str(tmp_path / "c")},
        cwd=tmp_path,
    )
    store = TokenStore(s.store_path)
    store.save(make_profile(s, refresh=None, method="client_credentials"))
    clock.advance(4000)
    token = mock.post(TOKEN_URL).mock(return_value=token_response(1, rotate=False))
    me_route(mock, accept=("access-1",))
    async with BonjoroClient(s, store, now=clock, sleep=Sleeps()) as client:
        assert (await client.request("GET", "/me")).status == 200
    assert request_fields(token.calls.last.request)["grant_type"] == "client_credentials"


async def test_logout_revokes_refresh_then_access_token_and_deletes_locally(mock, settings, store, make_client):
    store.save(make_profile(settings))
    revoke = mock.post(REVOKE_URL).mock(return_value=httpx.Response(200))
    result = await make_client().logout_detailed()
    assert [request_fields(c.request).get("token_type_hint") for c in revoke.calls] == ["refresh_token", "access_token"]
    assert [request_fields(c.request).get("token") for c in revoke.calls] == ["refresh-0", "access-0"]
    assert result.revoked == ["refresh_token", "access_token"] and result.deleted
    assert store.load(settings.profile) is None


async def test_logout_keeps_the_tokens_when_revocation_fails_unless_told_to_forget(mock, settings, store, make_client):
    """Issue 12 (logout tells the truth) reverses what this test used to assert: deleting tokens
    the server still honours signed the user out here while they stayed valid there."""
    from bonjoro_tui.api.client import RevocationFailed

    store.save(make_profile(settings))
    mock.post(REVOKE_URL).mock(side_effect=httpx.ConnectError("down"))
    with pytest.raises(RevocationFailed, match="still valid at the server"):
        await make_client().logout()
    assert store.load(settings.profile) is not None
    result = await make_client().logout_detailed(forget=True)
    assert result.deleted and result.failed == ["refresh_token", "access_token"]
    assert store.load(settings.profile) is None
    with pytest.raises(NotSignedIn):
        await make_client().logout()


async def test_me_and_rate_limit_headers(mock, settings, store, make_client):
    store.save(make_profile(settings))
    mock.get(f"{API}/me").mock(
        return_value=httpx.Response(200, json={"data": {"id": "u1"}}, headers={"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "599"})
    )
    client = make_client()
    assert await client.me() == {"data": {"id": "u1"}}
    r = await client.request("GET", "/me")
    assert (r.rate_limit.limit, r.rate_limit.remaining) == (600, 599)
    assert r.elapsed >= 0


async def test_logout_leaves_a_profile_of_another_server_alone(mock, settings, store, make_client):
    store.save(make_profile(settings, target="https://other.example"))
    revoke = mock.post(REVOKE_URL).mock(return_value=httpx.Response(200))
    with pytest.raises(WrongTarget, match="signed in to https://other.example"):
        await make_client().logout_detailed()
    assert not revoke.called
    assert store.load(settings.profile) is not None


async def test_without_a_refresh_token_a_valid_token_is_kept_and_an_expired_one_means_sign_in(
    mock, settings, store, clock, make_client
):
    store.save(make_profile(settings, refresh=None))
    token = mock.post(TOKEN_URL)
    me = me_route(mock, accept=())
    with pytest.raises(RefreshFailed, match="no refresh token"):
        await make_client().refresh_now()
    assert (await make_client().request("GET", "/me")).status == 401  # no way to refresh: the 401 stands
    assert me.call_count == 1
    clock.advance(4000)
    with pytest.raises(NotSignedIn, match="expired and there is no refresh token"):
        await make_client().request("GET", "/me")
    assert not token.called
    assert store.load(settings.profile).last_refresh_result is None


async def test_503_without_retry_after_is_not_retried_for_a_post_but_429_is(mock, settings, store, make_client):
    store.save(make_profile(settings))
    sleeps = Sleeps()
    post = mock.post(f"{API}/me").mock(
        side_effect=[httpx.Response(503), httpx.Response(429), httpx.Response(200, json={"message": "Updated"})]
    )
    client = make_client(sleep=sleeps)
    assert (await client.request("POST", "/me", json={"bio": "x"})).status == 503
    assert post.call_count == 1 and sleeps.calls == []
    # 429 means "not processed": safe to send again whatever the method (backoff without Retry-After).
    r = await client.request("POST", "/me", json={"bio": "x"})
    assert r.status == 200 and post.call_count == 3 and sleeps.calls == [0.5]


async def test_the_query_written_in_the_path_stays_when_params_join_it(mock, settings, store, make_client):
    """httpx replaces a URL's query with ``params``: `/greets?page=4` plus the explorer's search
    field went out as `?search=a` (page 1 came back), and `api -X GET '/greets?page=2' -F limit=5`
    lost its page. The URL's query stays, the params join it, a param of the same name wins."""
    store.save(make_profile(settings))
    greets = mock.get(f"{API}/greets").mock(return_value=httpx.Response(200, json={"data": []}))
    client = make_client()
    await client.request("GET", "/greets?page=4&limit=2", params={"search": "a b", "limit": 5, "open": True})
    sent = greets.calls.last.request.url
    assert dict(sent.params) == {"page": "4", "limit": "5", "search": "a b", "open": "true"}
    await client.request("GET", f"{API}/greets?page=3")  # no params: the URL as it is
    assert str(greets.calls.last.request.url) == f"{API}/greets?page=3"
    await client.request("GET", "/greets", params={"page": "2"})
    assert str(greets.calls.last.request.url) == f"{API}/greets?page=2"
