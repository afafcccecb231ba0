"""Hostile server text: strings a server may send in any field, and a server that sends them.

Each case is something a Bonjoro response (a ``/me`` name, a scope, an ``error_description``,
a header, a non-JSON body, a callback's ``error``) could carry to attack the screen:

- markup injection: ``[@click=…]`` would run an app action when clicked (``app.screenshot``
  writes a file where it is told); ``[/x]`` raises ``MarkupError`` wherever it is parsed;
  ``[bold red]`` restyles what follows;
- terminal control: OSC 52 writes the clipboard, OSC 8 plants a link, OSC 0 retitles the
  window, ``ESC [2J`` / one-byte CSI ``\\x9b2J`` clear the screen, NUL and ``\\r`` hide text;
- bidi: ``\\u202e`` (RIGHT-TO-LEFT OVERRIDE) makes text read backwards.

:class:`HostileServer` is a Bonjoro stand-in on 127.0.0.1 (uvicorn in a thread, real sockets):
its token endpoint, ``/me``, error bodies, headers and a plain-text endpoint all carry
whatever hostile text the test sets.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from bonjoro_tui.settings import API_PATH, REVOKE_PATH, TOKEN_PATH
from support import LoopbackServer

#: A click on it would save a screenshot: the test puts a temporary directory where '/tmp' is.
CLICK = "[@click=app.screenshot('pwned.svg','/tmp')]Verify[/]"
CLOSE_TAG = "[/x]"
OPEN_STYLE = "[bold red]x"
OSC52 = "\x1b]52;c;cHduZWQ=\x07"  # clipboard := "pwned"
OSC8 = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
CSI_C1 = "\x9b2J"  # the one-byte CSI (C1), UTF-8 \xc2\x9b
BIDI = "\u202eevil.exe"
NUL = "nul\x00byte"
CR = "shown\rHIDDEN"

CASES: dict[str, str] = {
    "click": CLICK,
    "close_tag": CLOSE_TAG,
    "open_style": OPEN_STYLE,
    "osc52": OSC52,
    "osc8": OSC8,
    "title": TITLE,
    "clear": CLEAR,
    "csi_c1": CSI_C1,
    "bidi": BIDI,
    "nul": NUL,
    "cr": CR,
}

#: Every case in one string (what a single field carries in the end-to-end tests).
ALL = " ".join(CASES.values())

#: The characters that must never be written raw to a terminal (checked on text and on bytes).
RAW_FORBIDDEN = ("\x1b", "\x9b", "\u202e", "\x00", "\r", "\x07")
RAW_FORBIDDEN_BYTES = (b"\x1b", b"\xc2\x9b", b"\xe2\x80\xae", b"\x00", b"\r", b"\x07")

#: What a reader must see instead: each escape as visible text.
VISIBLE = ("\\x1b]52;c;cHduZWQ=\\x07", "\\x1b]8;;https://evil.example/", "\\x1b]0;pwned\\x07", "\\x1b[2J",
           "\\x9b2J", "\\u202eevil.exe", "nul\\x00byte", "shown\\rHIDDEN")
#: The markup cases, which must show literally.
LITERAL_MARKUP = (CLICK, CLOSE_TAG, OPEN_STYLE)


def click(directory: str) -> str:
    """:data:`CLICK` aimed at ``directory`` (a screenshot file would appear there)."""
    return CLICK.replace("/tmp", directory)


def forbidden_in(text: str) -> list[str]:
    """The raw control / bidi characters in ``text`` (none is the expected answer)."""
    return [repr(c) for c in RAW_FORBIDDEN if c in text]


def forbidden_bytes_in(data: bytes) -> list[bytes]:
    return [b for b in RAW_FORBIDDEN_BYTES if b in data]


# --------------------------------------------------------------------------- the server


@dataclass
class Hostile:
    """What the hostile server says; a test changes these between requests."""

    name: str = ALL
    email: str = f"{BIDI}@{CLOSE_TAG}.example"
    scope: str = f"read {CLOSE_TAG} {CLICK} {OSC52}"
    #: When set, the token endpoint refuses every grant with this ``error_description``.
    token_error: str | None = None
    #: The ``error`` code sent with it (``invalid_grant`` ends a sign-in; others keep the tokens).
    token_error_code: str = "invalid_grant"
    #: When set, ``/me`` fails (HTTP 500) with this message.
    me_error: str | None = None
    #: The body of ``GET /api/v2/text`` (text/plain), and a header value every answer carries.
    body: bytes = ("line one " + ALL + "\nline two\n").encode()
    header: bytes = "\x9b2J \u202eevil".encode()
    requests: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        while True:  # read the body (unused) so the connection stays well-behaved
            message = await receive()
            if not message.get("more_body"):
                break
        method, path = scope["method"], scope["path"]
        self.requests.append((method, path))
        status, content_type, payload = self._answer(method, path)
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", content_type), (b"content-length", str(len(payload)).encode()),
            (b"x-hostile", self.header),
        ]})
        await send({"type": "http.response.body", "body": payload})

    def _answer(self, method: str, path: str) -> tuple[int, bytes, bytes]:
        if path == TOKEN_PATH and method == "POST":
            if self.token_error is not None:
                return _json(400, {"error": self.token_error_code, "error_description": self.token_error})
            return _json(200, {"access_token": "hostile-at-" + secrets.token_urlsafe(24), "token_type": "Bearer",
                               "expires_in": 3600, "refresh_token": "hostile-rt-" + secrets.token_urlsafe(24),
                               "scope": self.scope})
        if path == REVOKE_PATH:
            return _json(200, {})
        if path == API_PATH + "/me":
            if self.me_error is not None:
                return _json(500, {"message": self.me_error})
            return _json(200, {"data": {"id": "u-1", "name": self.name, "email": self.email}})
        if path == API_PATH + "/text":
            return 200, b"text/plain; charset=utf-8", self.body
        if path == API_PATH + "/fail":
            return _json(422, {"message": ALL})
        return _json(404, {"message": ALL})


def _json(status: int, body: object) -> tuple[int, bytes, bytes]:
    return status, b"application/json", json.dumps(body).encode()


class HostileServer(LoopbackServer):
    """``with HostileServer() as hostile:`` — :class:`Hostile` served on 127.0.0.1 (a free port)."""

    def __init__(self) -> None:
        self.hostile = Hostile()
        super().__init__(self.hostile, name="the hostile server")
        self.hostile.port = self.port

    def __enter__(self) -> Hostile:  # type: ignore[override]
        super().__enter__()
        return self.hostile
