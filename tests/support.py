"""Helpers shared by tests in more than one directory (import as ``from support import …``:
tests/ is on sys.path, as for ``openapi_check``). The dashboard's own are in tests/tui/helpers.py.

The stand-ins for the user's browser in a sign-in against the sandbox, one copy each:

- :func:`write_browser_script`: an executable for ``BROWSER`` (a ``bonjoro-tui login`` run as a
  subprocess), approving at the sandbox's consent page with ``python -m bonjoro_tui.sandbox.browser``;
- :func:`redirect_browser`: an ``open_browser`` for ``CodeLogin`` against a sandbox started with
  ``auto_approve``: fetch the authorization URL and follow its redirect to our callback;
- :class:`ApprovingBrowser`: an ``open_browser`` that approves (or denies) at the consent page of a
  sandbox without ``auto_approve``, as the user would (``bonjoro_tui.sandbox.browser.approve``).

And :class:`LoopbackServer`, the one copy of "serve an ASGI app with uvicorn on 127.0.0.1 (a free
port) in a thread": the test servers in adversarial/, tui/ and account/ are built on it.
"""

from __future__ import annotations

import asyncio
import socket
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import uvicorn


def write_browser_script(directory: Path, *, name: str = "fake-browser", log: str | None = "fake-browser.log",
                         mode: int | None = None) -> Path:
    """An executable ``directory/name`` for ``BROWSER``: approve in the sandbox and follow the
    redirect, quietly. What the sandbox browser prints is appended to ``directory/log`` (None:
    discarded). ``mode``: the script's permissions (default: its own plus the owner's execute bit)."""
    script = directory / name
    sink = f'>>"{directory / log}"' if log is not None else ">/dev/null"
    script.write_text("#!/bin/sh\n" f'exec "{sys.executable}" -m bonjoro_tui.sandbox.browser "$1" {sink} 2>&1\n')
    script.chmod(mode if mode is not None else script.stat().st_mode | stat.S_IXUSR)
    return script


def redirect_browser(responses: list[httpx.Response] | None = None) -> Callable[[str], bool]:
    """``open_browser`` for a sign-in against a sandbox with ``auto_approve``: in the background,
    fetch the authorization URL and follow the redirect to the callback (a plain httpx client,
    no proxy from the environment). The callback's response is appended to ``responses`` if given."""

    def open_browser(url: str) -> bool:
        async def go() -> None:
            async with httpx.AsyncClient(trust_env=False, follow_redirects=True, timeout=10) as b:
                response = await b.get(url)
                if responses is not None:
                    responses.append(response)

        asyncio.ensure_future(go())
        return True

    return open_browser


class ApprovingBrowser:
    """``open_browser`` that answers the sandbox's consent page with ``decision`` ("approve" or
    "deny") and delivers the redirect to our callback, in a task per URL; ``await settle()``
    waits for those tasks (their errors raised, or returned with ``return_exceptions``)."""

    def __init__(self, decision: str = "approve") -> None:
        self.decision = decision
        self.tasks: list[asyncio.Task[Any]] = []

    def __call__(self, url: str) -> bool:
        from bonjoro_tui.sandbox.browser import approve

        self.tasks.append(asyncio.ensure_future(approve(url, decision=self.decision)))
        return True

    async def settle(self, *, return_exceptions: bool = False) -> list[Any]:
        return await asyncio.gather(*self.tasks, return_exceptions=return_exceptions)


async def read_body(receive: Callable[[], Any]) -> bytes:
    """The whole body of an ASGI http request (every ``http.request`` message's ``body``)."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


class LoopbackServer:
    """``with LoopbackServer(app) as server:`` — ``app`` served by uvicorn on 127.0.0.1 in a daemon
    thread. The socket is bound (port 0) at construction, so ``port`` and ``url``
    (``http://127.0.0.1:PORT``) are known before the server starts. ``__enter__`` waits (at most
    ``start_timeout`` seconds, else RuntimeError naming ``name``) until uvicorn has started;
    ``__exit__`` asks it to stop, joins the thread (at most 5 s) and closes the socket.
    ``config``: further ``uvicorn.Config`` keywords (TLS files, ``date_header``…)."""

    def __init__(self, app: Any, *, log_level: str = "warning", name: str = "the test server",
                 start_timeout: float = 10, **config: Any) -> None:
        self._name = name
        self._start_timeout = start_timeout
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level=log_level, lifespan="off", **config))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self._name} did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(5)
        self._sock.close()
