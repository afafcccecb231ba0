"""``SandboxServer``: the sandbox app served by uvicorn on a socket we bind ourselves.

We bind the socket (so ``port=0`` works and the real port is known before serving) and hand
it to uvicorn. ``start()`` runs the server in a background thread with its own event loop and
returns once it is listening; ``serve()`` runs it in the caller's loop (the ``sandbox``
command), stopping on SIGINT/SIGTERM without re-raising the signal, so the process exits 0.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Callable

from bonjoro_tui.plumbing import serving
from bonjoro_tui.sandbox.announce import Announcement
from bonjoro_tui.sandbox.app import create_app
from bonjoro_tui.sandbox.binding import SandboxServerError, bind_socket  # noqa: F401  (re-exported)
from bonjoro_tui.sandbox.state import SandboxState


class _Server(serving.PromptServer):
    """uvicorn, stopping as soon as asked (plumbing.serving.PromptServer): a one-shot command
    (``api``, ``token``…) that started its own sandbox waits for this stop before it exits
    (issue 16); SandboxServer installs its own signal handlers."""

    shutdown_message = "the sandbox is shutting down"


class SandboxServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state_file: str | Path | None = None,
        access_ttl: int | None = None,
        auto_approve: bool = False,
        latency: float | None = None,
        now: Callable[[], float] = time.time,
        announce: str | Path | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        self.host = host
        #: A socket already bound and listening (``deferred.DeferredSandbox``), used instead of binding.
        self._bound = sock
        #: Where to announce this sandbox once it listens (``data_dir/sandbox/running.json``), so
        #: the commands and dashboards of that data directory use it: sandbox/announce.py.
        self.announce = Path(announce) if announce is not None else None
        self._announcement: Announcement | None = None
        self.announce_error: str | None = None  # why the announcement could not be written
        self.port = port
        self.state = SandboxState(
            # auto_approve is a start-up mode (always applied); access_ttl/latency None keep the persisted knobs
            state_file, now=now, access_ttl=access_ttl, auto_approve=bool(auto_approve), latency=latency
        )
        self.app = create_app(self.state, allowed_hosts=[host])
        self._sock: socket.socket | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url: str | None = None

    def _prepare(self) -> tuple[_Server, socket.socket]:
        if self._server is not None:
            raise SandboxServerError("the sandbox is already running")
        sock = self._sock = self._bound if self._bound is not None else bind_socket(self.host, self.port)
        self._bound = None
        bound_host, bound_port = sock.getsockname()[:2]
        self.port = bound_port
        self.url = f"http://[{bound_host}]:{bound_port}" if ":" in bound_host else f"http://{bound_host}:{bound_port}"
        config = serving.Config(
            self.app,
            log_level="warning",
            log_config=None,  # never reconfigure the host application's logging
            access_log=False,
            lifespan="off",
            # The app serves no WebSocket (it returns on any other scope): an upgrade is answered
            # as plain HTTP, as uvicorn does with no WebSocket library installed — and a start does
            # not import one where it is (uvicorn's "auto" loads websockets or wsproto if present).
            ws="none",
            server_header=False,
            http=serving.h11_protocol(),  # h11, plus a deadline to deliver each request (slowloris)
            h11_max_incomplete_event_size=serving.MAX_REQUEST_HEAD,
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        return self._server, sock

    def _announce(self) -> None:
        if self.announce is None or self.url is None:
            return
        announcement = Announcement(self.announce, self.url, self.app.identity)
        try:
            announcement.write()
        except OSError as exc:  # a refused path (a link planted there): this sandbox is simply not shared
            self.announce_error = str(exc)
            return
        self._announcement = announcement

    @property
    def announced(self) -> bool:
        """Whether this sandbox's announcement is written (``announce`` given and the file taken)."""
        return self._announcement is not None

    def _withdraw(self) -> None:
        announcement, self._announcement = self._announcement, None
        if announcement is not None:
            announcement.remove()

    def _cleanup(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._server = None

    # -- background thread ---------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Serve in a background thread; returns once listening (``.url`` is then set)."""
        server, sock = self._prepare()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # surfaced by start() if it happens before listening
                failure.append(exc)
            finally:
                server.startup_over.set()  # it ended before its start-up did (config, loop): wake start()

        self._thread = threading.Thread(target=run, name="bonjoro-sandbox", daemon=True)
        self._thread.start()
        server.startup_over.wait(timeout)  # set by the server as it listens, or by run() as it fails
        if not server.started:
            self.stop()
            raise SandboxServerError(f"the sandbox did not start: {failure[0] if failure else 'timeout'}")
        self._announce()

    def stop(self, timeout: float = 5.0) -> None:
        self._withdraw()
        server, thread = self._server, self._thread
        if server is not None:
            server.request_exit()
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout)
        self._thread = None
        self._cleanup()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- foreground ----------------------------------------------------------------------

    async def serve(self, on_ready: Callable[[SandboxServer], None] | None = None) -> None:
        """Serve in the running loop until SIGINT/SIGTERM (or ``request_exit()``)."""
        server, sock = self._prepare()
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        in_main = threading.current_thread() is threading.main_thread()
        for sig in (signal.SIGINT, signal.SIGTERM) if in_main else ():
            loop.add_signal_handler(sig, self.request_exit)
            installed.append(sig)
        try:
            task = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started and not task.done():
                await asyncio.sleep(0.005)
            if server.started:
                self._announce()
            if server.started and on_ready is not None:
                on_ready(self)
            await task
        finally:
            self._withdraw()
            for sig in installed:
                loop.remove_signal_handler(sig)
            self._cleanup()

    def request_exit(self) -> None:
        """Ask a serving sandbox to stop (a second request forces it)."""
        if self._server is not None:
            if self._server.should_exit:
                self._server.force_exit = True
            self._server.request_exit()
