"""account/doctor.py: every check passes against the sandbox (the in-process default, and one reached
through BONJORO_BASE_URL), signed in and signed out; against a server lacking something, the line
says what and what to do. Only 127.0.0.1 is ever contacted."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import time

import pytest

from bonjoro_tui.account.doctor import Check, _decode_jwt, failed, report_json, run_checks
from bonjoro_tui.account.methods import SignInMethod
from bonjoro_tui.account.session import open_session
from bonjoro_tui.account.signin import SignIn
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet
from bonjoro_tui.trust import origin
from support import redirect_browser

from account.doctor_app import HOSTILE, DoctorServer

pytestmark = pytest.mark.integration

SIGNATURE = "c2lnbmF0dXJlLW5ldmVyLXNob3du"  # a JWT's third part: never in a result
RAW = ("\x1b", "\x07", "\u202e", "\u202c")


def env_for(url: str, **more: str) -> dict[str, str]:
    return {**os.environ, "BONJORO_BASE_URL": url, "BONJORO_CLIENT_ID": "sandbox-public",
            "NO_PROXY": "127.0.0.1,localhost", **more}


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def jwt(header: dict, claims: dict) -> str:
    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}.{SIGNATURE}"


def assert_all_pass(checks: list[Check], *, signed_in: bool) -> None:
    bad = [c for c in checks if c.status in ("fail", "warn")]
    assert not bad, bad
    assert not failed(checks)
    skipped = {c.name for c in checks if c.status == "skip"}
    assert skipped == (set() if signed_in else {"stored profile", "access token"})
    names = [c.name for c in checks]
    assert names[0] == "settings" and names[-1] == "clock"
    for name in ("discovery: oauth-authorization-server", "discovery: openid-configuration", "authorize endpoint",
                 "token endpoint", "token body format", "API identity", "rate-limit headers"):
        assert name in names
    assert any(n.startswith("reach http://127.0.0.1:") for n in names)


def assert_no_secret(checks: list[Check], *secrets: str) -> None:
    text = json.dumps([c.to_json() for c in checks])
    for secret in secrets:
        assert secret not in text
    assert SIGNATURE not in text


async def sign_in(session) -> StoredProfile:
    done = await SignIn(session).run(SignInMethod.CODE, open_browser=redirect_browser(), timeout=20)
    return done.profile


# --------------------------------------------------------------------------- the sandbox


async def test_default_sandbox_signed_out_and_in():
    session = open_session(load_settings(), sandbox_options={"auto_approve": True})
    try:
        checks = await run_checks(session)
        assert_all_pass(checks, signed_in=False)
        c = by_name(checks)
        assert "wants a token" in c["API identity"].detail
        assert "published at" in c["discovery: oauth-authorization-server"].detail
        assert "not published" in c["discovery: openid-configuration"].detail
        assert "reads both formats" in c["token body format"].detail

        profile = await sign_in(session)
        checks = await run_checks(session)
        assert_all_pass(checks, signed_in=True)
        c = by_name(checks)
        assert "unverified" in c["access token"].detail and "alg=HS256" in c["access token"].detail
        assert "signed in as Alex Sandbox" in c["API identity"].detail
        assert "X-RateLimit-Limit 600" in c["rate-limit headers"].detail
        signature = profile.tokens.access_token.rsplit(".", 1)[1]
        text = json.dumps(report_json(session.settings, checks))
        assert profile.tokens.access_token not in text and signature not in text
        assert profile.tokens.refresh_token not in text
    finally:
        await session.aclose()


async def test_sandbox_by_base_url_signed_out_and_in():
    with SandboxServer(port=0, auto_approve=True) as server:
        settings = load_settings(env=env_for(server.url))
        assert settings.target == "live"
        checks = await run_checks(settings)
        assert_all_pass(checks, signed_in=False)
        assert f"reach {server.url}" in by_name(checks)

        session = open_session(settings)
        try:
            profile = await sign_in(session)
            checks = await run_checks(session)
        finally:
            await session.aclose()
        assert_all_pass(checks, signed_in=True)
        assert_no_secret(checks, profile.tokens.access_token, profile.tokens.refresh_token or "-")
        json.dumps(report_json(settings, checks))  # serialisable


async def test_an_api_key_is_opaque():
    with SandboxServer(port=0) as server:
        session = open_session(load_settings(env=env_for(server.url)))
        try:
            await SignIn(session).run(SignInMethod.API_KEY, api_key="sandbox-api-key")
            checks = await run_checks(session)
        finally:
            await session.aclose()
    assert_all_pass(checks, signed_in=True)
    assert "opaque" in by_name(checks)["access token"].detail
    assert_no_secret(checks, "sandbox-api-key")


async def test_a_sandbox_like_passport_without_get_me_still_passes():
    """The sandbox's 'passport' knob: GET /me is 404, as on live Bonjoro; the user is read with the
    published GET /users/{id} for the token's sub, as bonjoro-tui does."""
    with SandboxServer(port=0, auto_approve=True) as server:
        server.state.set_knobs(passport=True)
        session = open_session(load_settings(env=env_for(server.url)))
        try:
            await sign_in(session)
            checks = await run_checks(session)
        finally:
            await session.aclose()
    assert_all_pass(checks, signed_in=True)
    identity = by_name(checks)["API identity"]
    assert "/me is not served" in identity.detail and "signed in as Alex Sandbox" in identity.detail


