"""A session: settings resolved against the target, the token store, one HTTP client, the API client.

When the target is the sandbox, :func:`open_session` starts :class:`~bonjoro_tui.sandbox.SandboxServer`
in a background thread (its state — signing key, refresh-token families — persisted under
``data_dir/sandbox/state.json`` so tokens from an earlier run stay valid) — or uses the sandbox
already running for the data directory (announced in ``data_dir/sandbox/running.json`` and proved:
``account.sandbox.find_running``) — and resolves every endpoint against it. With an issuer configured instead (``BONJORO_ISSUER``, ``login --issuer``), the
issuer's metadata is read here, synchronously, and fills in every endpoint not set explicitly
(:mod:`bonjoro_tui.auth.discovery`). With ``settings.debug`` every HTTP exchange is logged, redacted, through
:mod:`bonjoro_tui.plumbing.debug`. The TUI and every ``bonjoro-tui`` subcommand go through here.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

from bonjoro_tui import locations
from bonjoro_tui.settings import SANDBOX, Settings
from bonjoro_tui.store import StoreCorruptError, StoredProfile, StoreError, TokenStore

if TYPE_CHECKING:
    import httpx

    from bonjoro_tui.api.client import BonjoroClient, RefreshEvent
    from bonjoro_tui.plumbing.debug import HttpDebugLog


@runtime_checkable
class AppSession(Protocol):
    """What a front end may use of a session: the typed contract between the dashboard and the
    core. :class:`Session` is the real one; the dashboard's tests implement it with a fake
    (``tests/tui/fakes.py`` ``FakeSession``, checked against this protocol by a test)."""

    settings: Settings
    store: TokenStore
    sandbox: Any  # the running SandboxServer, or None when the target is not the built-in sandbox
    debug_log: "HttpDebugLog | None"
    now: Callable[[], float]

    @property
    def http(self) -> "httpx.AsyncClient": ...

    @property
    def client(self) -> "BonjoroClient": ...

    async def client_ready(self) -> "BonjoroClient": ...

    def load_profile(self) -> "StoredProfile | None": ...

    def add_secret(self, secret: str | None) -> None: ...

    def switch_profile(self, name: str) -> None: ...


class Session:
    """Settings, store, sandbox and log are ready at once; ``http`` and ``client`` on first use.

    Importing httpx and building an ``AsyncClient`` (it loads the CA bundle) cost a few hundred
    milliseconds on a slow machine: the TUI paints its first frame from the store alone and the
    HTTP side is built when the first request needs it. ``http``/``client`` passed in are used as is.
    """

    def __init__(
        self,
        settings: Settings,
        store: TokenStore,
        http: "httpx.AsyncClient | None" = None,
        client: "BonjoroClient | None" = None,
        sandbox: Any = None,  # bonjoro_tui.sandbox.SandboxServer when the target is the sandbox
        debug_log: "HttpDebugLog | None" = None,
        now: Callable[[], float] = time.time,
        *,
        on_refresh: "Callable[[RefreshEvent], None] | None" = None,
        event_hooks: dict[str, list[Any]] | None = None,
        keep_unsaved_tokens: bool = False,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sandbox = sandbox
        self.debug_log = debug_log
        self.now = now
        self._http = http
        self._client = client
        self._on_refresh = on_refresh
        self._event_hooks = event_hooks or {}
        #: The client keeps rotated tokens the store could not take (a full disk) for the rest of
        #: this process: right for the dashboard, not for a one-shot command (BonjoroAuth).
        self.keep_unsaved_tokens = keep_unsaved_tokens
        self._closed = False
        # ``client_ready`` builds in a worker thread while the event loop may ask for ``client``.
        self._build_lock = threading.RLock()

    def serve_sandbox(self) -> None:
        """Start serving a sandbox opened with ``defer_sandbox`` (its socket is bound, its URL known);
        nothing otherwise. The dashboard calls it after its first frame; any request starts it too."""
        start = getattr(self.sandbox, "start_serving", None)
        if start is not None:
            start()

    @property
    def http(self) -> "httpx.AsyncClient":
        self.serve_sandbox()  # a request to a deferred sandbox waits in its socket's backlog until it serves
        with self._build_lock:
            if self._http is None:
                import httpx

                from bonjoro_tui.api.client import DEFAULT_TIMEOUT
                from bonjoro_tui.plumbing.tls import DeferredTrustContext

                # trust_env stays on: HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE and SSL_CERT_DIR are
                # honoured. The CA bundle is read at the first TLS connection, not here: the
                # sandbox is plain http and never needs it (see bonjoro_tui/tls.py).
                self._http = httpx.AsyncClient(
                    timeout=DEFAULT_TIMEOUT, event_hooks=self._event_hooks, verify=DeferredTrustContext(trust_env=True)
                )
            return self._http

    @property
    def client(self) -> "BonjoroClient":
        with self._build_lock:
            if self._client is None:
                from bonjoro_tui.api.client import BonjoroClient

                self._client = BonjoroClient(
                    self.settings, self.store, http=self.http, now=self.now, on_refresh=self._on_refresh,
                    keep_unsaved=self.keep_unsaved_tokens,
                )
            return self._client

    def load_profile(self) -> "StoredProfile | None":
        """The stored profile — or, when the client holds newer tokens the store could not take,
        those (see ``keep_unsaved_tokens``)."""
        client = self._client  # no lock: a build in a worker thread must not hold up the caller
        if client is not None:
            return client.auth.load_profile()
        return self.store.load(self.settings.profile)

    async def client_ready(self) -> "BonjoroClient":
        """``client``, built in a worker thread the first time.

        Importing httpx and creating its ``AsyncClient`` take tens of milliseconds of pure
        Python (more on a slow machine); in a thread the interpreter switches back to the event
        loop every few milliseconds, so a UI keeps painting and taking keys meanwhile.
        """
        if self._client is None:
            await asyncio.to_thread(lambda: self.client)
        return self.client

    def switch_profile(self, name: str) -> None:
        """Use the stored profile ``name`` from now on (``account.profiles.use_profile``): the
        settings name it, and the API client is built again for it on next use (it is bound to
        one profile; the HTTP client and the sandbox are shared and stay)."""
        from dataclasses import replace

        with self._build_lock:
            if name == self.settings.profile:
                return
            self.settings = replace(self.settings, profile=name)
            self._client = None  # the old one owns nothing (the http client is ours): dropped

    def add_secret(self, secret: str | None) -> None:
        """Tell the debug log about a secret it must mask (an API key read from stdin, …)."""
        if self.debug_log is not None:
            self.debug_log.add_secret(secret)

    async def aclose(self) -> None:
        if self._closed:
            return
        try:
            if self._client is not None:
                await self._client.aclose()
            if self._http is not None:
                await self._http.aclose()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the sandbox and close the log (call :meth:`aclose` from async code)."""
        self._closed = True
        try:
            if self.sandbox is not None:
                self.sandbox.stop()
                self.sandbox = None
        finally:
            if self.debug_log is not None:
                self.debug_log.close()
                self.debug_log = None

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def open_session(
    settings: Settings,
    *,
    now: Callable[[], float] = time.time,
    on_refresh: "Callable[[RefreshEvent], None] | None" = None,
    sandbox_options: dict[str, Any] | None = None,
    keep_unsaved_tokens: bool = False,
    announce: bool = False,
    defer_sandbox: bool = False,
) -> Session:
    """Start what the settings need and wire the layers together.

    ``sandbox_options`` are passed to ``SandboxServer`` (``access_ttl``, ``auto_approve`` …).
    ``keep_unsaved_tokens``: see ``Session.keep_unsaved_tokens`` (the dashboard sets it).

    One sandbox per data directory: with no ``sandbox_options`` and the real clock, a sandbox
    already running for the data directory (announced in ``data_dir/sandbox/running.json`` and
    proved: ``account.sandbox.find_running``) is used instead of starting one; ``session.sandbox``
    is then a ``RunningSandbox`` (never stopped by this session). ``announce``: a sandbox this
    session starts announces itself there, for as long as it runs (the dashboard, ``exec``).
    A server ``BONJORO_BASE_URL`` names on loopback that says it is a sandbox is recognised
    (``account.sandbox.recognise``): ``settings.recognised_sandbox``, ``session.sandbox`` set.
    ``defer_sandbox`` (the dashboard): a sandbox this session starts has its socket bound now (the
    URL is known) and is loaded and served only on ``Session.serve_sandbox()`` or the first use of
    ``http``, in a background thread (``sandbox.deferred.DeferredSandbox``): the first frame does
    not wait for uvicorn, the state file or the signing key.
    """
    sandbox: Any = None
    if settings.target == SANDBOX:
        state_dir = locations.sandbox_dir(settings.data_dir)
        from bonjoro_tui.files import private_dir  # 0700, checked; refused when others can write (files.py)

        private_dir(settings.data_dir, label="data directory")
        private_dir(state_dir, label="sandbox state directory")
        if not sandbox_options and now is time.time:
            from bonjoro_tui.account.sandbox import find_running

            sandbox = find_running(state_dir / locations.SANDBOX_ANNOUNCE_FILE)
        if sandbox is None:
            options = dict(sandbox_options or {})
            if announce:
                options["announce"] = state_dir / locations.SANDBOX_ANNOUNCE_FILE
            sandbox = _start_sandbox(state_dir, now, options, defer=defer_sandbox)
        settings = settings.resolved_for_sandbox(sandbox.url)
    elif settings.base_url and settings.base_url.startswith("http://"):
        from bonjoro_tui.account.sandbox import recognise

        sandbox = recognise(settings)  # loopback only; a plain http base is loopback (settings.py)
        if sandbox is not None:
            from dataclasses import replace

            settings = replace(settings, recognised_sandbox=True)

    debug_log = None
    try:
        store = TokenStore(settings.store_path)
        hooks: dict[str, list[Any]] = {}
        if settings.debug:
            from bonjoro_tui.plumbing.debug import open_debug_log

            debug_log = open_debug_log(settings.log_dir, secrets=_known_secrets(settings, store))
            hooks = debug_log.event_hooks()
        if settings.needs_discovery:
            # An issuer alone: its metadata (RFC 8414 / OpenID Connect) fills in the endpoints,
            # here, once per session and before anything is sent, so every use case, trust check
            # and status line sees the endpoints in use. Kept in these settings only (no file).
            from bonjoro_tui.auth.discovery import resolve

            settings = resolve(settings, log=debug_log.write if debug_log is not None else None)
    except BaseException:
        if debug_log is not None:
            debug_log.close()
        if sandbox is not None:
            sandbox.stop()
        raise
    return Session(settings, store, None, None, sandbox, debug_log, now, on_refresh=on_refresh, event_hooks=hooks,
                   keep_unsaved_tokens=keep_unsaved_tokens)


