"""Raw-socket attacker helpers: the attacker writes bytes by hand; the product never does.

Responses are classified by their status lines only (``HTTP/1.1 NNN``), which is all the
attacker needs to know: what each server answered, and whether it answered at all.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import quote

_STATUS = re.compile(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ")


@dataclass
class Tally:
    """What a flood did: requests sent, statuses seen, and anything that went wrong."""

    requests: int = 0
    connections: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    unanswered: int = 0  # connections closed (or timed out) without any response
    bodies_with: dict[bytes, int] = field(default_factory=dict)

    def note(self, data: bytes, watch: tuple[bytes, ...] = ()) -> list[int]:
        codes = [int(c) for c in _STATUS.findall(data)]
        for c in codes:
            self.statuses[c] = self.statuses.get(c, 0) + 1
        if not codes:
            self.unanswered += 1
        for w in watch:
            if w in data:
                self.bodies_with[w] = self.bodies_with.get(w, 0) + 1
        return codes


async def exchange(port: int, payload: bytes, *, timeout: float = 10.0) -> bytes:
    """Connect to 127.0.0.1:port, write payload, read until the server closes (or timeout)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    chunks: list[bytes] = []
    try:
        writer.write(payload)
        try:
            await writer.drain()
            async with asyncio.timeout(timeout):
                while True:
                    chunk = await reader.read(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
        except (ConnectionError, TimeoutError):
            pass
    finally:
        writer.transport.abort()
    return b"".join(chunks)


async def flood(port: int, payloads: list[tuple[int, bytes]], tally: Tally, *, concurrency: int,
                watch: tuple[bytes, ...] = (), check=None) -> None:
    """Send every (request count, payload) on its own connection, ``concurrency`` at a time."""
    sem = asyncio.Semaphore(concurrency)

    async def one(n: int, payload: bytes) -> None:
        async with sem:
            data = await exchange(port, payload)
        tally.requests += n
        tally.connections += 1
        codes = tally.note(data, watch)
        if check is not None:
            check(payload, codes, data)

    await asyncio.gather(*(one(n, p) for n, p in payloads))


def request(method: str, target: str | bytes, host: str | None, *, version: str = "1.1",
            headers: list[tuple[str, str]] = (), body: bytes = b"", close: bool = True) -> bytes:
    """One request as raw bytes (the attacker's own serialisation, deliberately unchecked)."""
    t = target.encode("latin-1") if isinstance(target, str) else target
    lines = [method.encode("latin-1") + b" " + t + b" HTTP/" + version.encode() ]
    if host is not None:
        lines.append(b"Host: " + host.encode("latin-1"))
    for k, v in headers:
        lines.append(k.encode("latin-1") + b": " + v.encode("latin-1"))
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def drip(port: int, head: bytes | None, *, seconds: float = 10.0) -> bool:
    """Open a connection and send ``head`` then one byte every 0.1 s (``None``: send nothing).

    True when the server closed the connection before ``seconds`` were up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if head is not None:
            writer.write(head)
        for _ in range(int(seconds / 0.1)):
            if head is not None:
                writer.write(b"X")
                await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1), 0.1) == b"":
                    return True
            except asyncio.TimeoutError:
                continue
        return False
    except ConnectionError:
        return True
    finally:
        writer.transport.abort()


def double_encode(value: str) -> str:
    """Every character percent-encoded, then the percent signs encoded again."""
    return "".join(f"%25{b:02X}" for b in value.encode())


def rss_kib() -> int:
    """This process's resident set size (VmRSS from /proc/self/status), in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class ErrorLogCounter(logging.Handler):
    """Counts ERROR records (uvicorn's 'Exception in ASGI application', the sandbox's own)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


__all__ = ["Tally", "exchange", "flood", "drip", "request", "double_encode", "rss_kib", "ErrorLogCounter", "port_open", "quote"]
