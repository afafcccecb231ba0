"""Messages the core's callbacks become inside the app."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class RefreshHappened(Message):
    """The client refreshed the token on its own (``BonjoroClient(on_refresh=...)``)."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event
