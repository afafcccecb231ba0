"""What the dashboard tests share: building the app, waiting on it, starting a sign-in.

One copy of each, so a change to how the tests drive the app is made once. Where the tests
used to differ (a clock or the session's own, how long to wait, what a failure prints), the
difference is a parameter with the old value where it was used.
"""

from __future__ import annotations

from typing import Any, Callable

from bonjoro_tui.tui.app import BonjoroApp
from bonjoro_tui.tui.screens.explorer import ExplorerScreen
from bonjoro_tui.tui.screens.login import LoginScreen
from bonjoro_tui.tui.widgets.steps import StepList

from .screen import screen_text


def make_app(session: Any, clock: Callable[[], float] | None = None, *, tick_interval: float = 0.05,
             **kwargs: Any) -> BonjoroApp:
    """The dashboard over ``session``, on ``clock`` (default: the session's own ``now``, as the
    stand-in FakeSession tests have it). No browser opens (``open_browser`` answers False): the
    wizard offers "approve in the sandbox" (``a``) and the paste field. ``kwargs`` go to
    BonjoroApp (``open_browser``, ``login_timeout`` …)."""
    kwargs.setdefault("open_browser", lambda url: False)
    return BonjoroApp(session, now=clock if clock is not None else session.now, tick_interval=tick_interval,
                      **kwargs)


async def until(pilot, condition: Callable[[], object], what: str, tries: int = 600,
                show: Callable[[Any], str] | None = screen_text) -> None:
    """Let the app run until ``condition()`` holds, polling every 50 ms at most ``tries`` times
    (bounded by tries, not by wall-clock asserts). On failure the message names ``what`` and,
    unless ``show`` is None, shows the screen as ``show(app)`` renders it."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    if show is None:
        raise AssertionError(f"never happened: {what}")
    raise AssertionError(f"never happened: {what}\n{show(pilot.app)}")


async def open_explorer(pilot, *, after_me: bool = False) -> ExplorerScreen:
    """Press ``e`` and return the explorer once its first request, ``GET /me``, is answered 200.
    ``after_me``: first wait for the app's own ``/me`` of a signed-in start (the user shown)."""
    app = pilot.app
    if after_me:
        await until(pilot, lambda: app.user is not None, "/me is fetched at start")
    await pilot.press("e")
    screen = app.screen
    assert isinstance(screen, ExplorerScreen)
    await until(pilot, lambda: screen.history and screen.history[-1].status == 200, "GET /me is answered")
    return screen


async def start_code_flow(pilot) -> LoginScreen:
    """Open the wizard with ``l`` and start the preselected method (code + PKCE) until it waits
    for the redirect."""
    await pilot.press("l")
    screen = pilot.app.screen
    assert isinstance(screen, LoginScreen)
    await pilot.press("enter")  # the default method (code + PKCE) is preselected; Start is focused
    await until(pilot, lambda: screen.url is not None and screen.query_one(StepList).step("WAITING").state == "running",
                "the wizard waits for the redirect")
    return screen


def notifications(app) -> list[str]:
    """The messages of the notifications the app is showing."""
    return [n.message for n in app._notifications]
