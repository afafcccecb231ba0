"""The explorer's request builder and workspace, against the real core and the in-process sandbox.

Issue 13's "done when" items of the request side, each with real keys and clicks: from the
catalog, GET /users/{user_id} goes out with the id from /me; GET /greets shows its documented
query parameters; POST /greets with the built example body is accepted by the sandbox; a body
that departs from its schema is held until it is sent anyway; history survives a relaunch and
never holds a token.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat

import pytest
from textual.widgets import Checkbox, Input, OptionList, Select, Static, TabbedContent, TextArea

from bonjoro_tui import locations
from bonjoro_tui.account.identity import Identity
from bonjoro_tui.api import catalog
from bonjoro_tui.auth.login import login_api_key
from bonjoro_tui.tui.palette import EXPLORER_ACTIONS, BonjoroCommands
from bonjoro_tui.tui.screens.explorer import ExplorerScreen
from bonjoro_tui.tui.screens.status import StatusScreen

from .helpers import make_app, notifications, open_explorer, until
from .screen import screen_text
from .secrets_scan import assert_history_has_no_secrets, history_text

pytestmark = pytest.mark.integration


async def _open(pilot, screen: ExplorerScreen, words: str) -> None:
    """From the catalog: ctrl+f, the words, enter opens the first endpoint that matches."""
    await pilot.press("ctrl+f")
    screen.query_one("#catalog-filter", Input).value = words  # typing in it is test_typing_words_…'s
    await pilot.press("enter")
    await pilot.pause()


async def _click(pilot, selector: str) -> None:
    """Click a button as a person would: not again within its press effect (Textual ignores a
    click on a button still shown pressed, 0.2 s)."""
    button = pilot.app.screen.query_one(selector)
    await until(pilot, lambda: not button.has_class("-active"), f"{selector} is released")
    await pilot.click(selector)


def _meta(screen: ExplorerScreen) -> str:
    """The response view's status line, as text (the screen wraps it)."""
    return str(screen.query_one("#response-meta", Static).content)