def test_the_sandbox_must_be_running():
    with pytest.raises(ValueError):
        import asyncio

        asyncio.run(run_checks(load_settings()))


# --------------------------------------------------------------------------- a server lacking things


def save(settings, token: str, *, expires_at: float | None, api_origin: str | None = None) -> None:
    here = origin(settings.api_base)
    TokenStore(settings.store_path).save(StoredProfile(
        settings.profile, settings.target_id, "code", settings.client_id,
        TokenSet(token, time.time() - 10, refresh_token="r-secret-0123456789", expires_at=expires_at),
        api_origin=api_origin or here, revoke_origin=here))


async def test_a_server_lacking_everything_says_what():
    with DoctorServer() as server:
        settings = load_settings(env=env_for(server.url, BONJORO_CLIENT_ID="my-client"))
        exp = time.time() + 3600
        token = jwt({"alg": "RS256", "kid": "key-1", "typ": "at+jwt"},
                    {"iss": "https://issuer.test", "aud": ["api", "other"], "sub": "user-7", "exp": exp})
        save(settings, token, expires_at=exp - 900)  # stored 15 minutes earlier than the token says
        checks = await run_checks(settings)
    c = by_name(checks)
    assert failed(checks)

    authorize = c["authorize endpoint"]
    assert authorize.status == "fail" and "404" in authorize.detail
    assert "BONJORO_AUTHORIZE_URL" in authorize.todo
    assert "derived from the environment variable BONJORO_BASE_URL" in authorize.todo

    token_check = c["token endpoint"]
    assert token_check.status == "fail" and "HTML page" in token_check.detail
    assert "BONJORO_TOKEN_URL" in token_check.todo
    assert c["token body format"].status == "fail"

    identity = c["API identity"]
    assert identity.status == "warn"
    assert "GET" in identity.detail and "/me is not served" in identity.detail and "/users" in identity.detail

    assert c["rate-limit headers"].status == "warn" and "X-RateLimit" in c["rate-limit headers"].detail
    clock = c["clock"]
    assert clock.status == "warn" and "ahead" in clock.detail
    assert 3595 <= int(re.search(r"\((\d+) s\) ahead", clock.detail).group(1)) <= 3601  # Date: whole seconds

    access = c["access token"]
    assert access.status == "warn" and "unverified" in access.detail
    assert "alg=RS256" in access.detail and "kid=key-1" in access.detail and "typ=at+jwt" in access.detail
    assert "iss=https://issuer.test" in access.detail and "sub=user-7" in access.detail and "aud=[api, other]" in access.detail
    assert "disagrees with the stored expires_at" in access.detail

    for name in ("discovery: oauth-authorization-server", "discovery: openid-configuration"):
        assert c[name].status == "ok" and "not published" in c[name].detail  # absent is not a failure
    assert c["stored profile"].status == "ok"
    assert_no_secret(checks, token, "r-secret-0123456789")
    # The token went to the API base only, as the binding allows.
    assert server.authorizations() and all(a == f"Bearer {token}" for a in server.authorizations())
    assert {p for m, p, h, _ in server.requests if "authorization" in h} <= {
        "/api/v2/me", "/api/v2/users/user-7", "/api/v2/users"}  # /me, the token's sub (what bonjoro-tui does), the list
    assert "GET /users/user-7 (the token's sub) answered HTTP 404" in identity.detail


