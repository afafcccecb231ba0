"""Server text is text, in the dashboard: every string a response feeds to the status screen,
the login wizard and the notifications is hostile (tests/adversarial/hostile_text.py), served
over real loopback sockets — by a hostile Bonjoro stand-in (token endpoint, /me) and by the
project's in-process sandbox (its /me, its authorization server's callback).

For each: the app does not crash (no MarkupError), the screen shows the literal characters
and visible escapes, no raw control / bidi character reaches the rendered output, and a click
on the rendered hostile text runs no action (no screenshot file appears). The harness itself
is checked first: the same click on the same string rendered as markup does run the action.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from textual.app import App
from textual.widgets import Static
from textual.widgets._toast import Toast

from adversarial.hostile_text import (
    ALL, BIDI, CLOSE_TAG, LITERAL_MARKUP, OSC52, VISIBLE, HostileServer, click, forbidden_in,
)
from bonjoro_tui.auth.login import login_client_credentials
from bonjoro_tui.safetext import safe_text
from bonjoro_tui.account.session import open_session
from bonjoro_tui.settings import load_settings
from bonjoro_tui.tui.screens.login import LoginScreen
from bonjoro_tui.tui.screens.status import StatusScreen
from bonjoro_tui.tui.widgets.last_refresh import LastRefresh
from bonjoro_tui.tui.widgets.steps import StepList

from . import helpers
from .helpers import make_app
from .screen import screen_text

pytestmark = pytest.mark.integration


# ---- harness -------------------------------------------------------------------------------


class ActionSpy:
    """Records every action the app runs (``run_action``) and any screenshot it would save."""

    def __init__(self, app: App, *, block_screenshots: bool = True) -> None:
        self.actions: list[str] = []
        self.screenshots: list[tuple] = []
        original = app.run_action

        async def run_action(action, *args, **kwargs):
            self.actions.append(str(action))
            return await original(action, *args, **kwargs)

        app.run_action = run_action
        if block_screenshots:
            app.action_screenshot = lambda *a, **k: self.screenshots.append(a)


def shown(app) -> str:
    """The screen, trailing blanks trimmed (for failure messages)."""
    return "\n".join(line.rstrip() for line in screen_text(app).splitlines() if line.strip())


def find(app, needle: str) -> tuple[int, int]:
    """Screen coordinates (x, y) of the first cell of ``needle`` in the rendered screen."""
    for y, line in enumerate(screen_text(app).splitlines()):
        x = line.find(needle)
        if x >= 0:
            return x, y
    raise AssertionError(f"{needle!r} is not on the screen:\n{shown(app)}")


async def click_text(pilot, needle: str) -> None:
    x, y = find(pilot.app, needle)
    for dx in range(len(needle)):  # every cell of it: a link spans the whole word
        await pilot.click(offset=(x + dx, y))
    await pilot.pause()


def assert_screen_safe(app) -> str:
    text = screen_text(app)
    assert not forbidden_in(text), f"raw {forbidden_in(text)} on the screen:\n{text!r}"
    return text


def assert_no_click_ran(spy: ActionSpy, shots: Path) -> None:
    assert spy.screenshots == [] and not any("screenshot" in a for a in spy.actions), spy.actions
    assert list(shots.iterdir()) == []


#: Waits at most 400 polls here; a failure shows the screen trimmed (``shown``).
until = functools.partial(helpers.until, tries=400, show=shown)


def notifications(app) -> list:
    return list(app._notifications)


#: The injected click's directory, relative to the working directory (short: the core keeps
#: only the first 80-200 characters of a callback's or token endpoint's error text).
SHOTS = "../shots"


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where the injected [@click=app.screenshot(...)] would write: must stay empty."""
    path = tmp_path / "shots"
    path.mkdir()
    assert (Path.cwd() / SHOTS).resolve() == path  # the tests run in tmp_path/work (conftest)
    return path


async def test_the_harness_catches_a_click_on_markup(shots):
    """Positive control: the very string, parsed as markup, runs the action when clicked —
    so the 'no action ran' assertions below mean something."""

    class Markup(App):
        def compose(self):
            yield Static(click(SHOTS))  # markup parsed: what the dashboard used to do

    app = Markup()
    async with app.run_test(size=(60, 5)) as pilot:
        spy = ActionSpy(app, block_screenshots=False)  # the real action: it writes the file
        await pilot.pause()
        assert "Verify" in screen_text(app) and "@click" not in screen_text(app)
        await click_text(pilot, "Verify")
        assert any("screenshot" in a for a in spy.actions), spy.actions
        assert [p.name for p in shots.iterdir()] == ["pwned.svg"], "the click harness did not run the markup action"


# ---- a hostile Bonjoro: token endpoint and /me over loopback ---------------------------------


@pytest.fixture
def hostile():
    with HostileServer() as server:
        yield server


