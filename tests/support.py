"""Helpers shared by tests in more than one directory (import as ``from support import …``:
tests/ is on sys.path, as for ``openapi_check``). The dashboard's own are in tests/tui/helpers.py.

The stand-ins for the user's browser in a sign-in against the sandbox, one copy each:

- :func:`write_browser_script`: an executable for ``BROWSER`` (a ``bonjoro-tui login`` run as a
  subprocess), approving at the sandbox's consent page with ``python -m bonjoro_tui.sandbox.browser``;
- :func:`redirect_browser`: an ``open_browser`` for ``CodeLogin`` against a sandbox started with
  ``auto_approve``: fetch the authorization URL and follow its redirect to our callback;
- :class:`ApprovingBrowser`: an ``open_browser`` that approves (or denies) at the consent page of a
  sandbox without ``auto_approve``, as the user would (``bonjoro_tui.sandbox.browser.approve``).
"""

from __future__ import annotations

import asyncio
import stat
import sys
from pathlib import Path
from typing import Any, Callable

import httpx


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
