"""What the front ends may know of the built-in sandbox, without reaching into its modules:
which API operations it serves (the explorer's ● marks) and its "play the browser" approval
(the login wizard's ``a`` key, ``login --approve``). The sandbox is ours, so approving in it needs no
real browser. And whether a sandbox is already running for a data directory (:func:`find_running`),
or a configured server is one (:func:`recognise`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Pattern

if TYPE_CHECKING:
    from pathlib import Path

    from bonjoro_tui.settings import Settings


def served_routes() -> list[tuple[str, Pattern[str]]]:
    """(method, path regex relative to the API base) of every API route the sandbox serves."""
    from bonjoro_tui.sandbox.api import ROUTES

    return [(method, regex) for method, regex, _handler in ROUTES]


def serves(routes: list[tuple[str, Pattern[str]]], method: str, path: str) -> bool:
    """Whether ``method path`` (a published path template, ``/users/{user_id}``) is served."""
    sample = re.sub(r"\{[^}/]+\}", "x", path)
    return any(m == method and regex.match(sample) for m, regex in routes)


async def approve_in_sandbox(authorization_url: str, *, decision: str = "approve") -> str:
    """Approve (or deny) a sign-in at the sandbox's consent page as a browser would, and deliver
    the redirect to our loopback callback; returns the redirect URL."""
    from bonjoro_tui.sandbox import browser

    return await browser.approve(authorization_url, decision=decision)


# --------------------------------------------------------------------------- a sandbox already running

#: The proof a running sandbox gives (written again here, not imported: the sandbox and the client
#: share no code; ``bonjoro_tui/sandbox/announce.py`` is the other side).
_PROOF_CONTEXT = b"bonjoro-sandbox-proof/v1\n"
_INFO_PATH = "/_sandbox/info"
_LOOPBACK_URL = re.compile(r"http://(127\.0\.0\.1|\[::1\]):([0-9]{1,5})")
#: How long a loopback sandbox may take to answer its metadata endpoint.
PROBE_TIMEOUT = 1.0


class RunningSandbox:
    """A sandbox this process did not start: the one announced in the data directory (``shared``)
    or a server ``BONJORO_BASE_URL`` names that says it is a sandbox (``recognised``). It is used,
    never stopped: ``stop()`` does nothing. ``state`` is None (its knobs are over HTTP only)."""

    state = None

    def __init__(self, url: str, *, pid: int | None = None, recognised: bool = False) -> None:
        self.url = url
        self.port = int(url.rsplit(":", 1)[1].rstrip("/"))
        self.pid = pid
        self.shared = pid is not None
        self.recognised = recognised

    def stop(self) -> None:
        pass

    def __repr__(self) -> str:
        kind = "recognised" if self.recognised else f"announced by pid {self.pid}"
        return f"RunningSandbox({self.url}, {kind})"


def _get_info(url: str, query: str = "") -> dict[str, object] | None:
    """``GET {url}/_sandbox/info[?query]``: the JSON object it answers, or None.

    A plain socket and one HTTP/1.1 request with ``Connection: close`` (http.client would cost
    every command ~40 ms of imports): loopback only, no proxy, no redirect, a short timeout, at
    most 8 kB read. The sandbox always sends a ``Content-Length`` body; anything else is None."""
    import json
    import socket
    import time

    match = _LOOPBACK_URL.fullmatch(url)
    if match is None:
        return None
    host, port = match.group(1).strip("[]"), int(match.group(2))
    request = (f"GET {_INFO_PATH}{'?' + query if query else ''} HTTP/1.1\r\nHost: {match.group(1)}:{port}\r\n"
               "Accept: application/json\r\nConnection: close\r\n\r\n").encode("ascii")
    raw = b""
    deadline = time.monotonic() + PROBE_TIMEOUT  # for the whole exchange: a dripping squatter holds no one
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT) as sock:
            sock.sendall(request)
            while len(raw) <= 8192:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                sock.settimeout(left)
                chunk = sock.recv(8192)
                if not chunk:
                    break
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].split()
        if len(status_line) < 2 or status_line[1] != b"200":
            return None
        data = json.loads(body)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("sandbox") is True else None


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process now holds that pid: not the one that wrote it
        return False
    return True


def find_running(announcement: "Path") -> RunningSandbox | None:
    """The sandbox announced at ``announcement`` (``data_dir/sandbox/running.json``), when it is
    really there: the file is ours (files.py), its pid is alive, and the sandbox on its port
    proves it knows the file's secret (an HMAC of a fresh challenge; the secret is never sent).
    A stale file, a squatter on the port, anything garbled: None (the caller starts its own)."""
    import hashlib
    import hmac
    import json
    import secrets

    from bonjoro_tui.files import read_private

    try:
        raw = read_private(announcement, label="sandbox announcement")
        data = json.loads(raw) if raw is not None else None
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != 1:
        return None
    url, pid, secret = data.get("url"), data.get("pid"), data.get("secret")
    if not (isinstance(url, str) and _LOOPBACK_URL.fullmatch(url) and isinstance(pid, int) and pid > 0
            and isinstance(secret, str) and re.fullmatch(r"[0-9a-f]{64}", secret)):
        return None
    if not _alive(pid):
        return None
    challenge = secrets.token_hex(32)
    info = _get_info(url, f"challenge={challenge}")
    if info is None or not isinstance(info.get("proof"), str):
        return None
    expected = hmac.new(bytes.fromhex(secret), _PROOF_CONTEXT + url.encode("ascii") + b"\n" + challenge.encode("ascii"),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(str(info["proof"]), expected):
        return None
    return RunningSandbox(url, pid=pid)


def recognise(settings: "Settings") -> RunningSandbox | None:
    """A server ``BONJORO_BASE_URL`` names (set, not derived from an issuer or an endpoint) that is a
    sandbox: one of the sandbox's clients configured,
    loopback plain http, every endpoint in use on that one origin, none of them from a ``.env`` (untrusted input may not make a server
    look like the harmless sandbox), and ``GET /_sandbox/info`` says ``"sandbox": true``.

    Recognition changes what the app shows and offers (the SANDBOX badge, the approve shortcut,
    the explorer's ● marks); never where a credential may go: the profile stays bound to the
    server's origin (``settings.target_id``) and every rule of ``trust.py`` applies as before."""
    from bonjoro_tui.settings import SANDBOX, SANDBOX_CLIENTS

    if (settings.target == SANDBOX or not settings.base_url or "base_url" not in settings.explicit
            or settings.client_id not in SANDBOX_CLIENTS):
        # Only a client of the sandbox's own (sandbox-public, sandbox-confidential) is worth asking
        # about: no other server is sent a probe it did not expect.
        return None
    origin = settings.base_url.rstrip("/")
    match = _LOOPBACK_URL.fullmatch(origin)
    if match is None:
        return None
    keys = ("base_url", "authorize_url", "token_url", "revoke_url", "api_base")
    for key in keys:
        value = getattr(settings, key)
        if value is not None and not (value == origin or value.startswith(origin + "/")):
            return None
        if key in settings.untrusted:
            return None
    if _get_info(origin) is None:
        return None
    return RunningSandbox(origin, recognised=True)


def read_port(path: "Path") -> int | None:
    """The port the data directory's last in-process sandbox used (``sandbox/port``); None when
    absent, garbled, or not a plain file of ours (a symbolic link in its place is never followed,
    see bonjoro_tui.files)."""
    from bonjoro_tui.files import read_private

    try:
        raw = read_private(path, label="sandbox port file")
        port = int(raw.decode("ascii").strip()) if raw is not None else 0
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return port if 1024 <= port <= 65535 else None


def write_port(path: "Path", port: int) -> None:
    """Remember the port: 0600, never through a symbolic link. A refusal is skipped silently:
    it is only a preference, and the next run takes any free port."""
    import os

    from bonjoro_tui.files import open_private

    try:
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, label="sandbox port file")
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(f"{port}\n")
    except OSError:  # UnsafePathError included
        pass
