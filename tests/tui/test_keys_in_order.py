"""Keys typed in a burst take effect in the order they were typed (``widgets/fields.py``).

Textual inserts a typed character in the field's key handler but runs the field's bound keys
(backspace, the arrows, home/end …) only once the key has bubbled up to the app: keys that came
faster than that round trip were applied out of order. Found in tmux by a reviewer: ``End``,
forty backspaces and ``/greets?limit=9`` sent at once left the path empty or ``/greets?`` (and a
request went out that nobody typed). Here the keys are posted to the app all at once, as a
terminal's burst arrives, without waiting for any of them to be handled.
"""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input, TextArea

from bonjoro_tui.tui.widgets.fields import TextEditor, TextField

from .fakes import FakeSession
from .helpers import make_app, open_explorer

NAMES = {"/": "slash", "?": "question_mark", "=": "equals_sign", "{": "left_curly_bracket", "}": "right_curly_bracket",
         " ": "space", ":": "colon", "-": "minus", '"': "quotation_mark", ",": "comma"}


def _burst(app, keys: list[str]) -> None:
    """Post every key at once: names of bound keys ("backspace", "left") or characters."""
    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key(NAMES.get(key, key), key))
        else:
            app.post_message(events.Key(key, None))


async def _settle(pilot) -> None:
    for _ in range(20):
        await pilot.pause(0.02)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _session() -> FakeSession:
    session = FakeSession()
    session.sign_in()
    return session


async def test_backspaces_then_a_path_in_one_burst_leave_that_path():
    app = make_app(_session())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        path = screen.query_one("#path", Input)
        assert isinstance(path, TextField)
        for typed in ("/greets?limit=9", "/users/{user_id}", "/me"):
            assert await pilot.click("#path")
            _burst(app, ["end"] + ["backspace"] * 40 + list(typed))
            await _settle(pilot)
            assert path.value == typed


async def test_arrows_and_deletes_in_a_burst_edit_where_they_were_pressed():
    app = make_app(_session())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        path = screen.query_one("#path", Input)
        assert await pilot.click("#path")
        _burst(app, ["end"] + ["backspace"] * 10 + list("/grts") + ["left", "left"] + list("ee") + ["end"]
               + list("x") + ["backspace"] + ["home", "delete"] + list("/"))
        await _settle(pilot)
        assert path.value == "/greets"


async def test_the_body_editor_takes_a_burst_in_order():
    app = make_app(_session())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        assert await pilot.click("#--content-tab-tab-body")
        await pilot.pause()
        body = screen.query_one("#body", TextArea)
        assert isinstance(body, TextEditor)
        body.text = ""
        assert await pilot.click("#body")
        _burst(app, list('{"nam') + ["backspace", "backspace"] + list('ame": 1') + ["left"] + list("2") + ["end"]
               + list("}"))
        await _settle(pilot)
        assert body.text == '{"name": 21}'


@pytest.mark.parametrize("field_id", ["api-key", "paste"])
async def test_the_sign_in_fields_take_a_burst_in_order(field_id):
    app = make_app(FakeSession())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("l")
        await pilot.pause()
        field = app.screen.query_one(f"#{field_id}", Input)
        field.focus()
        await pilot.pause()
        _burst(app, list("sandbox-apx") + ["backspace", "backspace"] + list("pi-key"))
        await _settle(pilot)
        assert field.value == "sandbox-api-key"
