"""The floor of the real-terminal figure: a bare Textual app (Header, Static, Footer) in a terminal.

``python -m bench.bare_app``: what ``bonjoro-tui`` is compared with in tmux (bench/bench_user.py).
Its marker string is :data:`MARKER`; ``q`` or ctrl+q quits.
"""

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static

MARKER = "Hello from a bare Textual app"


class Bare(App):
    BINDINGS = [Binding("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(MARKER)
        yield Footer()


if __name__ == "__main__":
    Bare().run()
