"""One request the explorer sent and what came back: what the response view shows and the
history lists.

Plain data, no Textual: the explorer builds it before sending and fills the response side when
the answer arrives; :class:`~bonjoro_tui.tui.widgets.response.ResponseView` shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bonjoro_tui.account.format import clock_time


@dataclass
class Exchange:
    """One request of this run and what came back (or the error)."""

    method: str
    path: str
    params: dict[str, str]
    body: Any
    at: float
    status: int | None = None
    elapsed: float = 0.0
    content: bytes = b""
    #: The response's headers, names in lower case.
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    #: What was sent (names as given); an Authorization or other credential is masked when shown.
    request_headers: dict[str, str] = field(default_factory=dict)
    #: Each answer the client retried before the one shown: (its status, seconds waited).
    retries: list[tuple[int, float]] = field(default_factory=list)
    #: The answer came after a 401, a refresh of the token and a resend (``ApiResponse.refreshed``).
    refreshed: bool = False
    #: The headers the user typed (None: not known, e.g. an entry of an earlier run's history).
    typed_headers: dict[str, str] | None = None
    #: The catalog Endpoint the request was built from (None: typed by hand, or none matched).
    endpoint: Any = None

    def label(self) -> str:
        outcome = str(self.status) if self.status is not None else "error"
        query = f"?{urlencode(self.params)}" if self.params else ""
        return f"{clock_time(self.at)[11:19]}  {self.method} {self.path}{query} → {outcome}"
