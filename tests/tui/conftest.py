"""Fixtures for the dashboard tests: the real session (core + in-process sandbox) on a fixed clock."""

from __future__ import annotations

import asyncio

import pytest

from bonjoro_tui.account.session import open_session
from bonjoro_tui.settings import load_settings

from .fakes import Clock
from .secrets_scan import assert_history_has_no_secrets, issued_secrets


@pytest.fixture
def clock() -> Clock:
    return Clock()


def start_session(clock: Clock, *, sandbox_port: int = 0, callback_port: int | None = None, access_ttl: int = 3600):
    flags = {"callback_port": callback_port} if callback_port else {}
    settings = load_settings(flags=flags)
    session = open_session(settings, now=clock, sandbox_options={"port": sandbox_port, "access_ttl": access_ttl})

    async def _no_wait(_seconds: float) -> None:  # the client's retry back-off, without waiting
        return None

    session.client.sleep = _no_wait
    return session


def stop_session(session) -> None:
    """For sync tests whose app ran in a loop of its own (snap_compare): that loop is gone, so
    pooled connections are dropped with it; stop the sandbox whatever happens."""
    try:
        asyncio.run(session.http.aclose())
    except RuntimeError:  # connections bound to the app's closed loop
        pass
    finally:
        session.close()


@pytest.fixture
async def session(clock):
    s = start_session(clock)
    yield s
    # Whatever the test did, the explorer's history file kept no token (see secrets_scan.py).
    assert_history_has_no_secrets(s.settings.data_dir, issued_secrets(s))
    await s.http.aclose()
    s.close()
