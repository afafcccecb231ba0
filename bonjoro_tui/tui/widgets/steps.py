"""The login wizard's step list: each step pending, running, done or failed, with a detail."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from bonjoro_tui.tui.text import rich_plain

ICONS = {"pending": "○", "running": "◉", "done": "✔", "failed": "✘", "skipped": "–"}


@dataclass
class Step:
    key: str
    label: str
    state: str = "pending"  # pending | running | done | failed | skipped
    detail: str = ""


class StepList(Widget):
    """Renders a list of :class:`Step`; the owner mutates the steps and calls :meth:`refresh`."""

    DEFAULT_CSS = """
    StepList { height: auto; }
    StepList > .step--pending { color: $text-muted; }
    StepList > .step--running { color: $accent; text-style: bold; }
    StepList > .step--done { color: $success; }
    StepList > .step--failed { color: $error; text-style: bold; }
    StepList > .step--skipped { color: $text-muted; }
    StepList > .step--detail { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "step--pending",
        "step--running",
        "step--done",
        "step--failed",
        "step--skipped",
        "step--detail",
    }

    def __init__(self, steps: list[Step], **kwargs) -> None:
        super().__init__(**kwargs)
        self.steps = steps

    def step(self, key: str) -> Step:
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(key)

    def running(self) -> Step | None:
        return next((s for s in self.steps if s.state == "running"), None)

    def render(self) -> Table:
        table = Table.grid(padding=(0, 1))
        table.add_column(width=1)
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        detail_style = self.get_component_rich_style("step--detail")
        for s in self.steps:
            style = self.get_component_rich_style(f"step--{s.state}")
            table.add_row(
                Text(ICONS[s.state], style=style),
                rich_plain(s.label, style),
                # A detail can hold server text (a failed step's error): escaped, never markup.
                rich_plain(s.detail, style if s.state == "failed" else detail_style, overflow="fold"),
            )
        return table
