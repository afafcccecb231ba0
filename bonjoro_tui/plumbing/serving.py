"""Serving on loopback, shared by both servers (the sandbox, the sign-in callback): uvicorn's
h11 protocol with a deadline on every request, and :class:`PromptServer`, a uvicorn server that
stops as soon as it is asked.

uvicorn's only idle timer (``timeout_keep_alive``) runs *between* requests and is cancelled
by every byte received; nothing limits how long a client may take to send a request. A
client that connects and says nothing, or drips one header byte a second (slowloris), holds
its connection — and one of the server's ``limit_concurrency`` slots — for ever. On the
sign-in callback server that lets any local process (or a page that opens enough
connections) shut out the browser's genuine redirect.

:func:`h11_protocol` returns a subclass of uvicorn's ``H11Protocol`` that closes a
connection which has not delivered a complete request (head and body) within
``REQUEST_TIMEOUT`` seconds of connecting, or of its previous response. Parsing stays
h11's; this only adds a timer. Once a request is complete the application runs unbounded
by this timer (our applications answer at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket
import sys
import threading
from typing import Any, Iterator


#: The names ``uvicorn/__init__.py`` binds that its submodules define (``uvicorn.main`` re-exports
#: ``uvicorn.server.Server``): answered from them without running the rest of ``__init__``.
_OWN_MODULES = {"Config": "uvicorn.config", "Server": "uvicorn.server"}


def _defer_uvicorns_own_init() -> None:
    """Let ``uvicorn.config`` and ``uvicorn.server`` be imported without uvicorn's command line.

    ``uvicorn/__init__.py`` only re-exports ``Config``, ``Server``, ``main`` and ``run``, but to do
    so it imports ``uvicorn.main``, uvicorn's command line: click, the reloaders,
    ``multiprocessing`` — ~15–25 ms, over a third of what a one-shot command that starts its own
    sandbox spent importing it (issue 16, figure 10a), and nothing a server configured here runs.

    When nothing has imported uvicorn yet, the package is put in ``sys.modules`` created from its
    own spec (its ``__path__`` is set, so its submodules import as usual) but with its
    ``__init__`` not yet run: the first time anything asks the package for a name it does not
    have yet (``uvicorn.Config``, ``uvicorn.run``, ``uvicorn.__version__``, ``from uvicorn import
    Server``), its ``__init__`` runs — once, under a lock — and the name is answered from it. So
    any other user of uvicorn in the process (a test, an embedding program) sees the package it
    would have seen; only code that names the submodules, as this module does, skips the rest.
    """
    if "uvicorn" in sys.modules:
        return
    spec = importlib.util.find_spec("uvicorn")
    loader = spec.loader if spec is not None else None
    if spec is None or loader is None or spec.submodule_search_locations is None:
        return  # not installed as a package: the import below says so
    package = importlib.util.module_from_spec(spec)
    lock = threading.RLock()
    ran: list[bool] = []

    def finish(name: str) -> Any:
        with lock:
            if not ran and name in _OWN_MODULES:  # uvicorn.lifespan.off: ``from uvicorn import Config``
                value = getattr(importlib.import_module(_OWN_MODULES[name]), name)
                vars(package)[name] = value  # what __init__ binds the name to, when it runs
                return value
            if not ran:
                ran.append(True)
                try:
                    loader.exec_module(package)
                finally:
                    vars(package).pop("__getattr__", None)
        try:
            return vars(package)[name]
        except KeyError:
            raise AttributeError(f"module 'uvicorn' has no attribute {name!r}") from None

    vars(package)["__getattr__"] = finish
    sys.modules["uvicorn"] = package


_defer_uvicorns_own_init()

import h11  # noqa: E402 - after the line above, on purpose
from uvicorn.config import Config  # noqa: E402
from uvicorn.protocols.http.h11_impl import H11Protocol  # noqa: E402
from uvicorn.server import Server  # noqa: E402

#: Seconds a connection may take to deliver one complete request.
REQUEST_TIMEOUT = 10.0
#: Largest request line + headers h11 buffers (it answers 400 beyond it); h11's default.
MAX_REQUEST_HEAD = 16 * 1024

_RECEIVED = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)


class DeadlineH11Protocol(H11Protocol):
    """``H11Protocol`` plus a per-request deadline (see the module docstring)."""

    request_timeout: float | None = None  # None: the module's REQUEST_TIMEOUT, read at use

    _deadline: asyncio.TimerHandle | None = None

    def _arm_deadline(self) -> None:
        self._cancel_deadline()
        timeout = self.request_timeout if self.request_timeout is not None else REQUEST_TIMEOUT
        self._deadline = self.loop.call_later(timeout, self._deadline_passed)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.conn.their_state not in _RECEIVED and not self.transport.is_closing():
            self.transport.close()  # connection_lost tells a waiting application

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state in _RECEIVED:
            self._cancel_deadline()

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._arm_deadline()  # the next request (or the rest of this body) must come in time
        super().on_response_complete()  # may run pipelined requests, cancelling it again


def h11_protocol(request_timeout: float | None = None) -> type[DeadlineH11Protocol]:
    """The protocol class to pass as ``Config(http=…)``."""
    if request_timeout is None:
        return DeadlineH11Protocol
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"request_timeout": float(request_timeout)})


class PromptServer(Server):
    """uvicorn, stopping as soon as it is asked, for a server a command or a sign-in waits for.

    * It does not take over SIGINT/SIGTERM (``capture_signals`` is a no-op): the process around
      it owns them (uvicorn would re-raise a captured SIGTERM after shutting down).
    * :meth:`request_exit`, from any thread, wakes its main loop at once instead of at
      uvicorn's next 0.1 s tick; idle, the loop still wakes every 0.1 s.
    * Its shutdown takes uvicorn's steps (stop accepting, ask each connection to close — an
      idle one closes at once, a busy one after its response — wait for them up to the
      graceful timeout, cancel what is left), polling every 5 ms instead of first sleeping a
      fixed 0.1 s.
    """

    _POLL = 0.005
    #: Why the tasks still running at the end of a shutdown are cancelled (their CancelledError).
    shutdown_message = "the server is shutting down"

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Set once the start-up is over, listening (``started``) or not: a thread that waits for
        #: a server it started in another one wakes at once instead of polling ``started``.
        self.startup_over = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.startup_over.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self) -> None:
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or 0)
        while self.server_state.connections and not self.force_exit and loop.time() < deadline:
            await asyncio.sleep(self._POLL)
        for task in list(self.server_state.tasks):
            if not task.done():
                task.cancel(msg=self.shutdown_message)
        for server in self.servers:
            await server.wait_closed()