async def test_no_get_me_but_the_users_of_the_tokens_sub_is_what_bonjoro_tui_uses():
    with DoctorServer(users_by_id=True, token="oauth", authorize=200, rate_limit=True, skew=0) as server:
        settings = load_settings(env=env_for(server.url, BONJORO_CLIENT_ID="my-client"))
        token = jwt({"alg": "RS256", "typ": "JWT"}, {"sub": "7/..", "exp": time.time() + 3600})
        save(settings, token, expires_at=time.time() + 3600)
        checks = await run_checks(settings)
        paths = [p for _, p, _, _ in server.requests if p.startswith("/api/v2/")]
    identity = by_name(checks)["API identity"]
    assert identity.status == "ok", identity
    assert "/me is not served" in identity.detail and "the token's sub" in identity.detail
    assert "signed in as Eve Example" in identity.detail
    assert "/api/v2/users/7%2F.." in paths  # the sub is one path segment, whatever it holds
    assert not failed(checks)


async def test_a_form_only_token_endpoint_suggests_the_format():
    with DoctorServer(token="form-only", authorize=200, me=True, rate_limit=True, skew=0) as server:
        settings = load_settings(env=env_for(server.url, BONJORO_CLIENT_ID="my-client"))
        assert settings.token_format == "json"  # Bonjoro's published token path: JSON by default
        checks = await run_checks(settings)
    c = by_name(checks)
    fmt = c["token body format"]
    assert fmt.status == "fail" and "reads form bodies, not json" in fmt.detail
    assert "BONJORO_TOKEN_FORMAT=form" in fmt.todo
    assert c["authorize endpoint"].status == "ok"
    assert c["clock"].status == "ok"
    # Never a secret in a probe: the client id only.
    token_bodies = [b for m, p, _, b in server.requests if p.endswith("/token")]
    assert len(token_bodies) == 2 and all(b"secret" not in b and b"my-client" in b for b in token_bodies)


async def test_the_form_format_configured_passes_there():
    with DoctorServer(token="form-only", authorize=302, me=True, rate_limit=True, skew=0) as server:
        settings = load_settings(env=env_for(server.url, BONJORO_CLIENT_ID="my-client", BONJORO_TOKEN_FORMAT="form"))
        checks = await run_checks(settings)
    c = by_name(checks)
    assert c["token body format"].status == "ok" and "reads form bodies" in c["token body format"].detail
    assert c["token endpoint"].status == "ok"
    assert c["authorize endpoint"].status == "ok" and "302" in c["authorize endpoint"].detail
    assert not failed(checks)


async def test_published_metadata_that_disagrees_names_the_setting():
    with DoctorServer(metadata=True, token="oauth", authorize=200, me=True, rate_limit=True, skew=0) as server:
        settings = load_settings(env=env_for(server.url, BONJORO_CLIENT_ID="my-client"))
        checks = await run_checks(settings)
    check = by_name(checks)["discovery: oauth-authorization-server"]
    assert check.status == "warn"
    assert "token_endpoint" in check.todo and "BONJORO_TOKEN_URL" in check.todo


async def test_a_profile_bound_elsewhere_is_refused_and_its_token_never_sent():
    with DoctorServer(me=True, rate_limit=True, skew=0, token="oauth", authorize=200) as server:
        settings = load_settings(env=env_for(server.url, BONJORO_CLIENT_ID="my-client"))
        save(settings, "opaque-token-0123456789abcdef", expires_at=time.time() + 3600,
             api_origin="https://api.elsewhere.test")
        checks = await run_checks(settings)
    c = by_name(checks)
    assert c["stored profile"].status == "fail"
    assert "refusing to send" in c["stored profile"].detail and "BONJORO_API_BASE" in c["stored profile"].todo
    assert c["API identity"].status == "skip"
    assert server.authorizations() == []
    assert "opaque" in c["access token"].detail


