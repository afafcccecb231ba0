""""Last refresh: <when> (<how long> ago) — ok" (or "<what went wrong> — <when> …"), kept current on each tick.

One line of fixed height: a tick repaints this widget alone, with no layout pass.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget

from bonjoro_tui.safetext import safe_text
from bonjoro_tui.account.format import clock_time
from bonjoro_tui.account.format import countdown as duration


def last_refresh_text(profile: Any, now: float) -> Text:
    if profile is None or profile.last_refresh_at is None:
        return Text("Last refresh: never", style="dim")
    when = f"{clock_time(profile.last_refresh_at)} ({duration(now - profile.last_refresh_at)} ago)"
    # The result of a failed refresh quotes the server's error: escaped (one line, no controls).
    result = safe_text(profile.last_refresh_result or "?")
    if result == "ok":
        text = Text(f"Last refresh: {when} — ")
        text.append(result, style="green")
        return text
    # Anything else comes first: on one line, a long reason would push it out of sight.
    text = Text("Last refresh: ")
    text.append(result, style="red")
    text.append(f" — {when}")
    return text


class LastRefresh(Widget):
    DEFAULT_CSS = """
    LastRefresh { height: 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._text = Text("Last refresh: never", style="dim")

    def show(self, profile: Any, now: float) -> None:
        text = last_refresh_text(profile, now)
        if text.plain != self._text.plain or text.spans != self._text.spans:
            self._text = text
            self.refresh()

    def render(self) -> Text:
        return self._text
