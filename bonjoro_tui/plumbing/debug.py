"""``--debug``: every HTTP exchange logged, redacted, to stderr and to the log file.

An :class:`HttpDebugLog` supplies httpx event hooks. The request hook logs the method, URL,
headers and body; the response hook logs the status line, time to headers and headers, then
wraps the response stream so the body is logged as the caller reads it (a tee, never a second
read), together with the total time, when the response is closed. A body that is never read is
logged as such; streamed request bodies are not read at all.

Everything passes through :class:`~bonjoro_tui.redact.Redactor`, which knows the secrets it was
fed (client secret, stored tokens, API key) and learns every token that appears in a response
body, so a token is masked in the exchanges that follow too. Credential headers are masked
whatever their value.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import weakref
import zlib
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterable, Mapping, TextIO

import httpx

from bonjoro_tui import locations
from bonjoro_tui.redact import Redactor, mask
from bonjoro_tui.safetext import safe_text

LOG_FILE_NAME = locations.DEBUG_LOG_FILE
BODY_LIMIT = 16_000
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
_LEARNED_FIELDS = ("access_token", "refresh_token", "id_token", "client_secret", "code", "token", "api_key")
_TRUE = {"1", "true", "yes", "on"}


def debug_from_env(env: Mapping[str, str] | None = None) -> bool:
    """True when ``BONJORO_DEBUG`` is set to a true value (1, true, yes, on)."""
    env = os.environ if env is None else env
    return env.get("BONJORO_DEBUG", "").strip().lower() in _TRUE


class HttpDebugLog:
    """Writes redacted lines to stderr (looked up at each write) and to a 0600 log file."""

    def __init__(
        self,
        log_path: Path | None,
        *,
        secrets: Iterable[str | None] = (),
        stream: TextIO | Callable[[], TextIO] | None = lambda: sys.stderr,
        body_limit: int = BODY_LIMIT,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.redactor = Redactor(secrets)
        self.path = log_path
        self._stream = stream
        self._body_limit = body_limit
        self._clock = clock
        self._lock = threading.Lock()
        self._started: "weakref.WeakKeyDictionary[httpx.Request, float]" = weakref.WeakKeyDictionary()
        self._file: TextIO | None = None
        if log_path is not None:
            self._file = _open_private(log_path)

    # -- plumbing -------------------------------------------------------------------------
    def add_secret(self, secret: str | None) -> None:
        self.redactor.add(secret)

    def write(self, text: str) -> None:
        # Redacted first (a secret is matched as sent), then made safe: headers and bodies are a
        # server's bytes, and this goes to a terminal (stderr) and to a file someone will `cat`.
        text = safe_text(self.redactor(text), multiline=True)
        if not text.endswith("\n"):
            text += "\n"
        with self._lock:
            stream = self._stream() if callable(self._stream) else self._stream
            if stream is not None:
                stream.write(text)
                stream.flush()
            if self._file is not None:
                self._file.write(text)
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def event_hooks(self) -> dict[str, list[Callable[..., Any]]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    # -- hooks --------------------------------------------------------------------------
    async def on_request(self, request: httpx.Request) -> None:
        self._started[request] = self._clock()
        lines = [f"→ {request.method} {request.url}"]
        lines += _header_lines(request.headers)
        try:
            body = request.content
        except httpx.RequestNotRead:
            lines.append("  (streamed request body, not logged)")
        else:
            lines += self._body_lines(body, request.headers, truncated=False)
        self.write("\n".join(lines))

    async def on_response(self, response: httpx.Response) -> None:
        request = response.request
        start = self._started.get(request)
        waited = f" ({(self._clock() - start) * 1000:.1f} ms to headers)" if start is not None else ""
        lines = [f"← {response.status_code} {response.reason_phrase} {request.method} {request.url}{waited}"]
        lines += _header_lines(response.headers)
        self.write("\n".join(lines))
        on_body = self._on_body(response, start)
        try:
            content = response.content  # already in memory (a transport that pre-reads)
        except httpx.ResponseNotRead:
            response.stream = _TeeStream(response.stream, self._body_limit, on_body)
        else:
            on_body(content, False, True, decoded=True)

    def _on_body(self, response: httpx.Response, start: float | None) -> Callable[..., None]:
        def done(raw: bytes, truncated: bool, complete: bool, decoded: bool = False) -> None:
            took = f" ({(self._clock() - start) * 1000:.1f} ms)" if start is not None else ""
            head = f"← body of {response.status_code} {response.request.method} {response.request.url}{took}"
            if not complete and not raw:
                self.write(head + "\n  (body not read)")
                return
            body = raw if decoded else _decode(raw, response.headers.get("content-encoding", ""))
            if body is None:
                self.write(head + f"\n  ({len(raw)} encoded bytes, not decoded)")
                return
            self.write("\n".join([head, *self._body_lines(body, response.headers, truncated=truncated)]))

        return done

    def _body_lines(self, body: bytes, headers: httpx.Headers, *, truncated: bool) -> list[str]:
        if not body:
            return []
        text = body.decode("utf-8", errors="replace")
        self._learn(text, headers)
        if len(text) > self._body_limit:
            text, truncated = text[: self._body_limit], True
        out = ["  " + line for line in text.splitlines()]
        if truncated:
            out.append(f"  … (body cut at {self._body_limit} bytes)")
        return out

    def _learn(self, text: str, headers: httpx.Headers) -> None:
        """Remember token values seen in a body so later mentions are masked too."""
        try:
            data = json.loads(text)
        except ValueError:
            from urllib.parse import parse_qsl

            data = dict(parse_qsl(text)) if "=" in text else None
        if isinstance(data, dict):
            for key in _LEARNED_FIELDS:
                value = data.get(key)
                if isinstance(value, str):
                    self.redactor.add(value)


class _TeeStream(httpx.AsyncByteStream):
    """Passes the response bytes through unchanged, keeping a capped copy for the log."""

    def __init__(self, inner: Any, limit: int, on_done: Callable[[bytes, bool, bool], None]) -> None:
        self._inner = inner
        self._limit = limit
        self._on_done = on_done
        self._buf = bytearray()
        self._truncated = False
        self._complete = False
        self._reported = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            room = self._limit - len(self._buf)
            if room > 0:
                self._buf += chunk[:room]
            if len(chunk) > room:
                self._truncated = True
            yield chunk
        self._complete = True

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if not self._reported:
                self._reported = True
                self._on_done(bytes(self._buf), self._truncated, self._complete)


def _decode(raw: bytes, encoding: str) -> bytes | None:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding in ("gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        try:
            d = zlib.decompressobj(wbits)
            return d.decompress(raw)
        except zlib.error:
            try:
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw)
            except zlib.error:
                return None
    return None


def _header_lines(headers: httpx.Headers) -> list[str]:
    out = []
    for name, value in headers.multi_items():
        if name.lower() in _SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            # Angle brackets stop the Redactor from masking the mask a second time.
            value = f"{scheme} <{mask(rest)}>" if rest and name.lower().endswith("authorization") else mask(value)
        out.append(f"  {name}: {value}")
    return out


def _open_private(path: Path) -> TextIO:
    """Open the log for appending: 0600 whatever the umask, never through a symbolic link (one in
    its place is refused, see :mod:`bonjoro_tui.files`), in a directory created 0700. The
    directory is checked, not chmod'ed: :func:`open_debug_log` makes the log directory private."""
    from bonjoro_tui import files

    files.private_dir(path.parent, label="log directory", tighten=False)
    fd = files.open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, label="debug log")
    return os.fdopen(fd, "a", encoding="utf-8")


def open_debug_log(log_dir: Path, secrets: Iterable[str | None] = ()) -> HttpDebugLog:
    """The ``--debug`` log in ``log_dir`` (made private: created 0700, or checked and tightened)."""
    from bonjoro_tui import files

    files.private_dir(Path(log_dir), label="log directory")
    return HttpDebugLog(Path(log_dir) / LOG_FILE_NAME, secrets=secrets)
