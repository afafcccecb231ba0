"""The live countdown of the access token's life: a line of text and a bar of the lifetime left.

Only this widget re-renders on each tick; its colour follows how close expiry is.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from bonjoro_tui.tokens import TokenSet
from bonjoro_tui.account.format import countdown as duration

#: (lower bound of the fraction left, level name); the first match wins.
LEVELS = ((0.5, "ok"), (0.2, "warn"), (0.0, "low"))


def level_for(fraction: float | None, seconds_left: float | None) -> str:
    if seconds_left is None:
        return "never"
    if seconds_left <= 0:
        return "expired"
    assert fraction is not None
    for bound, name in LEVELS:
        if fraction > bound or bound == 0.0:
            return name
    return "low"  # pragma: no cover


class Countdown(Widget):
    """Shows ``expires in 59m 12s`` and a bar of the share of the lifetime left."""

    DEFAULT_CSS = """
    Countdown { height: 2; }
    Countdown > .countdown--ok { color: $success; }
    Countdown > .countdown--warn { color: $warning; }
    Countdown > .countdown--low { color: $error; }
    Countdown > .countdown--expired { color: $error; text-style: bold; }
    Countdown > .countdown--never { color: $text-muted; }
    Countdown > .countdown--empty { color: $panel-lighten-2; }
    """
    COMPONENT_CLASSES = {
        "countdown--ok",
        "countdown--warn",
        "countdown--low",
        "countdown--expired",
        "countdown--never",
        "countdown--empty",
    }

    seconds_left: reactive[float | None] = reactive(None)
    fraction: reactive[float | None] = reactive(None)
    active: reactive[bool] = reactive(False)

    def show(self, tokens: TokenSet | None, now: float) -> None:
        """Update from a token set (None: signed out) at time ``now``."""
        self.active = tokens is not None
        if tokens is None:
            self.seconds_left = None
            self.fraction = None
            return
        self.seconds_left = tokens.expires_in(now)
        self.fraction = tokens.fraction_left(now)

    @property
    def level(self) -> str:
        return level_for(self.fraction, self.seconds_left)

    def render(self) -> Text:
        if not self.active:
            return Text("not signed in", style=self.get_component_rich_style("countdown--never"))
        level = self.level
        style = self.get_component_rich_style(f"countdown--{level}")
        if self.seconds_left is None:
            return Text("does not expire (API key)", style=style)
        if self.seconds_left <= 0:
            line = f"expired {duration(self.seconds_left)} ago"
        else:
            line = f"expires in {duration(self.seconds_left)}"
        fraction = self.fraction or 0.0
        width = max(10, self.size.width)
        percent = f" {int(round(fraction * 100)):>3}%"
        bar_width = max(1, width - len(percent))
        filled = int(round(fraction * bar_width))
        text = Text(line + "\n", style=style)
        text.append("━" * filled, style=style)
        text.append("━" * (bar_width - filled), style=self.get_component_rich_style("countdown--empty"))
        text.append(percent, style=style)
        return text