@pytest.fixture
async def hostile_session(hostile, clock, shots):
    hostile.name = ALL.replace("/tmp", SHOTS)  # the click, if it ever ran, writes into shots/
    env = {**os.environ, "BONJORO_BASE_URL": hostile.url, "BONJORO_CLIENT_ID": "hostile-client",
           "BONJORO_CLIENT_SECRET": "hostile-secret-0123456789", "NO_PROXY": "127.0.0.1"}
    session = open_session(load_settings(env=env), now=clock)

    async def _no_wait(_seconds: float) -> None:
        return None

    session.client.sleep = _no_wait
    yield session
    await session.http.aclose()
    session.close()


#: Wide enough that no hostile value is folded: each shows on one line, exactly as escaped.
WIDE = (800, 60)


async def test_wizard_and_status_show_a_hostile_me_and_scope_as_text(hostile_session, hostile, clock, shots):
    app = make_app(hostile_session, clock)
    async with app.run_test(size=WIDE) as pilot:
        spy = ActionSpy(app)
        await pilot.press("l")
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        await pilot.click("#method-client")
        await pilot.click("#start")
        await until(pilot, lambda: screen.phase in ("done", "failed"), "the client-credentials sign-in ends")
        assert screen.phase == "done", screen_text(app)
        text = assert_screen_safe(app)
        assert f"Signed in as {safe_text(hostile.name)} <{safe_text(hostile.email)}>." in text
        await click_text(pilot, "Verify")
        assert_no_click_ran(spy, shots)

        await pilot.press("escape")  # the wizard leaves to status with escape
        assert isinstance(app.screen, StatusScreen)
        await until(pilot, lambda: app.user is not None and "Verify" in screen_text(app), "the user is shown")
        text = assert_screen_safe(app)
        # WIDE: no value is folded, so each field is on one line exactly as escaped.
        assert f"User           {safe_text(hostile.name)} <{safe_text(hostile.email)}>" in text
        assert f"Type / scope   Bearer  ·  {safe_text(hostile.scope)}" in text
        for literal in LITERAL_MARKUP[1:]:
            assert literal in text
        for visible in VISIBLE:
            assert visible in text
        await click_text(pilot, "Verify")
        assert_no_click_ran(spy, shots)


async def test_hostile_refresh_error_me_error_and_stored_values_survive_relaunch(hostile_session, hostile, clock, shots):
    session = hostile_session
    await login_client_credentials(session.settings, session.store, session.http, clock)
    hostile.scope = f"{CLOSE_TAG} {OSC52}"  # a later token answer (the stored one is hostile too)

    app = make_app(session, clock)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        spy = ActionSpy(app)
        await until(pilot, lambda: app.user is not None, "/me is fetched")
        assert_screen_safe(app)

        # The token endpoint refuses with a hostile error_description: a notification, and the
        # last refresh result (which the store keeps) both quote it.
        # (short: the core keeps 200 characters of an error_description)
        hostile.token_error = f"{CLOSE_TAG} {BIDI} {OSC52} {click(SHOTS)}"
        hostile.token_error_code = "temporarily_unavailable"
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: any(n.title == "Refresh failed" for n in notifications(app)), "refresh fails")
        note = next(n for n in notifications(app) if n.title == "Refresh failed")
        assert note.markup is False
        assert not forbidden_in(note.message) and "[/x]" in note.message and "\\u202eevil.exe" in note.message
        await until(pilot, lambda: list(app.screen.query(Toast)), "the toast is shown")
        toasts = list(app.screen.query(Toast))
        rendered = " ".join(t.render().plain for t in toasts)
        assert "[/x]" in rendered and "\\u202eevil.exe" in rendered and "[@click=app.screenshot(" in rendered
        text = assert_screen_safe(app)
        await click_text(pilot, "Verify")
        assert_no_click_ran(spy, shots)

        last = app.screen.query_one(LastRefresh).render().plain
        assert last.startswith("Last refresh: ") and "[/x]" in last and "\\u202e" in last

        # /me fails with a hostile message: a warning notification, as text.
        hostile.me_error = f"{BIDI}{CLOSE_TAG}[bold red]x{OSC52}"
        app.fetch_user()
        await app.workers.wait_for_complete()
        await until(pilot, lambda: any(n.title == "Profile" for n in notifications(app)), "/me fails")
        note = next(n for n in notifications(app) if n.title == "Profile")
        assert note.markup is False and not forbidden_in(note.message)
        assert "\\u202eevil.exe[/x][bold red]x" in note.message
        assert_screen_safe(app)

    # What the server sent is in the store now (scope, last refresh result): every launch reads
    # it. The dashboard must still start, and show it as text.
    stored = session.store.load(session.settings.profile)
    assert CLOSE_TAG in stored.tokens.scope and "[/x]" in stored.last_refresh_result
    hostile.me_error = None
    for _ in range(2):
        app = make_app(session, clock)
        async with app.run_test(size=WIDE) as pilot:
            spy = ActionSpy(app)
            await until(pilot, lambda: app.user is not None, "/me is fetched on relaunch")
            assert isinstance(app.screen, StatusScreen)
            text = assert_screen_safe(app)
            assert "[/x]" in text and "Verify" in text
            await click_text(pilot, "Verify")
            assert_no_click_ran(spy, shots)