async def _sent(pilot, screen: ExplorerScreen, count: int, what: str) -> None:
    await until(pilot, lambda: len(screen.history) > count, what)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_the_request_builder_against_the_sandbox(session, clock):
    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        me_id = Identity.from_me(app.user).id
        assert me_id

        # Typing on entry types: the path field has the focus, no shortcut fires.
        assert app.focused is screen.query_one("#path", Input)
        await pilot.press("ctrl+u", *"/greets")
        assert screen.query_one("#path", Input).value == "/greets"
        assert isinstance(app.screen, ExplorerScreen) and app.refresh_events == 0

        # GET /users/{user_id} from the catalog: the field holds the id from /me, the request uses it.
        await _open(pilot, screen, "get users/{user_id}")
        assert screen.query_one("#path", Input).value == "/users/{user_id}"
        field = screen.query_one("#pp-0", Input)
        assert field.value == me_id
        count = len(screen.history)
        await pilot.press("ctrl+j")
        await _sent(pilot, screen, count, "GET /users/{id} is answered")
        assert (screen.history[-1].path, screen.history[-1].status) == (f"/users/{me_id}", 200)
        assert screen.history[-1].endpoint.path == "/users/{user_id}"
        sent = screen.history[-1].request_headers
        assert sent["authorization"].startswith("Bearer ") and "sandbox-api-key" not in sent["authorization"]

        # An empty path parameter is refused, never sent as {user_id}.
        field.value = ""
        count = len(screen.history)
        await _click(pilot, "#send")
        await pilot.pause()
        assert len(screen.history) == count
        assert "{user_id} needs a value" in _meta(screen)
        assert app.focused is field

        # GET /greets: its documented query parameters, with descriptions and a Select per enum.
        await _open(pilot, screen, "get greets paginated")
        assert screen.endpoint.label() == "GET /greets"
        names = set(screen._query_fields)
        assert {"status", "search", "sort", "profile_id", "assignee_id", "simple"} <= names
        status = screen._query_fields["status"]
        assert isinstance(status, Select)
        assert "Search for profiles where email" in screen_text(app)
        status.value = "open"
        screen._query_fields["search"].value = "e"
        count = len(screen.history)
        await _click(pilot, "#send")
        await _sent(pilot, screen, count, "GET /greets is answered")
        assert screen.history[-1].params == {"status": "open", "search": "e"}
        assert screen.history[-1].status == 200
        # An id from that list fills the next path parameter.
        first_greet = json.loads(screen.history[-1].content)["data"][0]["id"]
        assert screen.harvested.get("greet_id") == first_greet
        await _open(pilot, screen, "get greets events")
        assert screen.endpoint.path == "/greets/{greet_id}/events"
        assert screen.query_one("#pp-0", Input).value == first_greet

        # POST /greets with the built example body: accepted by the sandbox.
        await _open(pilot, screen, "post greets add")
        assert screen.endpoint.label() == "POST /greets"
        body = json.loads(screen.query_one("#body", TextArea).text)
        assert set(body) == {"profiles"} and body["profiles"]
        count = len(screen.history)
        await _click(pilot, "#send")
        await _sent(pilot, screen, count, "POST /greets is answered")
        assert 200 <= screen.history[-1].status < 300, screen.history[-1].content[:200]
        assert "✓ The body matches the request schema" in screen_text(app)

        # A body that departs from the schema is held; the second send sends it anyway.
        screen.query_one("#body", TextArea).text = '{"note": "no profiles"}'
        await _click(pilot, "#check-body")
        await until(pilot, lambda: "profiles → expected present" in screen_text(app), "the check shows it")
        count = len(screen.history)
        await _click(pilot, "#send")
        await until(pilot, lambda: "not sent" in _meta(screen), "the differences are shown")
        assert len(screen.history) == count and "1 difference" in _meta(screen)
        await _click(pilot, "#send")
        await _sent(pilot, screen, count, "sent anyway")
        assert screen.history[-1].status == 400  # the sandbox refuses what the schema said

        # Example: the body is built again.
        await _click(pilot, "#example-body")
        assert "profiles" in json.loads(screen.query_one("#body", TextArea).text)

        # Headers: Authorization stays the client's; another header is sent and shown.
        screen.query_one("#request-tabs", TabbedContent).active = "tab-headers"
        headers = screen.query_one("#headers", TextArea)
        headers.text = "Authorization: Bearer stolen\n"
        count = len(screen.history)
        await pilot.press("ctrl+j")
        await pilot.pause()
        assert len(screen.history) == count and "cannot be replaced" in _meta(screen)
        headers.text = "X-Trace: 42\n"
        await pilot.press("ctrl+j")
        await _sent(pilot, screen, count, "sent with a header")
        assert screen.history[-1].request_headers.get("x-trace") == "42"

        # Retries: shown in the history; the toggle turns them off.
        await _open(pilot, screen, "get users/{user_id}")
        session.sandbox.state.fail_next(1, 429, scope="api")
        count = len(screen.history)
        await pilot.press("ctrl+j")
        await _sent(pilot, screen, count, "retried")
        assert screen.history[-1].retries == [(429, 1.0)] and screen.history[-1].status == 200
        await pilot.click("#retry")
        assert screen.query_one("#retry", Checkbox).value is False
        session.sandbox.state.fail_next(1, 429, scope="api")
        count = len(screen.history)
        await _click(pilot, "#send")
        await _sent(pilot, screen, count, "not retried")
        assert screen.history[-1].status == 429 and screen.history[-1].retries == []

        # History: the retry in the label, search, re-run by key, a name by the Save button.
        await pilot.press("ctrl+g")
        assert screen.query_one("#request-tabs", TabbedContent).active == "tab-history"
        assert app.focused is screen.query_one("#history-search", Input)
        options = screen.query_one("#history", OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(f"GET /users/{me_id} → 429 → retried after 1 s → 200" in p for p in prompts), prompts
        await pilot.press(*"greets")
        await pilot.pause()
        assert options.option_count and all("greets" in str(options.get_option_at_index(i).prompt)
                                            for i in range(options.option_count))
        options.highlighted = 0
        newest = screen._listed[0]
        count = len(screen.history)
        await pilot.press("escape", "f5")
        await _sent(pilot, screen, count, "re-run")
        assert (screen.history[-1].method, screen.history[-1].path) == (newest.method, newest.path)
        await _click(pilot, "#rerun")
        await _sent(pilot, screen, count + 1, "re-run by the button")
        screen.query_one("#history-search", Input).value = ""
        await pilot.pause()
        options.highlighted = 0
        screen.query_one("#request-name", Input).value = "greets again"
        await _click(pilot, "#save-request")
        assert screen.workspace.saved and screen.workspace.saved[0].name == "greets again"
        await pilot.click("#saved-only")
        await pilot.pause()
        assert options.option_count == 1 and "★ greets again" in str(options.get_option_at_index(0).prompt)

        # Larger editor: the request tabs take the pane, and back.
        await pilot.click("#--content-tab-tab-body")  # the Body tab, clicked
        await until(pilot, lambda: screen.query_one("#large-body").region.area, "the Body tab is shown")
        await pilot.click("#large-body")
        assert screen.has_class("large-request")
        await pilot.press("f3")
        assert not screen.has_class("large-request")

        # Copy as curl: the token masked, the extra header included.
        await pilot.click("#--content-tab-tab-headers")
        await until(pilot, lambda: screen.query_one("#copy-curl").region.area, "the Headers tab is shown")
        await _click(pilot, "#copy-curl")
        assert "sandbox-api-key" not in (app.clipboard or "") and "curl -X" in app.clipboard

        await app.workers.wait_for_complete()
    assert_history_has_no_secrets(session.settings.data_dir, ["sandbox-api-key"])


async def test_editor_key_and_button(session, clock, tmp_path, monkeypatch):
    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    script = tmp_path / "editor.sh"
    script.write_text('#!/bin/sh\nprintf \'{"profiles": ["edited@example.com"]}\' > "$1"\n')
    script.chmod(0o700)
    failing = tmp_path / "failing.sh"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o700)
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        screen.editor_context = contextlib.nullcontext  # the headless driver cannot suspend
        await _open(pilot, screen, "post greets add")
        monkeypatch.delenv("VISUAL", raising=False)
        monkeypatch.delenv("EDITOR", raising=False)
        await pilot.press("f4")
        assert any("Set $EDITOR" in m for m in notifications(app))
        monkeypatch.setenv("EDITOR", str(failing))
        await _click(pilot, "#edit-body")
        assert any("exited with status 3" in m for m in notifications(app))
        assert "someone@example.com" in screen.query_one("#body", TextArea).text
        monkeypatch.setenv("EDITOR", str(script))
        await pilot.press("f4")
        await pilot.pause()
        assert json.loads(screen.query_one("#body", TextArea).text) == {"profiles": ["edited@example.com"]}
        monkeypatch.setenv("EDITOR", str(tmp_path / "no-such-editor"))
        await pilot.press("f4")
        assert any("could not run" in m for m in notifications(app))
        await app.workers.wait_for_complete()


