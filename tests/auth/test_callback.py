"""CallbackServer over real loopback sockets, driven with httpx."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from bonjoro_tui.auth.callback import CallbackResult, CallbackServer
from bonjoro_tui.auth.errors import (
    AuthorizationDenied,
    CallbackServerError,
    CallbackTimeout,
    InvalidCallback,
    IssuerMismatch,
    LoginCancelled,
    MissingCode,
    StateMismatch,
)

STATE = "s" * 43
pytestmark = pytest.mark.integration


def assert_closed(port: int) -> None:
    """Nothing listens on the port any more, and it can be bound again."""
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


async def get(url: str, **kw) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5, trust_env=False) as http:
        return await http.get(url, **kw)


async def test_valid_callback_returns_code_and_closes():
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    assert uri == f"http://127.0.0.1:{server.port}/callback"
    waiter = asyncio.create_task(server.wait())
    r = await get(uri, params={"code": "the-code", "state": STATE})
    assert r.status_code == 200
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["content-type"].startswith("text/html")
    result = await waiter
    assert result == CallbackResult(code="the-code", state=STATE)
    assert "the-code" not in repr(result)
    assert_closed(server.port)


async def test_listens_on_127_0_0_1_only():
    async with CallbackServer(STATE) as server:
        assert server._sock.getsockname()[0] == "127.0.0.1"
        assert server.redirect_uri.startswith("http://127.0.0.1:")
        with pytest.raises(ValueError):
            CallbackServer(STATE, host="0.0.0.0")
    assert_closed(server.port)


@pytest.mark.parametrize(
    "params",
    [
        {"code": "c", "state": "wrong"},
        {"code": "c"},
        {"error": "access_denied", "state": "wrong"},  # state checked on errors too
        {"error": "access_denied"},
    ],
)
async def test_wrong_or_missing_state_is_refused_and_wait_goes_on(params):
    rejected = []
    server = CallbackServer(STATE, timeout=0.5, on_rejected=rejected.append)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    r = await get(uri, params=params)
    assert r.status_code == 400
    assert "refused" in r.text
    assert not waiter.done()  # a forged request does not end the sign-in
    # ...and when nothing genuine comes, the failure says why.
    with pytest.raises(StateMismatch, match="1 callback"):
        await waiter
    assert len(rejected) == 1
    assert_closed(server.port)


async def test_genuine_callback_after_a_forged_one_still_succeeds():
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    assert (await get(uri, params={"code": "forged", "state": "guess"})).status_code == 400
    assert (await get(uri, params={"code": "real", "state": STATE})).status_code == 200
    assert (await waiter).code == "real"


async def test_access_denied_is_a_clean_failure():
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    r = await get(
        uri, params={"error": "access_denied", "error_description": "<script>x</script>\x1b[31m", "state": STATE}
    )
    assert r.status_code == 400
    assert "<script>" not in r.text and "&lt;script&gt;" in r.text
    with pytest.raises(AuthorizationDenied) as info:
        await waiter
    assert info.value.error == "access_denied"
    assert "\x1b" not in str(info.value)
    assert "not approved" in str(info.value)
    assert_closed(server.port)


async def test_missing_code_with_valid_state_fails():
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    r = await get(uri, params={"code": "", "state": STATE})
    assert r.status_code == 400
    with pytest.raises(MissingCode):
        await waiter
    assert_closed(server.port)


async def test_request_without_code_or_error_does_not_count():
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    assert (await get(uri, params={"state": STATE})).status_code == 400
    assert not waiter.done()
    server.cancel()
    with pytest.raises(LoginCancelled):
        await waiter


async def test_other_paths_404_and_other_methods_405():
    async with CallbackServer(STATE) as server:
        base = f"http://127.0.0.1:{server.port}"
        assert (await get(base + "/")).status_code == 404
        assert (await get(base + "/favicon.ico")).status_code == 404
        assert (await get(base + "/callback/x", params={"code": "c", "state": STATE})).status_code == 404
        async with httpx.AsyncClient(trust_env=False) as http:
            r = await http.post(base + "/callback", data={"code": "c", "state": STATE})
        assert r.status_code == 405
        assert not server._outcome.done()
    assert_closed(server.port)


async def test_wrong_host_header_is_refused():
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    r = await get(uri, params={"code": "c", "state": STATE}, headers={"Host": "evil.example:80"})
    assert r.status_code == 421
    assert not waiter.done()
    server.cancel()
    with pytest.raises(LoginCancelled):
        await waiter


async def test_duplicated_parameters_are_refused():
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    r = await get(f"{uri}?code=a&code=b&state={STATE}")
    assert r.status_code == 400 and "repeats" in r.text
    r = await get(f"{uri}?code=a&state={STATE}&state={STATE}")
    assert r.status_code == 400
    assert not waiter.done()
    server.cancel()
    with pytest.raises(LoginCancelled):
        await waiter


async def test_issuer_checked_when_present():
    server = CallbackServer(STATE, expected_issuer="https://as.test", timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    await get(uri, params={"code": "c", "state": STATE, "iss": "https://evil.test"})
    with pytest.raises(IssuerMismatch):
        await waiter
    server = CallbackServer(STATE, expected_issuer="https://as.test", timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    await get(uri, params={"code": "c", "state": STATE, "iss": "https://as.test"})
    assert (await waiter).iss == "https://as.test"


async def test_a_missing_issuer_is_refused_when_the_server_says_it_always_sends_one():
    """RFC 9207 §2.4: with authorization_response_iss_parameter_supported in the issuer's metadata
    (bonjoro_tui.auth.discovery sets settings.issuer_sends_iss), a response without iss is refused."""
    server = CallbackServer(STATE, expected_issuer="https://as.test", require_issuer=True, timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    await get(uri, params={"code": "c", "state": STATE})
    with pytest.raises(IssuerMismatch, match="carries no issuer"):
        await waiter
    lenient = CallbackServer(STATE, expected_issuer="https://as.test", timeout=10)  # metadata silent: accepted
    uri = await lenient.start()
    waiter = asyncio.create_task(lenient.wait())
    await get(uri, params={"code": "c", "state": STATE})
    assert (await waiter).iss is None


def test_discovery_reads_whether_the_server_always_sends_iss():
    from bonjoro_tui.auth.discovery import parse_metadata

    doc = {"issuer": "https://as.test", "token_endpoint": "https://as.test/token",
           "authorization_response_iss_parameter_supported": True}
    assert parse_metadata("https://as.test", "https://as.test/.well-known/x", doc).sends_iss is True
    doc.pop("authorization_response_iss_parameter_supported")
    assert parse_metadata("https://as.test", "https://as.test/.well-known/x", doc).sends_iss is False


async def test_second_callback_is_not_accepted():
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    first = await get(uri, params={"code": "one", "state": STATE})
    second = await get(uri, params={"code": "two", "state": STATE})
    assert first.status_code == 200
    assert second.status_code == 409 and "already complete" in second.text
    assert (await server.wait()).code == "one"
    assert_closed(server.port)


async def test_occupied_port_is_an_immediate_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        server = CallbackServer(STATE, port=port)
        with pytest.raises(CallbackServerError, match=f"port {port} .* in use") as info:
            await server.start()
        assert "--port" not in info.value.hint  # the TUI has no --port: CodeLogin names the real source
        assert not server.listening


async def test_fixed_free_port_is_used():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with CallbackServer(STATE, port=port) as server:
        assert server.redirect_uri == f"http://127.0.0.1:{port}/callback"
        assert (await get(server.redirect_uri)).status_code == 400
    assert_closed(port)


async def test_timeout_is_a_clear_error_and_closes():
    server = CallbackServer(STATE, timeout=0.2)
    await server.start()
    with pytest.raises(CallbackTimeout, match="within 0.2 s") as info:
        await server.wait()
    assert info.value.hint
    assert_closed(server.port)


async def test_cancel_ends_the_wait_and_closes():
    server = CallbackServer(STATE, timeout=10)
    await server.start()
    waiter = asyncio.create_task(server.wait())
    await asyncio.sleep(0)
    server.cancel()
    with pytest.raises(LoginCancelled):
        await waiter
    assert_closed(server.port)


async def test_task_cancellation_closes_the_socket():
    server = CallbackServer(STATE, timeout=10)
    await server.start()
    waiter = asyncio.create_task(server.wait())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert_closed(server.port)


async def test_pasted_redirect_url_is_validated_like_a_callback():
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait())
    with pytest.raises(StateMismatch) as refused:
        server.submit_redirect_url(f"{uri}?code=c&state=nope")
    # the wait goes on (a new user was told to "start it again" while it was still waiting)
    assert "still waiting for the right redirect" in refused.value.hint and "start" not in refused.value.hint
    with pytest.raises(InvalidCallback, match="not this sign-in") as refused:
        server.submit_redirect_url(f"http://127.0.0.1:1/elsewhere?code=c&state={STATE}")
    assert "still waiting" in refused.value.hint
    with pytest.raises(InvalidCallback, match="repeats"):
        server.submit_redirect_url(f"{uri}?code=c&code=d&state={STATE}")
    assert not waiter.done()
    server.submit_redirect_url(f"  {uri}?code=pasted&state={STATE}\n")
    assert (await waiter).code == "pasted"
    assert_closed(server.port)
    with pytest.raises(InvalidCallback, match="already complete"):
        server.submit_redirect_url(f"{uri}?code=again&state={STATE}")


async def test_pasted_error_response_fails_cleanly():
    server = CallbackServer(STATE, timeout=10)
    await server.start()
    server.submit_redirect_url(f"?error=access_denied&state={STATE}")
    with pytest.raises(AuthorizationDenied):
        await server.wait()


async def test_idle_preconnected_socket_does_not_keep_the_server_open():
    """Browsers open speculative connections that never send a request."""
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", server.port)
    waiter = asyncio.create_task(server.wait())
    assert (await get(uri, params={"code": "c", "state": STATE})).status_code == 200
    assert (await waiter).code == "c"
    assert await idle_reader.read() == b""  # the server hung up on the idle connection
    idle_writer.close()
    assert_closed(server.port)


async def test_wait_without_close_answers_the_browser_and_refuses_a_second_callback():
    server = CallbackServer(STATE, timeout=10)
    uri = await server.start()
    waiter = asyncio.create_task(server.wait(close=False))
    first = await get(uri, params={"code": "the-code", "state": STATE})
    assert first.status_code == 200
    assert (await waiter).code == "the-code"
    assert server.listening  # the caller closes it
    second = await get(uri, params={"code": "other", "state": STATE})
    assert second.status_code == 409
    server.begin_close()
    await server.close()
    assert not server.listening
    assert_closed(server.port)


async def test_concurrent_and_cancelled_closes_shut_down_once(monkeypatch):
    shutdowns = []
    real = CallbackServer._shutdown

    async def counted(self):
        shutdowns.append(self.port)
        await real(self)

    monkeypatch.setattr(CallbackServer, "_shutdown", counted)
    server = CallbackServer(STATE, timeout=10)
    await server.start()
    impatient = asyncio.create_task(server.close())
    others = [asyncio.create_task(server.close()) for _ in range(3)]
    await asyncio.sleep(0)
    impatient.cancel()  # a cancelled closer still waits for the shutdown, then re-raises
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert not server.listening
    await asyncio.gather(*others)
    await server.close()
    assert shutdowns == [server.port]
    assert_closed(server.port)
    # The loop's next connection works: no descriptor was closed under uvicorn's feet.
    again = CallbackServer(STATE, timeout=10)
    uri = await again.start()
    waiter = asyncio.create_task(again.wait())
    assert (await get(uri, params={"code": "c2", "state": STATE})).status_code == 200
    assert (await waiter).code == "c2"
    assert_closed(again.port)
