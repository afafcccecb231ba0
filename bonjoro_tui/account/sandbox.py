"""What the front ends may know of the built-in sandbox, without reaching into its modules:
which API operations it serves (the explorer's ● marks) and its "play the browser" approval
(the login wizard's ``a`` key). The sandbox is ours, so approving in it needs no real browser."""

from __future__ import annotations

import re
from typing import Pattern


def served_routes() -> list[tuple[str, Pattern[str]]]:
    """(method, path regex relative to the API base) of every API route the sandbox serves."""
    from bonjoro_tui.sandbox.api import ROUTES

    return [(method, regex) for method, regex, _handler in ROUTES]


def serves(routes: list[tuple[str, Pattern[str]]], method: str, path: str) -> bool:
    """Whether ``method path`` (a published path template, ``/users/{user_id}``) is served."""
    sample = re.sub(r"\{[^}/]+\}", "x", path)
    return any(m == method and regex.match(sample) for m, regex in routes)


async def approve_in_sandbox(authorization_url: str, *, decision: str = "approve") -> str:
    """Approve (or deny) a sign-in at the sandbox's consent page as a browser would, and deliver
    the redirect to our loopback callback; returns the redirect URL."""
    from bonjoro_tui.sandbox import browser

    return await browser.approve(authorization_url, decision=decision)