async def test_history_survives_a_relaunch_and_the_palette_reaches_it(session, clock):
    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        await _open(pilot, screen, "get greets paginated")
        count = len(screen.history)
        await pilot.press("ctrl+j")
        await _sent(pilot, screen, count, "GET /greets")
        await pilot.press("ctrl+g", "escape")
        screen.query_one("#history", OptionList).highlighted = 0
        screen.query_one("#request-name", Input).value = "all greets"
        await pilot.press("ctrl+n")
        await app.workers.wait_for_complete()
    path = locations.history_file(session.settings.data_dir)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    again = make_app(session, clock)
    async with again.run_test(size=(120, 36)) as pilot:
        # From the status screen, the palette opens an endpoint in the explorer.
        assert isinstance(again.screen, StatusScreen)
        await until(pilot, lambda: again.user is not None, "/me")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"GET /users/{user_id}")
        await until(pilot, lambda: "Open in the request builder" in screen_text(again), "the endpoint is offered")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(again.screen, ExplorerScreen) and again.screen.endpoint is not None
                    and again.screen.endpoint.path == "/users/{user_id}", "the palette opened the endpoint")
        screen = again.screen
        await until(pilot, lambda: screen.workspace is not None and screen.workspace.entries, "history loaded")
        saved = screen.workspace.saved
        assert [(e.name, e.path) for e in saved] == [("all greets", "/greets")]
        assert [e.path for e in screen.workspace.entries][:2] == ["/me", "/greets"]  # the first run's
        # The palette lists the saved request and every explorer action; the saved one runs.
        provider = BonjoroCommands(again.screen)
        await provider.startup()
        names = [name for name, _, _ in provider._commands()]
        assert "Saved: all greets — GET /greets" in names
        assert all(f"Explorer: {name}" in names for name, _, _ in EXPLORER_ACTIONS)
        assert "POST /greets" in names
        count = len(screen.history)
        dict((n, c) for n, _, c in provider._commands())["Saved: all greets — GET /greets"]()
        await _sent(pilot, screen, count, "the saved request ran")
        assert screen.history[-1].path == "/greets" and screen.history[-1].status == 200
        for name, _, method in EXPLORER_ACTIONS:
            assert callable(getattr(screen, method)), name
        await again.workers.wait_for_complete()
    text = history_text(session.settings.data_dir)
    assert "all greets" in text and "sandbox-api-key" not in text


