"""A real HTTP server on 127.0.0.1 that answers API paths with hostile bodies and headers.

A tiny ASGI app run by uvicorn in a thread (the product reaches it over a loopback socket
exactly as it would reach Bonjoro); ``signed_in_settings`` points a profile at it so the
explorer and ``bonjoro-tui api`` send their requests there.

Hostile strings: markup that would run an action (``[@click=app.screenshot(...)]``), markup
that would not even parse (``[/x]``), and every kind of control sequence a terminal obeys —
OSC 52 (write the clipboard), OSC 8 (a link), OSC 0 (the window title), CSI ``2J`` (clear the
screen), the one-byte C1 CSI ``\\x9b``, a bidi override, NUL, a carriage return.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from adversarial.hostile_text import CASES as SHARED_CASES  # the project's shared hostile strings
from support import LoopbackServer

CLICK = "[@click=app.screenshot('x','/tmp')]Verify[/]"
BAD_MARKUP = "[/x]"
OSC52 = "\x1b]52;c;QUFB\x07"
OSC8 = "\x1b]8;;https://evil.test/\x1b\\click me\x1b]8;;\x1b\\"
TITLE = "\x1b]0;t\x07"
CLEAR = "\x1b[2J"
C1_CSI = "\x9b31m"
BIDI = "\u202eevil\u202c"
NUL = "a\x00b"
CR = "ok\rFAKE"

HOSTILE: tuple[str, ...] = (CLICK, BAD_MARKUP, OSC52, OSC8, TITLE, CLEAR, C1_CSI, BIDI, NUL, CR) + tuple(
    SHARED_CASES.values()
)
#: Characters that must never reach the screen raw (the shared list's may add more).
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\x00", "\r")

#: Keys and values both hostile; one nested object so expanding is exercised too.
HOSTILE_DOC: dict[str, Any] = {
    CLICK: CLICK,
    BAD_MARKUP: BAD_MARKUP,
    "osc52" + OSC52: OSC52,
    "osc8": OSC8,
    "title" + TITLE: TITLE,
    "clear" + CLEAR: CLEAR,
    "csi" + C1_CSI: C1_CSI,
    "bidi" + BIDI: BIDI,
    "nul": NUL,
    "cr": CR,
    "nested" + OSC52: {CLICK: [TITLE, CLEAR, {BAD_MARKUP: BIDI}]},
    **{f"shared {name}: {text}": text for name, text in SHARED_CASES.items()},
}
#: Plain text (not JSON) with every hostile string in it.
HOSTILE_TEXT = ("not json " + " | ".join(HOSTILE) + "\n").encode("utf-8", "surrogatepass")

DEEP_INVALID = b"[" * 100_000
DEEP_VALID = b"[" * 5000 + b"]" * 5000
AT_THE_LIMIT = (b'{"k":' * 255 + b"[1]" + b"}" * 255)  # 256 levels: still a tree
BIG = json.dumps({"data": [{"id": i, "name": f"greet {i}", "note": "x" * 80} for i in range(42_000)]}).encode()
HUGE_STRING = json.dumps({"s": "y" * 5_000_000}).encode()
UTF16 = json.dumps({"name": "Zoë", "city": "Zürich"}, ensure_ascii=False).encode("utf-16")  # with a BOM
BAD_UTF8 = b'{"name": "caf\xe9 \xff\xfe"}'

ME = {"data": {"id": 7, "name": "Eve Example", "email": "eve@example.test"}}

#: path (after /api/v2) -> (status, content type, body, extra headers)
ROUTES: dict[str, tuple[int, str, bytes, list[tuple[bytes, bytes]]]] = {
    "/me": (200, "application/json", json.dumps(ME).encode(), []),
    "/hostile": (200, "application/json", json.dumps(HOSTILE_DOC, ensure_ascii=False).encode(), [
        # h11 refuses C0 controls in a header; C1 (as Latin-1) and bidi (as UTF-8) pass
        (b"x-ratelimit-limit", "600\x9b2J".encode("latin-1")),
        (b"x-ratelimit-remaining", ("5" + BIDI).encode("utf-8")),
    ]),
    "/text": (200, "text/plain", HOSTILE_TEXT, []),
    "/deep": (200, "application/json", DEEP_INVALID, []),
    "/deep-valid": (200, "application/json", DEEP_VALID, []),
    "/deep-error": (500, "application/json", DEEP_VALID, []),
    "/at-the-limit": (200, "application/json", AT_THE_LIMIT, []),
    "/big": (200, "application/json", BIG, []),
    "/huge-string": (200, "application/json", HUGE_STRING, []),
    "/utf16": (200, "application/json; charset=utf-16", UTF16, []),
    "/bad-utf8": (200, "application/json", BAD_UTF8, []),
}


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"].removeprefix("/api/v2")
    if path.startswith("/hostile"):
        path = "/hostile"  # /hostile[/x] and friends: the same hostile document
    status, ctype, body, headers = ROUTES.get(path, (404, "application/json", b'{"message": "Not found"}', []))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class HostileServer(LoopbackServer):
    """``with HostileServer() as server:`` — ``server.url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self) -> None:
        super().__init__(app, name="the hostile server")


#: The API key the tests store for the hostile server (a test value, never a real secret).
API_KEY = "hostile-test-api-key-0123456789abcdef"


def env_for(server: HostileServer) -> dict[str, str]:
    """Environment that aims bonjoro-tui at ``server`` (on top of the isolated test environment)."""
    return {"BONJORO_BASE_URL": server.url, "BONJORO_CLIENT_ID": "hostile-client", "NO_PROXY": "127.0.0.1,localhost"}


def signed_in_settings(server: HostileServer):
    """Settings aimed at ``server`` with an API-key profile stored for it (no refresh ever needed)."""
    from bonjoro_tui.settings import load_settings
    from bonjoro_tui.store import StoredProfile, TokenStore
    from bonjoro_tui.tokens import TokenSet

    settings = load_settings(env={**os.environ, **env_for(server)})
    TokenStore(settings.store_path).save(
        StoredProfile(settings.profile, settings.target_id, "api_key", None, TokenSet(API_KEY, time.time()))
    )
    return settings
