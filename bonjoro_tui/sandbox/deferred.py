"""``DeferredSandbox``: the sandbox's socket bound now, the sandbox loaded and served later.

The socket comes from :mod:`bonjoro_tui.sandbox.binding` (standard library only); the server
(:mod:`bonjoro_tui.sandbox.server`, which loads uvicorn, the state file and the signing key) is
imported only when it is started. Its own module, so that the server may import ``binding``
without an import loop.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from bonjoro_tui.sandbox.binding import SandboxServerError, bind_socket, url_of


class DeferredSandbox:
    """A :class:`SandboxServer` whose socket is bound now and which is built and served on :meth:`start_serving`.

    ``url`` and ``port`` are known at once. :meth:`start_serving` (idempotent, any thread) builds the
    server in a background thread and serves; :meth:`wait` blocks until it serves (raising what
    stopped it); :meth:`stop` stops it, started or not. ``server`` is the running
    ``SandboxServer`` once built (``state``, ``announced``… are read through it).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        self.host = host
        self._sock: socket.socket | None = bind_socket(host, port)
        self.port = self._sock.getsockname()[1]
        self.url = url_of(self._sock)
        self._options = options
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped = False
        self.server: Any = None
        self.error: BaseException | None = None

    def start_serving(self) -> None:
        with self._lock:
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(target=self._run, name="bonjoro-sandbox-start", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            from bonjoro_tui.sandbox.server import SandboxServer

            server = SandboxServer(self.host, self.port, sock=self._sock, **self._options)
            with self._lock:
                if self._stopped:  # stopped while it was being built: never served
                    return
                self.server = server
                self._sock = None  # the server owns it now
            server.start()
        except BaseException as exc:  # noqa: BLE001 - kept for wait() and for requests' errors
            self.error = exc
            with self._lock:  # refuse the connections waiting in the backlog, and any later one
                if self._sock is not None:
                    self._sock.close()
                    self._sock = None
        finally:
            self._ready.set()

    def wait(self, timeout: float = 30.0) -> None:
        """Start if not yet, and block until serving; raises :class:`SandboxServerError` if it failed."""
        self.start_serving()
        if not self._ready.wait(timeout):
            raise SandboxServerError("the sandbox did not start: timeout")
        if self.error is not None:
            raise SandboxServerError(f"the sandbox did not start: {self.error}") from self.error

    @property
    def state(self) -> Any:
        self.wait()
        return self.server.state

    @property
    def announced(self) -> bool:
        return self.server is not None and bool(self.server.announced)

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopped = True
            thread = self._thread
        if thread is not None:
            thread.join(timeout + 10)
        server, self.server = self.server, None
        if server is not None:
            server.stop(timeout)
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __getattr__(self, name: str) -> Any:  # anything else of SandboxServer (app, announce_error …)
        if name.startswith("_"):
            raise AttributeError(name)
        self.wait()
        return getattr(self.server, name)