def test_the_secrets_scan_fails_on_a_token_in_the_history_file(tmp_path):
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig"
    assert_history_has_no_secrets(tmp_path)  # no file: nothing to find
    (tmp_path / locations.HISTORY_FILE).write_text(json.dumps({"entries": [{"content": f'{{"t": "{token}"}}'}]}))
    with pytest.raises(AssertionError):
        assert_history_has_no_secrets(tmp_path)
    (tmp_path / locations.HISTORY_FILE).write_text('{"x": "opaque-refresh-token-value-0123456789"}')
    with pytest.raises(AssertionError):
        assert_history_has_no_secrets(tmp_path, ["opaque-refresh-token-value-0123456789"])
    (tmp_path / locations.HISTORY_FILE).write_text('{"x": "sandbox-api-key"}')
    with pytest.raises(AssertionError):
        assert_history_has_no_secrets(tmp_path)


async def test_typing_words_in_every_explorer_field_fires_no_action():
    """Whole words typed with focus in each text field of the explorer land in the field: no
    refresh (r), sign-in (l), status (s), sign-out (x), quit (q) or help (?) fires."""
    from .fakes import FakeSession

    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        screen = app.screen
        assert isinstance(screen, ExplorerScreen) and app.focused is screen.query_one("#path", Input)
        await pilot.press(*"greets")  # on entry, as a user would
        assert screen.query_one("#path", Input).value.endswith("greets")
        await screen.open_endpoint(catalog.find("GET", "/users/{user_id}"))
        await pilot.pause()
        word = "greets rlsxq?"  # every single-letter key of the app
        fields = {"#pp-0": "tab-params", "#catalog-filter": "tab-params", "#path": "tab-params", "#query": "tab-params",
                  "#body": "tab-body", "#headers": "tab-headers", "#history-search": "tab-history",
                  "#request-name": "tab-history"}
        for selector, tab in fields.items():
            screen.query_one("#request-tabs", TabbedContent).active = tab
            await pilot.pause()
            widget = screen.query_one(selector)
            widget.focus()
            await pilot.pause()
            await pilot.press(*word)
            await pilot.pause()
            value = widget.text if isinstance(widget, TextArea) else widget.value
            assert word in value, (selector, value)
            assert app.screen is screen and not app._exit_renderables, selector
            assert app.refresh_events == 0 and session.store.load(session.settings.profile) is not None, selector
            await pilot.press("escape")
        assert isinstance(app.screen, ExplorerScreen) and app.return_code is None
