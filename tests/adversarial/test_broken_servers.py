"""A broken or hostile token endpoint (issue 5, part 2): every answer gives a clear message and
leaves the stored tokens exactly as they were — for a refresh (through BonjoroClient) and for a
code exchange. Content faults through respx; the slow answer, the reset mid-body and the TLS
error come from real loopback servers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tomllib

import httpx
import pytest
import respx

from adversarial import figures, registry
from bonjoro_tui.api.client import BonjoroClient, RefreshFailed
from bonjoro_tui.auth.oauth import OAuthClient, OAuthError, TokenEndpointError
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet

T0 = 1_800_000_000.0
HTML = b"<!doctype html><html><body><h1>Bad gateway</h1></body></html>"

CASES = [
    # (name, response kwargs, text the message must contain)
    ("html", dict(status_code=200, content=HTML, headers={"content-type": "text/html"}), "sent an HTML page instead of JSON (HTTP 200)"),
    ("empty", dict(status_code=200, content=b""), "sent an empty answer (HTTP 200)"),
    ("no access_token", dict(status_code=200, json={"token_type": "Bearer", "expires_in": 3600}), "has no access_token"),
    ("expires_in negative", dict(status_code=200, json={"access_token": "a" * 20, "expires_in": -5}), "expires_in of -5 seconds, which is not usable"),
    ("expires_in huge", dict(status_code=200, json={"access_token": "a" * 20, "expires_in": 10**12}), "expires_in of 1000000000000 seconds, which is not usable"),
    ("expires_in string", dict(status_code=200, json={"access_token": "a" * 20, "expires_in": "soon"}), "expires_in that is not a number"),
    ("token_type mac", dict(status_code=200, json={"access_token": "a" * 20, "token_type": "mac"}), "token_type 'mac'; only Bearer is supported"),
    ("500", dict(status_code=500, content=HTML), "failed (HTTP 500)"),
    ("503 Retry-After", dict(status_code=503, content=b"", headers={"retry-after": "7"}), "failed (HTTP 503)"),
    ("429 Retry-After", dict(status_code=429, json={"message": "Too Many Attempts."}, headers={"retry-after": "30"}), "is limiting requests (HTTP 429); try again in 30 s"),
    ("429 no body", dict(status_code=429, content=b"", headers={"retry-after": "30"}), "is limiting requests (HTTP 429); try again in 30 s"),
]


def settings_for(base: str):
    # os.environ holds the test's isolated data dir: without it the tokens would go to the real one
    return load_settings(env={**os.environ, "BONJORO_BASE_URL": base, "BONJORO_CLIENT_ID": "client-1"})


def seed_store(settings) -> tuple[TokenStore, dict]:
    store = TokenStore(settings.store_path)
    access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(24)
    registry.secret(access, refresh)
    store.save(StoredProfile(settings.profile, settings.target_id, "code", "client-1",
                             TokenSet(access, T0, refresh_token=refresh, expires_at=T0 + 60)))
    return store, token_fields(store)


def token_fields(store: TokenStore) -> dict:
    """The token part of the stored profile, exactly as written in the file."""
    table = tomllib.loads(store.path.read_text())["profiles"]["default"]
    return {k: table.get(k) for k in ("access_token", "refresh_token", "token_type", "scope", "obtained_at", "expires_at")}


async def refresh_and_exchange(settings, http, now) -> tuple[str, str]:
    store, before = seed_store(settings)
    file_before = store.path.read_bytes()
    client = BonjoroClient(settings, store, http=http, now=now)
    with pytest.raises(RefreshFailed) as refresh_error:
        await client.request("GET", "/me")  # the token is within the leeway: refreshed first
    assert token_fields(store) == before  # tokens byte-for-byte; only last_refresh_* changed
    assert store.load("default").last_refresh_result.startswith("the refresh failed")
    with pytest.raises((TokenEndpointError, OAuthError)) as exchange_error:
        await OAuthClient(settings, http, now=now).exchange_code("code-" + secrets.token_urlsafe(8), "v" * 43,
                                                                 "http://127.0.0.1:1/callback")
    assert store.load("default").tokens.access_token == before["access_token"]
    assert file_before.count(before["refresh_token"].encode()) == 1
    return registry.message(refresh_error.value), registry.message(exchange_error.value)


@pytest.mark.parametrize("name,response,expected", CASES, ids=[c[0] for c in CASES])
async def test_broken_token_endpoint_changes_nothing(name, response, expected):
    settings = settings_for("https://bonjoro.test")
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(settings.token_url).mock(return_value=httpx.Response(**response))
        async with httpx.AsyncClient() as http:
            refresh_msg, exchange_msg = await refresh_and_exchange(settings, http, lambda: T0 + 30)
    assert route.call_count == 2  # one refresh (never retried in a loop), one exchange
    assert expected in refresh_msg and expected in exchange_msg
    assert "https://bonjoro.test" in exchange_msg
    figures.add("broken servers: faults answered with a clear message, tokens kept", 1)


@contextlib.asynccontextmanager
async def raw_server(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)


async def test_token_endpoint_slower_than_the_timeout():
    release = asyncio.Event()

    async def slow(reader, writer):
        await _read_request(reader)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(release.wait(), 30)
        writer.close()

    async with raw_server(slow) as port:
        settings = settings_for(f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient(timeout=0.3) as http:
            refresh_msg, exchange_msg = await refresh_and_exchange(settings, http, lambda: T0 + 30)
        release.set()
    assert "did not answer in time" in refresh_msg and "did not answer in time" in exchange_msg
    figures.add("broken servers: faults answered with a clear message, tokens kept", 1)


async def test_connection_reset_mid_body():
    async def reset(reader, writer):
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"
                     b'{"access_token": "half-a-tok')
        await writer.drain()
        writer.transport.abort()  # RST in the middle of the body

    async with raw_server(reset) as port:
        settings = settings_for(f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient(timeout=5) as http:
            refresh_msg, exchange_msg = await refresh_and_exchange(settings, http, lambda: T0 + 30)
    for msg in (refresh_msg, exchange_msg):
        assert f"could not reach the token endpoint at http://127.0.0.1:{port}" in msg
        assert "half-a-tok" not in msg
    figures.add("broken servers: faults answered with a clear message, tokens kept", 1)


async def test_tls_error():
    """An https:// token URL on a port that speaks plain HTTP: a real TLS handshake failure."""
    async def plain(reader, writer):
        with contextlib.suppress(Exception):
            await reader.read(1024)
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        writer.close()

    async with raw_server(plain) as port:
        settings = settings_for(f"https://127.0.0.1:{port}")
        async with httpx.AsyncClient(timeout=5) as http:
            refresh_msg, exchange_msg = await refresh_and_exchange(settings, http, lambda: T0 + 30)
    for msg in (refresh_msg, exchange_msg):
        assert f"could not reach the token endpoint at https://127.0.0.1:{port}" in msg
        assert "SSL" in msg or "TLS" in msg
    figures.add("broken servers: faults answered with a clear message, tokens kept", 1)