def _start_sandbox(state_dir: Path, now: Callable[[], float], options: dict[str, Any], *, defer: bool = False) -> Any:
    """Start the in-process sandbox, on the port the last run used when it is free.

    A stable origin lets a ``next_page_url`` printed by one command be followed by the next
    (absolute URLs are accepted only on the API base's origin). The port is remembered in
    ``state_dir/port``; a taken or garbled one falls back to any free port (port 0), at once.
    An explicit ``port`` in ``options`` is used as given. ``defer``: only the socket is bound here
    (``sandbox.binding``, standard library only); uvicorn and the state load when it is started.
    """
    from bonjoro_tui.sandbox.binding import SandboxServerError

    state_file = state_dir / locations.SANDBOX_STATE_FILE
    port_file = state_dir / locations.SANDBOX_PORT_FILE

    def started(**kwargs: Any) -> Any:
        if defer:
            from bonjoro_tui.sandbox.deferred import DeferredSandbox

            return DeferredSandbox(state_file=state_file, now=now, **kwargs)
        from bonjoro_tui.sandbox import SandboxServer

        server = SandboxServer(state_file=state_file, now=now, **kwargs)
        server.start()
        return server

    if "port" in options:
        return started(**options)
    from bonjoro_tui.account.sandbox import read_port, write_port

    remembered = read_port(port_file)
    sandbox = None
    if remembered:
        try:
            sandbox = started(port=remembered, **options)
        except SandboxServerError:
            sandbox = None
    if sandbox is None:
        sandbox = started(port=0, **options)
    if sandbox.port != remembered:
        write_port(port_file, sandbox.port)
    return sandbox


def _known_secrets(settings: Settings, store: TokenStore) -> list[str | None]:
    secrets: list[str | None] = [settings.client_secret]
    try:
        for name in store.names():
            profile = store.load(name)
            if profile is not None:
                secrets += [profile.tokens.access_token, profile.tokens.refresh_token]
    except StoreCorruptError as exc:
        # Reading it has just moved the file aside: say so now, the command will find no tokens.
        print(f"bonjoro-tui: {exc}", file=sys.stderr)
    except StoreError:
        pass  # the command itself will report the store problem
    return secrets