# ---- the in-process sandbox: /me and the authorization server's callback ----------------------


async def start_code_flow(pilot) -> LoginScreen:
    await pilot.press("l")
    screen = pilot.app.screen
    await pilot.press("enter")
    await until(pilot, lambda: screen.url is not None and screen.query_one(StepList).step("WAITING").state == "running",
                "the wizard waits for the redirect")
    return screen


async def test_sandbox_me_name_and_email_are_text(session, clock, shots):
    me = session.sandbox.state.seed.me
    me["name"], me["email"] = ALL.replace("/tmp", SHOTS), f"{BIDI}@{CLOSE_TAG}.example"
    app = make_app(session, clock)
    async with app.run_test(size=WIDE) as pilot:
        spy = ActionSpy(app)
        screen = await start_code_flow(pilot)
        await pilot.press("a")
        await until(pilot, lambda: screen.phase == "done", "signed in")
        text = assert_screen_safe(app)
        assert "Signed in as [@click=app.screenshot(" in text and "\\u202eevil.exe@[/x].example" in text.replace("\n", "")
        await click_text(pilot, "Verify")
        await pilot.press("escape")  # the wizard leaves to status with escape
        await until(pilot, lambda: isinstance(app.screen, StatusScreen) and "Verify" in screen_text(app), "status")
        assert_screen_safe(app)
        await click_text(pilot, "Verify")
        assert_no_click_ran(spy, shots)


@pytest.mark.parametrize("param", ["error_description", "iss"])
async def test_a_hostile_callback_is_shown_as_text(session, clock, shots, param):
    """The authorization server redirects back with a hostile error_description (or issuer):
    the failed step and the outcome show it literally."""
    app = make_app(session, clock)
    async with app.run_test(size=WIDE) as pilot:
        spy = ActionSpy(app)
        screen = await start_code_flow(pilot)
        query = parse_qs(urlsplit(screen.url).query)
        hostile = f"{CLOSE_TAG} [bold red]x {BIDI} {click(SHOTS)}{OSC52}"  # the core keeps 80 chars of an iss
        params = {"state": query["state"][0]}
        if param == "iss":
            params.update(code="c" * 30, iss=hostile)
        else:
            params.update(error="access_denied", error_description=hostile)
        async with httpx.AsyncClient() as http:
            await http.get(query["redirect_uri"][0], params=params)
        await until(pilot, lambda: screen.phase == "failed", "the sign-in fails")
        text = assert_screen_safe(app)
        flat = text.replace("\n", "")
        assert "[/x]" in flat and "\\u202eevil.exe" in flat and "[bold red]x" in flat
        step = screen.query_one(StepList)
        failed = next(s for s in step.steps if s.state == "failed")
        assert "[/x]" in failed.detail
        await click_text(pilot, "Verify")
        assert_no_click_ran(spy, shots)


# ---- every widget fed from a response, directly -----------------------------------------------


@pytest.mark.parametrize("name", list(VISIBLE))
async def test_each_hostile_case_in_each_status_field(clock, name):
    """Each case alone, in every status field a server feeds (the /me name and email, the token
    type, the scope, the last refresh result), so a field that lets one kind through cannot hide
    behind another. The session is the in-memory stand-in (tests/tui/fakes.py): the end-to-end
    tests above cover the network; this one covers the fields."""
    from bonjoro_tui.store import StoredProfile
    from bonjoro_tui.tokens import TokenSet

    from .fakes import FakeSession

    raw = name.encode().decode("unicode_escape")  # the raw string whose visible form is `name`
    session = FakeSession(now=clock)
    me = {"data": {"id": "u", "name": raw + CLOSE_TAG, "email": raw + "@" + CLOSE_TAG}}

    async def hostile_me(*, refresh_on_401: bool = True) -> dict:  # BonjoroClient.me's signature
        return me

    session.client.me = hostile_me
    session.store.save(StoredProfile(
        session.settings.profile, session.settings.target_id, "code", "sandbox-public",
        TokenSet("a" * 40, clock(), token_type=raw, refresh_token="r" * 40, scope=raw + CLOSE_TAG,
                 expires_at=clock() + 3600),
        clock() - 5, raw + CLOSE_TAG,
    ))
    app = make_app(session, clock)
    async with app.run_test(size=WIDE) as pilot:
        await until(pilot, lambda: app.user is me and "@[/x]" in screen_text(app), "/me is shown")
        text = assert_screen_safe(app)
        shown_name = safe_text(raw)
        assert shown_name == name  # the case's visible form is what safe_text gives
        assert f"User           {name}[/x] <{name}@[/x]>" in text
        assert f"Type / scope   {name}  ·  {name}[/x]" in text
        assert f"Last refresh: {name}[/x] — " in text
