"""A new user's review of the explorer: each finding with its Pilot test, against the real core
and the in-process sandbox (a token never shown in full in Raw, curl that runs as copied, a send
right after a paste, leftovers of a previous response, …)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from textual.widgets import Input, Static, TextArea

from bonjoro_tui.auth.login import login_api_key
from bonjoro_tui.tui.exchange import Exchange
from bonjoro_tui.tui.screens.explorer import ExplorerScreen
from bonjoro_tui.tui.widgets.response import RAW_MASKED_NOTE, ResponseView

from .helpers import make_app, open_explorer, until

pytestmark = pytest.mark.integration

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


async def _explorer(pilot) -> ExplorerScreen:
    screen = await open_explorer(pilot, after_me=True)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def test_raw_masks_credentials_copy_and_save_keep_the_bytes(session, clock):
    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _explorer(pilot)
        view = screen.query_one(ResponseView)
        body = json.dumps({"access_token": JWT, "refresh_token": "r-0123456789abcdef", "token_type": "Bearer",
                           "expires_in": 3600, "note": f"also {JWT} here"}).encode()
        exchange = Exchange("POST", "/oauth/2/token", {}, None, at=clock(), status=200, content=body,
                            headers={"content-type": "application/json"})
        await view.show(exchange)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert await pilot.click("#--content-tab-tab-raw")
        await pilot.pause()
        raw = screen.query_one("#response-raw", TextArea)
        note = screen.query_one("#raw-masked", Static)
        for compact in (False, True):
            assert JWT not in raw.text and JWT[:20] not in raw.text, raw.text
            assert "r-0123456789abcdef" not in raw.text
            assert '"token_type": "Bearer"' in raw.text.replace('":"', '": "')
            assert note.has_class("masked") and RAW_MASKED_NOTE in str(note.render())
            view.action_toggle_compact()
            await pilot.pause()
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        view.copy_body()
        assert copied == [body.decode()]
        # A body with nothing to mask says nothing.
        plain = Exchange("GET", "/me", {}, None, at=clock(), status=200, content=b'{"name": "Ann"}')
        await view.show(plain)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not note.has_class("masked") and "Ann" in raw.text


async def test_copy_as_curl_runs_as_copied(session, clock):
    import shlex

    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _explorer(pilot)
        screen.query_one("#path", Input).value = "/me"
        screen.query_one("#headers", TextArea).text = "X-Trace: a b'c\n"
        await pilot.pause()
        screen.query_one("#path", Input).focus()
        count = len(screen.history)
        await pilot.press("ctrl+j")
        await until(pilot, lambda: len(screen.history) > count, "/me is answered")
        await app.workers.wait_for_complete()
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("ctrl+t")
        base = app.settings.api_base.rstrip("/")
        assert copied[-1] == (f"curl -X GET {shlex.quote(base + '/me')} "
                              '-H "Authorization: Bearer $(bonjoro-tui token)" '
                              "-H 'Accept: application/json' -H 'X-Trace: a b'\"'\"'c'")
        for word in ("host", "accept-encoding", "connection", "user-agent", "…"):
            assert word not in copied[-1].lower()
        # The shell reads it back as the words curl needs.
        words = shlex.split(copied[-1].replace("$(bonjoro-tui token)", "TOKEN"))
        assert words[words.index("-H") + 1] == "Authorization: Bearer TOKEN"
        # Another profile: the same profile's token.
        settings = app.settings
        app.settings = dataclasses.replace(settings, profile="ci")
        assert '"Authorization: Bearer $(bonjoro-tui --profile ci token)"' in screen.curl_command(screen.current)
        app.settings = settings
        # With the box ticked: the real token (through the client's origin check), quoted.
        screen.query_one("#curl-token").value = True
        await pilot.press("ctrl+t")
        token = app.client.token_for(base + "/me")
        assert f"-H {shlex.quote('Authorization: Bearer ' + token)}" in copied[-1]


async def test_a_send_right_after_a_paste_sends_what_was_pasted(session, clock):
    from textual import events

    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _explorer(pilot)
        screen.query_one("#path", Input).value = "/greets"
        await pilot.pause()
        await app.workers.wait_for_complete()
        screen.query_one("#query", Input).focus()
        await pilot.pause()
        count = len(screen.history)
        # As the terminal gives them: the paste and ctrl+j in one tick, the app forwarding the
        # paste to the focused field before its priority binding sees the key.
        app.post_message(events.Paste("limit=5"))
        app.post_message(events.Key("ctrl+j", None))
        await until(pilot, lambda: len(screen.history) > count, "/greets is answered")
        assert screen.history[-1].params == {"limit": "5"}
        await app.workers.wait_for_complete()
        # Headers pasted, then ctrl+j: the pasted Authorization is refused, nothing is sent.
        screen.query_one("#headers", TextArea).focus()
        await pilot.pause()
        count = len(screen.history)
        app.post_message(events.Paste("X-Trace: 1\nAuthorization: Bearer stolen\n"))
        app.post_message(events.Key("ctrl+j", None))
        await until(pilot, lambda: "Authorization" in str(screen.query_one("#response-meta").render()),
                    "the Authorization header is refused")
        await app.workers.wait_for_complete()
        assert len(screen.history) == count


async def test_a_refused_send_leaves_no_previous_response_and_notes_follow_the_body(session, clock):
    from textual.widgets import Tree

    from .screen import screen_text

    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _explorer(pilot)
        view = screen.query_one(ResponseView)
        screen.query_one("#path", Input).value = "/greets"
        await pilot.pause()
        screen.query_one("#path", Input).focus()
        count = len(screen.history)
        await pilot.press("ctrl+j")
        await until(pilot, lambda: len(screen.history) > count and view.pages is not None, "a page of greets")
        await until(pilot, lambda: view.contract is not None, "the contract check")
        await app.workers.wait_for_complete()
        # POST /greets: the example body, its note, then a body that is not JSON.
        await pilot.press("ctrl+f")
        screen.query_one("#catalog-filter", Input).value = "post /greets"
        await pilot.press("enter")
        await until(pilot, lambda: "Every required field" in str(screen.query_one("#body-check").render()),
                    "the example's note")
        body = screen.query_one("#body", TextArea)
        assert body.border_subtitle
        body.text = "{not json"
        await pilot.pause()
        assert "Every required field" not in str(screen.query_one("#body-check").render())
        body.focus()
        await pilot.press("ctrl+j")
        await until(pilot, lambda: "Not sent" in str(screen.query_one("#response-meta").render()), "refused")
        await pilot.pause()
        assert view.pages is None and view.exchange is None and view.contract is None
        assert "page " not in screen_text(app)
        tree = view.query_one("#response-tree", Tree)
        assert "not sent" in str(tree.root.label)
        assert "Not sent" in str(view.query_one("#response-contract").render())
        # A typed path that matches no endpoint drops the previous one's "optional: …".
        screen.query_one("#path", Input).value = "/nothing/here"
        await pilot.pause()
        assert not body.border_subtitle


@pytest.mark.parametrize("width", [80, 120])
async def test_the_save_dialogs_overwrite_button_is_whole(session, clock, tmp_path, width):
    from textual.widgets import Button

    from bonjoro_tui.tui.modals.save import SaveBodyScreen

    from .screen import screen_text

    target = tmp_path / "body.json"
    target.write_bytes(b"{}")
    app = make_app(session, clock)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        app.push_screen(SaveBodyScreen(b'{"a": 1}', str(target)))
        await pilot.pause()
        await pilot.press("enter")
        button = app.screen.query_one("#save-ok", Button)
        await until(pilot, lambda: str(button.label) == "Overwrite", "the dialog asks to overwrite")
        await pilot.pause()
        assert "Overwrite" in screen_text(app).replace("Press Overwrite", "")
        assert button.size.width >= len("Overwrite")


async def test_a_401_refreshed_and_retried_is_said(session, clock):
    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _explorer(pilot)
        view = screen.query_one(ResponseView)
        exchange = Exchange("GET", "/me", {}, None, at=clock(), status=200, content=b"{}", refreshed=True)
        await view.show(exchange)
        await app.workers.wait_for_complete()
        assert "401 → refreshed → 200" in str(view.query_one("#response-meta").render())
        exchange = Exchange("GET", "/me", {}, None, at=clock(), status=200, content=b"{}", refreshed=True,
                            retries=[(503, 1.0)])
        await view.show(exchange)
        assert "503 → retried after 1 s → 401 → refreshed → 200" in str(view.query_one("#response-meta").render())


async def test_f2_gives_the_response_the_whole_height_at_80x24(session, clock):
    from .screen import screen_text

    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _explorer(pilot)
        tree = screen.query_one("#response-tree")
        screen.query_one("#request-tabs").active = "tab-body"
        await pilot.pause()
        small = tree.size.height
        assert "Big response" in screen_text(app)  # the footer names the key
        await pilot.press("f2")
        await pilot.pause()
        assert not screen.query_one("#catalog-pane").display or not screen.query_one("#catalog-pane").region.area
        assert tree.size.height >= small + 8, (small, tree.size.height)
        assert screen.query_one("#path").region.area  # the request line stays: a send still works
        await pilot.press("f2")
        await pilot.pause()
        assert tree.size.height == small and screen.query_one("#catalog-pane").region.area


async def test_the_catalog_keeps_the_end_of_a_long_path_at_80_columns(session, clock):
    from .screen import screen_text

    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _explorer(pilot)
        screen.query_one("#catalog-filter", Input).value = "automation/services"
        screen.query_one("#path", Input).focus()  # the filter not focused: the catalog is narrow
        await pilot.pause()
        await pilot.pause()
        tree = screen.query_one("#catalog")
        leaves = [n for tag in tree.root.children for n in tag.children]
        shown = [tree.render_label(n, tree.rich_style, tree.rich_style).plain for n in leaves]
        paths = [n.data.path for n in leaves]
        assert len(set(shown)) == len(shown) == len(paths) >= 2, shown
        for text, path in zip(shown, paths):
            assert text.endswith(path[-6:]), (text, path)
        text = screen_text(app)
        assert any(s.strip() in text for s in shown)
