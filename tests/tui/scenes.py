"""Scripted, deterministic walks through the dashboard against the real core and sandbox.

Used by the snapshot tests (test_snapshots.py) and by scripts/screenshots.py, so the SVGs in
tests/tui/__snapshots__/ and screenshots/ show the same states. Everything that would vary is
pinned: the clock (fixed), the sandbox and callback ports (fixed), and the PKCE state/verifier
(a fixed sequence instead of ``secrets``, so the authorization URL is the same on every run).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
from typing import Awaitable, Callable, Iterator

from bonjoro_tui.auth import pkce
from bonjoro_tui.sandbox import browser, grants
from bonjoro_tui.tui.app import BonjoroApp
from bonjoro_tui.tui.screens.explorer import ExplorerScreen
from bonjoro_tui.tui.screens.login import LoginScreen
from bonjoro_tui.tui.widgets.steps import StepList

from . import helpers
from .fakes import Clock
from .helpers import make_app

SANDBOX_PORT = 28811  # below the ephemeral range, so no random port collides
CALLBACK_PORT = 28812


class _FixedSecrets:
    """Stands in for the ``secrets`` module inside ``auth.pkce`` only: same values every run."""

    def __init__(self, salt: str) -> None:
        self.salt = salt
        self.n = 0

    def token_urlsafe(self, nbytes: int = 32) -> str:
        self.n += 1
        return fixed_value(self.salt, self.n, nbytes)

    def token_hex(self, nbytes: int = 32) -> str:  # the sandbox's Passport-style token ids (jti)
        self.n += 1
        return hashlib.sha256(f"{self.salt}-hex-{self.n}".encode()).hexdigest()[: 2 * nbytes].ljust(2 * nbytes, "0")


def fixed_value(salt: str, n: int, nbytes: int) -> str:
    seed = hashlib.sha256(f"{salt}-{n}".encode()).hexdigest()
    return (seed * 4)[: max(43, int(nbytes * 4 / 3))]


def sandbox_secrets(count: int = 60) -> list[str]:
    """What the sandbox hands out under fixed_randomness (codes, refresh tokens): never shown."""
    return [fixed_value("sandbox", n, nbytes) for n in range(1, count + 1) for nbytes in (32, 48)]


#: Where the snapshot/screenshot runs keep their data: a fixed path, because the wizard shows
#: where the tokens were saved.
DATA_DIR = "/tmp/bonjoro-tui-demo/data"


LOCK_FILE = "/tmp/bonjoro-tui-demo.lock"


@contextlib.contextmanager
def demo_lock() -> Iterator[None]:
    """One demo run at a time on this machine: the ports and DATA_DIR above are fixed, so two
    test runs (or a test run and `make screenshots`) at once would collide. Waits its turn."""
    with open(LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def fixed_randomness() -> Iterator[None]:
    """PKCE state/verifier (client side) and codes/refresh tokens (sandbox side) from a fixed
    sequence, so masked prefixes and the authorization URL are the same on every run."""
    originals = (pkce.secrets, grants.secrets, grants.new_family_id)
    pkce.secrets = _FixedSecrets("client")  # type: ignore[assignment]
    grants.secrets = _FixedSecrets("sandbox")  # type: ignore[assignment]
    grants.new_family_id = _FixedFamilyIds()  # type: ignore[assignment]  # the inspector shows fam
    try:
        yield
    finally:
        pkce.secrets, grants.secrets, grants.new_family_id = originals


class _FixedFamilyIds:
    """Stands in for ``sandbox.grants.new_family_id``: UUIDs from a fixed sequence."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        import uuid

        self.n += 1
        return str(uuid.UUID(hashlib.sha256(f"family-{self.n}".encode()).hexdigest()[:32]))


def build_app(session, clock: Clock) -> BonjoroApp:
    # No browser on this machine: the wizard offers "approve in the sandbox" and the paste field.
    return make_app(session, clock, tick_interval=0.5)


#: A failing scene names what never happened, without the screen (scripts/screenshots.py too).
until = functools.partial(helpers.until, show=None)


async def _start_code_flow(pilot) -> LoginScreen:
    await pilot.press("l")
    screen = pilot.app.screen
    await pilot.press("enter")
    await until(pilot, lambda: screen.url is not None and screen.query_one(StepList).step("WAITING").state == "running",
                "waiting for the redirect")
    return screen


async def _signed_in(pilot) -> LoginScreen:
    screen = await _start_code_flow(pilot)
    await pilot.press("a")
    await until(pilot, lambda: screen.phase == "done", "signed in")
    return screen


async def _settle(pilot) -> None:
    pilot.app.clear_notifications()
    await pilot.pause(0.1)
    # A tab's underline slides to the tab just chosen: whether the picture caught it on the way
    # was timing (make screenshots gave two different explorer_contract_differences run to run).
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def status_signed_out(pilot) -> None:
    await pilot.pause(0.1)


async def status_signed_in(pilot) -> None:
    await _signed_in(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: pilot.app.user is not None, "user shown")
    await _settle(pilot)


async def login_choose(pilot) -> None:
    await pilot.press("l")
    await _settle(pilot)


async def login_waiting(pilot) -> None:
    await _start_code_flow(pilot)
    await _settle(pilot)


async def login_denied(pilot) -> None:
    screen = await _start_code_flow(pilot)
    await browser.approve(screen.url, decision="deny")
    await until(pilot, lambda: screen.phase == "failed", "denied")
    await _settle(pilot)


async def login_done(pilot) -> None:
    await _signed_in(pilot)
    await _settle(pilot)