async def test_an_expired_token_is_not_sent():
    with DoctorServer(me=True, rate_limit=True, skew=0, token="oauth", authorize=200) as server:
        settings = load_settings(env=env_for(server.url, BONJORO_CLIENT_ID="my-client"))
        save(settings, "expired-token-0123456789abcdef", expires_at=time.time() - 5)
        checks = await run_checks(settings)
    identity = by_name(checks)["API identity"]
    assert identity.status == "warn" and "expired" in identity.detail and "not sent" in identity.detail
    assert "bonjoro-tui refresh" in identity.todo
    assert server.authorizations() == []
    assert not failed(checks)


async def test_a_rejected_token_says_refresh():
    with DoctorServer(me=True, rate_limit=True, skew=0, token="oauth", authorize=200) as server:
        settings = load_settings(env=env_for(server.url, BONJORO_CLIENT_ID="my-client"))
        save(settings, "not-a-bearer", expires_at=time.time() + 3600)
        # The app only takes "Bearer …": send a token type it refuses.
        store = TokenStore(settings.store_path)
        profile = store.load(settings.profile)
        profile.tokens = TokenSet("t-0123456789abcdef", time.time(), token_type="MAC", expires_at=time.time() + 60)
        store.save(profile)
        checks = await run_checks(settings)
    identity = by_name(checks)["API identity"]
    assert identity.status == "fail" and "401" in identity.detail and "bonjoro-tui refresh" in identity.todo


async def test_server_text_is_escaped():
    with DoctorServer(token="hostile", authorize=200, me=True, rate_limit=True, skew=0) as server:
        settings = load_settings(env=env_for(server.url, BONJORO_CLIENT_ID="my-client"))
        checks = await run_checks(settings)
    text = "".join(c.detail + c.todo for c in checks)
    assert "\\x1b" in text
    for raw in RAW:
        assert raw not in text
    assert HOSTILE not in text


async def test_nothing_listening():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed at the end of the block: nothing listens there
    settings = load_settings(env=env_for(f"http://127.0.0.1:{port}", BONJORO_CLIENT_ID="my-client"))
    checks = await run_checks(settings, timeout=2)
    c = by_name(checks)
    reach = c[f"reach http://127.0.0.1:{port}"]
    assert reach.status == "fail" and "connection refused" in reach.detail and "BONJORO_BASE_URL" in reach.todo
    for name in ("authorize endpoint", "token endpoint", "API identity"):
        assert c[name].status == "skip"


async def test_tls_is_checked_with_the_clients_trust_anchors(monkeypatch):
    from account.doctor_app import TLS

    with DoctorServer(tls=True, token="oauth", authorize=200, me=True, rate_limit=True, skew=0) as server:
        settings = load_settings(env=env_for(server.url, BONJORO_CLIENT_ID="my-client"))
        name = f"reach {server.url}"
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
        checks = await run_checks(settings)
        reach = by_name(checks)[name]
        assert reach.status == "ok" and "certificate verified for localhost" in reach.detail, reach
        assert by_name(checks)["token endpoint"].status == "ok"

        monkeypatch.delenv("SSL_CERT_FILE")  # certifi's bundle does not know the test CA
        checks = await run_checks(settings)
    reach = by_name(checks)[name]
    assert reach.status == "fail" and "not trusted" in reach.detail and "SSL_CERT_FILE" in reach.todo
    assert by_name(checks)["token endpoint"].status == "skip"


def test_jwt_decoding():
    header, claims = _decode_jwt(jwt({"alg": "none"}, {"sub": "x"}))  # type: ignore[misc]
    assert header == {"alg": "none"} and claims == {"sub": "x"}
    assert _decode_jwt("opaque-token") is None
    assert _decode_jwt("a.b.c") is None
    assert _decode_jwt(jwt({"alg": "RSA-OAEP", "enc": "A256GCM"}, {}) + ".x.y") == "jwe"
