"""The authorization URL alone on the screen: no border, no padding, nothing else on its lines,
so it can be selected with the mouse (shift+drag in most terminals) and pasted in a browser."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from bonjoro_tui.tui.text import plain


class UrlScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,u,q", "dismiss", "Back", id="url.close")]
    DEFAULT_CSS = """
    UrlScreen { background: $background; }
    UrlScreen > #url-text { width: 100%; height: auto; padding: 0; }
    UrlScreen > #url-help { color: $text-muted; margin: 1 0 0 0; }
    """

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def compose(self) -> ComposeResult:
        # Built from settings the server may have published (discovery): plain text, escaped.
        yield Static(plain(self.url), id="url-text")
        yield Static("Select it with the mouse (shift+drag in most terminals), or press c in the wizard "
                     "to copy it. escape goes back.", id="url-help")
