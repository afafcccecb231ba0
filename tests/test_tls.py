"""DeferredTrustContext: verified like httpx's default, CA bundle read at the first TLS connection.

Handshakes are real, over loopback, against a server certificate from a test CA
(tests/data/tls): trusted when SSL_CERT_FILE names that CA, refused otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path
from typing import AsyncIterator

import certifi
import httpx
import pytest
import uvicorn

from bonjoro_tui.account.session import Session
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import TokenStore
from bonjoro_tui.plumbing.tls import DeferredTrustContext

TLS = Path(__file__).parent / "data" / "tls"


@pytest.fixture(autouse=True)
def _no_ssl_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "SSLKEYLOGFILE"):
        monkeypatch.delenv(name, raising=False)


def test_a_new_context_verifies_and_trusts_nothing_yet() -> None:
    ctx = DeferredTrustContext()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert ctx.trust_loaded is False
    assert ctx.cert_store_stats()["x509_ca"] == 0  # fails closed until loaded


def test_wrapping_loads_the_same_anchors_as_httpx_default() -> None:
    ctx = DeferredTrustContext()
    ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="example.com")
    assert ctx.trust_loaded is True
    reference = httpx.create_ssl_context()  # what httpx.AsyncClient() would have used
    assert ctx.cert_store_stats()["x509_ca"] == reference.cert_store_stats()["x509_ca"] > 0
    assert ctx.verify_mode == reference.verify_mode and ctx.check_hostname == reference.check_hostname


def test_trust_source_follows_httpx_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert DeferredTrustContext().trust_source() == {"cafile": certifi.where()}
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    assert DeferredTrustContext().trust_source() == {"capath": str(tmp_path)}
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    assert DeferredTrustContext().trust_source() == {"cafile": str(TLS / "ca.pem")}
    assert DeferredTrustContext(trust_env=False).trust_source() == {"cafile": certifi.where()}


def test_load_trust_runs_once_across_threads() -> None:
    ctx = DeferredTrustContext()
    calls: list[dict] = []
    original = ctx.load_verify_locations

    def counting(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs)
        return original(**kwargs)

    ctx.load_verify_locations = counting  # type: ignore[method-assign]

    async def many() -> None:
        await asyncio.gather(*(asyncio.to_thread(ctx.load_trust) for _ in range(8)))

    asyncio.run(many())
    assert len(calls) == 1


@contextlib.asynccontextmanager
async def tls_server() -> AsyncIterator[int]:
    """A TLS server on 127.0.0.1 with the test CA's certificate for localhost; yields its port."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(TLS / "server.pem", TLS / "server.key")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ctx)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def _handshake(ctx: ssl.SSLContext, hostname: str) -> None:
    async with tls_server() as port:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=hostname), 10
        )
        writer.close()


async def test_handshake_trusts_the_ca_named_by_ssl_cert_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    ctx = DeferredTrustContext()
    await _handshake(ctx, "localhost")
    assert ctx.trust_loaded


async def test_handshake_refuses_a_certificate_outside_the_bundle() -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(DeferredTrustContext(), "localhost")  # certifi does not know the test CA


async def test_handshake_refuses_the_wrong_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(DeferredTrustContext(), "bonjoro.example")


async def test_ssl_cert_file_is_ignored_without_trust_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(DeferredTrustContext(trust_env=False), "localhost")


async def test_the_source_is_chosen_when_the_context_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = DeferredTrustContext()  # no SSL_CERT_FILE now: certifi, as httpx would have chosen
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    assert ctx.trust_source() == {"cafile": certifi.where()}
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(ctx, "localhost")


async def test_a_wrap_that_skips_the_override_still_verifies_against_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails closed: a handshake that bypassed load_trust() has no anchor to trust, even the right CA."""
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    ctx = DeferredTrustContext()

    original = DeferredTrustContext.wrap_bio  # as if a library called the base class's method directly
    try:
        DeferredTrustContext.wrap_bio = ssl.SSLContext.wrap_bio  # type: ignore[method-assign]
        with pytest.raises(ssl.SSLCertVerificationError):
            await _handshake(ctx, "localhost")
    finally:
        DeferredTrustContext.wrap_bio = original  # type: ignore[method-assign]
    assert not ctx.trust_loaded and ctx.cert_store_stats()["x509_ca"] == 0


async def test_an_unreadable_ca_file_is_a_connect_error_naming_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    ctx = DeferredTrustContext()  # creating it reads nothing: an http-only client still works
    with pytest.raises(ssl.SSLError, match=f"SSL_CERT_FILE={missing}"):
        ctx.load_trust()
    assert not ctx.trust_loaded and ctx.cert_store_stats()["x509_ca"] == 0
    async with tls_server() as port, httpx.AsyncClient(verify=ctx, trust_env=False) as http:
        with pytest.raises(httpx.ConnectError, match="cannot load the trusted certificates from SSL_CERT_FILE="):
            await http.get(f"https://localhost:{port}/")


async def _hello(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


async def test_session_http_reads_the_bundle_only_for_https(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The session's client: plain http (the sandbox) never loads the anchors; https does, and verifies."""
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    settings = load_settings(
        env={"BONJORO_TUI_DATA_DIR": str(tmp_path), "BONJORO_TUI_CONFIG_DIR": str(tmp_path)}, cwd=tmp_path
    )
    session = Session(settings, TokenStore(tmp_path / "tokens.toml"))

    servers = []
    for tls in (False, True):
        kwargs = {"ssl_certfile": str(TLS / "server.pem"), "ssl_keyfile": str(TLS / "server.key")} if tls else {}
        config = uvicorn.Config(_hello, host="127.0.0.1", port=0, log_level="error", lifespan="off", **kwargs)
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        servers.append((server, task, server.servers[0].sockets[0].getsockname()[1]))
    try:
        http = session.http
        ctx = http._transport._pool._ssl_context  # the context httpx handed to its connection pool
        assert isinstance(ctx, DeferredTrustContext)

        plain = await http.get(f"http://127.0.0.1:{servers[0][2]}/")
        assert plain.text == "hello" and not ctx.trust_loaded

        secure = await http.get(f"https://localhost:{servers[1][2]}/")
        assert secure.text == "hello" and ctx.trust_loaded
    finally:
        await session.aclose()
        for server, task, _ in servers:
            server.should_exit = True
            await task