async def explorer_me(pilot) -> None:
    await _signed_in(pilot)
    await pilot.press("enter", "e")
    screen = pilot.app.screen
    assert isinstance(screen, ExplorerScreen)
    await until(pilot, lambda: screen.history and screen.current is not None, "GET /me answered")
    await _settle(pilot)


async def explorer_catalog(pilot) -> None:
    """Browsing the catalog: the pane widens, the sandbox's endpoints are marked."""
    await _signed_in(pilot)
    await pilot.press("enter", "e")
    screen = pilot.app.screen
    await until(pilot, lambda: screen.history and screen.current is not None, "GET /me answered")
    await pilot.press("ctrl+f", *"profiles")
    await pilot.press("tab", "down", "down")
    await _settle(pilot)


async def explorer_network_error(pilot) -> None:
    await _signed_in(pilot)
    pilot.app.session.sandbox.stop()
    await pilot.press("enter", "e")
    screen = pilot.app.screen
    await until(pilot, lambda: screen.history and screen.history[-1].error, "the request failed")
    await _settle(pilot)


async def token_inspector(pilot) -> None:
    """The token inspector over a signed-in status screen: the sandbox's JWT decoded, not verified."""
    await _signed_in(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: pilot.app.user is not None, "user shown")
    await pilot.press("t")
    await until(pilot, lambda: type(pilot.app.screen).__name__ == "TokenScreen", "token inspector")
    await _settle(pilot)


async def profiles(pilot) -> None:
    """The profiles modal with the signed-in profile (a second one, stored by an API-key sign-in)."""
    await _signed_in(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: pilot.app.user is not None, "user shown")
    from dataclasses import replace

    store = pilot.app.session.store
    signed = store.load(pilot.app.settings.profile)
    store.save(replace(signed, name="work", method="api_key", client_id=None,
                       tokens=replace(signed.tokens, access_token="sandbox-api-key", refresh_token=None,
                                      expires_at=None)))
    await pilot.press("p")
    await until(pilot, lambda: type(pilot.app.screen).__name__ == "ProfilesScreen", "profiles")
    await _settle(pilot)


async def _explorer_open(pilot, words: str) -> ExplorerScreen:
    """Signed in, in the explorer, the endpoint the catalog filter's words find first opened."""
    await _signed_in(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: pilot.app.user is not None, "user shown")
    await pilot.press("e")
    screen = pilot.app.screen
    assert isinstance(screen, ExplorerScreen)
    await until(pilot, lambda: screen.history and screen.current is not None, "GET /me answered")
    await pilot.press("ctrl+f", *words, "enter")
    await until(pilot, lambda: screen.endpoint is not None, "the endpoint opened")
    return screen


async def explorer_request_builder(pilot) -> None:
    """GET /greets built from the definition: its documented query parameters (status chosen), sent."""
    screen = await _explorer_open(pilot, "get greets paginated")
    screen._query_fields["status"].value = "open"
    count = len(screen.history)
    await pilot.press("ctrl+j")
    await until(pilot, lambda: len(screen.history) > count, "GET /greets answered")
    await pilot.app.workers.wait_for_complete()
    await _settle(pilot)


async def explorer_body_check(pilot) -> None:
    """POST /greets with a body that departs from the request schema: the differences, not sent."""
    screen = await _explorer_open(pilot, "post greets add")
    screen.query_one("#body").text = '{"profiles": "alex@example.com", "assignee_id": "me"}'
    await pilot.press("ctrl+j")
    await until(pilot, lambda: screen._anyway is not None, "the differences are shown")
    await _settle(pilot)


async def explorer_contract_differences(pilot) -> None:
    """GET /greets answered off the published schema (the sandbox's off_schema knob): the Contract tab."""
    from bonjoro_tui.tui.widgets.response import ResponseView

    pilot.app.session.sandbox.state.set_knobs(off_schema=True)
    screen = await _explorer_open(pilot, "get greets paginated")
    count = len(screen.history)
    await pilot.press("ctrl+j")
    await until(pilot, lambda: len(screen.history) > count, "GET /greets answered")
    view = screen.query_one(ResponseView)
    await until(pilot, lambda: view.contract is not None, "the contract check is done")
    view.query_one("#response-tabs").active = "tab-contract"
    pilot.app.session.sandbox.state.set_knobs(off_schema=False)  # knobs persist in the demo's state file
    await pilot.app.workers.wait_for_complete()
    await _settle(pilot)


async def help_screen(pilot) -> None:
    await pilot.press("f1")
    await _settle(pilot)


async def _steady_cursors(pilot) -> None:
    """A text field's cursor blinks on a real timer: whether a picture catches it shown or hidden
    is chance (the explorer opens with its path field focused). Held steady (shown) for the picture."""
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()


def _steadied(scene: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    async def run(pilot) -> None:
        await scene(pilot)
        await _steady_cursors(pilot)

    run.__doc__ = scene.__doc__
    return run


SCENES: dict[str, Callable[..., Awaitable[None]]] = {
    "status_signed_out": status_signed_out,
    "status_signed_in": status_signed_in,
    "login_choose": login_choose,
    "login_waiting": login_waiting,
    "login_denied": login_denied,
    "login_done": login_done,
    "explorer_me": explorer_me,
    "explorer_catalog": explorer_catalog,
    "explorer_network_error": explorer_network_error,
    "explorer_request_builder": explorer_request_builder,
    "explorer_body_check": explorer_body_check,
    "explorer_contract_differences": explorer_contract_differences,
    "help": help_screen,
    "token_inspector": token_inspector,
    "profiles": profiles,
}
#: Every scene ends with its cursors held steady (see _steady_cursors).
SCENES = {name: _steadied(scene) for name, scene in SCENES.items()}
