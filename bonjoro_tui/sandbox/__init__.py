"""A local Bonjoro: OAuth 2.0 authorization server + API v2, as a plain ASGI app on uvicorn.

See docs/SANDBOX.md. Public names are imported lazily so ``bonjoro_tui.sandbox.browser``
(run as the ``BROWSER`` command) starts without loading uvicorn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SandboxServer", "SandboxServerError", "SandboxState", "create_app"]


def __getattr__(name: str) -> Any:
    if name in ("SandboxServer", "SandboxServerError"):
        from bonjoro_tui.sandbox import server

        return getattr(server, name)
    if name == "SandboxState":
        from bonjoro_tui.sandbox.state import SandboxState

        return SandboxState
    if name == "create_app":
        from bonjoro_tui.sandbox.app import create_app

        return create_app
    raise AttributeError(f"module 'bonjoro_tui.sandbox' has no attribute {name!r}")
