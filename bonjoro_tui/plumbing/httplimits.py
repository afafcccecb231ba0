"""How much of a server's answer we hold in memory: a hostile or broken server must not be able
to exhaust it (a 3 GB body, or a small gzip bomb that decodes to one).

Bodies are read as a stream, *decoded* bytes counted, and the read stops at the limit: the
answer becomes a clear error instead. A ``Content-Length`` above the limit is refused before
anything is read.
"""

from __future__ import annotations

import httpx

from bonjoro_tui.errors import BonjoroError

#: An API answer: the explorer shows multi-megabyte pages; Bonjoro's largest are far smaller.
MAX_API_BODY = 64 * 1024 * 1024
#: A token, revocation or error answer from an authorization server is a few kilobytes.
MAX_OAUTH_BODY = 1024 * 1024


class BodyTooLarge(BonjoroError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit // (1024 * 1024)} MB, so it was not read")
        self.limit = limit


class _Capped:
    """Collects a body's chunks and stops at the limit (both readers below share it)."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        declared = response.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            raise BodyTooLarge(limit)
        self.limit = limit
        self.total = 0
        self.chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.total > self.limit:
            raise BodyTooLarge(self.limit)
        self.chunks.append(chunk)

    def body(self) -> bytes:
        return b"".join(self.chunks)


async def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The decoded body of a streamed ``response``, at most ``limit`` bytes (else
    :class:`BodyTooLarge`); the response is closed either way."""
    try:
        capped = _Capped(response, limit)
        async for chunk in response.aiter_bytes():
            capped.add(chunk)
        return capped.body()
    finally:
        await response.aclose()


def read_capped_sync(response: httpx.Response, limit: int) -> bytes:
    """:func:`read_capped` for a synchronous client's streamed ``response``."""
    try:
        capped = _Capped(response, limit)
        for chunk in response.iter_bytes():
            capped.add(chunk)
        return capped.body()
    finally:
        response.close()
