"""A session: settings resolved against the target, the token store, one HTTP client, the API client.

When the target is the sandbox, :func:`open_session` starts :class:`~bonjoro_tui.sandbox.SandboxServer`
in a background thread (its state — signing key, refresh-token families — persisted under
``data_dir/sandbox/state.json`` so tokens from an earlier run stay valid) and resolves every
endpoint against it. With ``settings.debug`` every HTTP exchange is logged, redacted, through
:mod:`bonjoro_tui.debug`. The TUI and every ``bonjoro-tui`` subcommand go through here.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from bonjoro_tui.api.client import DEFAULT_TIMEOUT, BonjoroClient, RefreshEvent
from bonjoro_tui.debug import HttpDebugLog, open_debug_log
from bonjoro_tui.settings import SANDBOX, Settings
from bonjoro_tui.store import StoreCorruptError, StoreError, TokenStore


@dataclass
class Session:
    settings: Settings
    store: TokenStore
    http: httpx.AsyncClient
    client: BonjoroClient
    sandbox: Any = None  # bonjoro_tui.sandbox.SandboxServer when the target is the sandbox
    debug_log: HttpDebugLog | None = None
    now: Callable[[], float] = time.time
    _closed: bool = field(default=False, repr=False)

    def add_secret(self, secret: str | None) -> None:
        """Tell the debug log about a secret it must mask (an API key read from stdin, …)."""
        if self.debug_log is not None:
            self.debug_log.add_secret(secret)

    async def aclose(self) -> None:
        if self._closed:
            return
        try:
            await self.client.aclose()
            await self.http.aclose()
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
    on_refresh: Callable[[RefreshEvent], None] | None = None,
    sandbox_options: dict[str, Any] | None = None,
) -> Session:
    """Start what the settings need and wire the layers together.

    ``sandbox_options`` are passed to ``SandboxServer`` (``access_ttl``, ``auto_approve`` …).
    """
    sandbox = None
    if settings.target == SANDBOX:
        from bonjoro_tui.sandbox import SandboxServer

        state_dir = settings.data_dir / "sandbox"
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        sandbox = SandboxServer(state_file=state_dir / "state.json", now=now, **(sandbox_options or {}))
        sandbox.start()
        settings = settings.resolved_for_sandbox(sandbox.url)

    debug_log = None
    http: httpx.AsyncClient | None = None
    try:
        store = TokenStore(settings.store_path)
        hooks: dict[str, list[Any]] = {}
        if settings.debug:
            debug_log = open_debug_log(settings.log_dir, secrets=_known_secrets(settings, store))
            hooks = debug_log.event_hooks()
        # trust_env stays on: HTTPS_PROXY, NO_PROXY and SSL_CERT_FILE are honoured.
        http = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, event_hooks=hooks)
        client = BonjoroClient(settings, store, http=http, now=now, on_refresh=on_refresh)
    except BaseException:
        if debug_log is not None:
            debug_log.close()
        if sandbox is not None:
            sandbox.stop()
        raise
    return Session(settings, store, http, client, sandbox, debug_log, now)


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
