"""A server that answers without end (issue 10 review, F5): a 3 GB body, or a small gzip bomb,
must become a clear error, not the end of the process. A real server on loopback streams the
body; the client counts decoded bytes and stops at the limit (bonjoro_tui/httplimits.py)."""

from __future__ import annotations

import gzip
import os
import resource
import time

import httpx
import pytest

from adversarial import figures
from bonjoro_tui.api.client import ApiError, BonjoroClient
from bonjoro_tui.auth.errors import LoginError
from bonjoro_tui.auth.login import verify_api_key
from bonjoro_tui.auth.oauth import OAuthClient, TokenEndpointError
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet
from support import LoopbackServer

CHUNK = b"x" * 65536
BOMB = gzip.compress(b"\0" * (64 * 1024 * 1024))  # 64 MiB of zeros in ~64 KiB


async def endless(scope, receive, send):
    """Every path: 200 with a body that never ends (until 3 GB), or a gzip bomb under /bomb."""
    if scope["type"] != "http":
        return
    if scope["path"].endswith("/bomb"):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]})
        await send({"type": "http.response.body", "body": BOMB})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    for _ in range(3 * 1024 * 1024 * 1024 // len(CHUNK)):
        await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def server():
    with LoopbackServer(endless, log_level="critical", name="the endless server") as srv:
        yield srv.url


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture
def settings(server):
    return load_settings(env={**os.environ, "BONJORO_BASE_URL": server, "BONJORO_CLIENT_ID": "c",
                              "BONJORO_CLIENT_SECRET": "s"})


async def test_an_endless_token_endpoint_is_an_error_not_a_full_memory(settings):
    async with httpx.AsyncClient() as http:
        with pytest.raises(TokenEndpointError, match="sent too much: the answer is larger than 1 MB"):
            await OAuthClient(settings, http).client_credentials()


@pytest.mark.parametrize("path", ["/endless", "/bomb"])
async def test_an_endless_api_answer_is_an_error_and_the_client_goes_on(settings, path):
    store = TokenStore(settings.store_path)
    store.save(StoredProfile("default", settings.target_id, "api_key", "c", TokenSet("k" * 20, time.time()),
                             api_origin=settings.target_id))
    before = rss_mib()
    async with httpx.AsyncClient() as http:
        client = BonjoroClient(settings, store, http=http, max_body=8 * 1024 * 1024)
        with pytest.raises(ApiError, match="larger than 8 MB, so it was not read"):
            await client.request("GET", path)
    grew = rss_mib() - before
    figures.keep_max("huge bodies: peak RSS growth while refusing one (MiB)", int(grew))
    assert grew < 200


class _Counting(httpx.AsyncHTTPTransport):
    """The bytes of every response body the client read through it."""

    read = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        stream, transport = response.stream, self

        class Counted(httpx.AsyncByteStream):
            async def __aiter__(self):  # type: ignore[no-untyped-def]
                async for chunk in stream:  # type: ignore[union-attr]
                    transport.read += len(chunk)
                    yield chunk

            async def aclose(self) -> None:
                await stream.aclose()  # type: ignore[union-attr]

        response.stream = Counted()
        return response


async def test_the_api_key_check_never_reads_the_body(settings):
    transport = _Counting()
    async with httpx.AsyncClient(transport=transport) as http:
        await verify_api_key(settings, http, "some-api-key-0123456789")  # 200: the status is all it needs
    assert transport.read < 1024 * 1024  # of the endless (3 GB) body: next to nothing read
