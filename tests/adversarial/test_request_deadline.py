"""The request deadline added to uvicorn (bonjoro_tui/serving.py) cuts only clients that do not
send: a slow *answer*, a keep-alive client that comes back in time and a request split over a
few packets are all served."""

from __future__ import annotations

import asyncio

import pytest

from adversarial.hostile import request
from bonjoro_tui.plumbing import serving
from bonjoro_tui.sandbox import SandboxServer


@pytest.fixture
def sandbox(monkeypatch):
    monkeypatch.setattr(serving, "REQUEST_TIMEOUT", 0.5)
    with SandboxServer() as server:
        yield server


async def read_responses(reader: asyncio.StreamReader, n: int) -> list[bytes]:
    heads = []
    for _ in range(n):
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = int(next(l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")).split(b":")[1])
        await reader.readexactly(length)
        heads.append(head.split(b"\r\n", 1)[0])
    return heads


async def test_a_slow_answer_is_not_cut(sandbox):
    sandbox.state.set_knobs(latency=1.2)  # the app takes longer than the deadline to answer
    reader, writer = await asyncio.open_connection("127.0.0.1", sandbox.port)
    writer.write(request("GET", "/", f"127.0.0.1:{sandbox.port}"))
    assert await read_responses(reader, 1) == [b"HTTP/1.1 200 OK"]
    writer.close()


async def test_keep_alive_requests_in_time_and_split_requests_are_served(sandbox):
    host = f"127.0.0.1:{sandbox.port}"
    reader, writer = await asyncio.open_connection("127.0.0.1", sandbox.port)
    statuses = []
    for _ in range(4):  # 4 × 0.3 s: longer than one deadline in total, each request in time
        await asyncio.sleep(0.3)
        raw = request("GET", "/", host, close=False)
        writer.write(raw[:10])
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(raw[10:])
        statuses += await read_responses(reader, 1)
    assert statuses == [b"HTTP/1.1 200 OK"] * 4
    assert await asyncio.wait_for(reader.read(1), 5) == b""  # then, silent, it is closed
    writer.close()
