"""A running sandbox says where it is, in its data directory, and proves who it is on its port.

The announcement (``data_dir/sandbox/running.json``; the caller gives the path) is written by the
sandbox that serves a data directory — the dashboard's in-process one, ``bonjoro-tui sandbox`` —
once it listens, and removed when it stops, only if it is still its own::

    {"version": 1, "url": "http://127.0.0.1:PORT", "pid": 1234, "secret": "<64 hex>"}

It is a private file (0600 in the 0700 sandbox directory, never through a symbolic link, replaced
atomically: :mod:`bonjoro_tui.files`). The secret never leaves the data directory: a reader proves
the sandbox on the port knows it by asking ``GET /_sandbox/info?challenge=<fresh random hex>`` and
comparing the answer's ``proof`` with :func:`proof` of its own — an HMAC-SHA256 of the challenge
and the URL under the secret. A process that took the port after the sandbox died (a squatter)
cannot answer it. The reader's side is written separately (``bonjoro_tui.account.sandbox``): the
sandbox shares no code with the client.

``GET /_sandbox/info`` without a challenge is public: ``{"sandbox": true, "name": …}`` tells a
client reached through ``BONJORO_BASE_URL`` that this server is a sandbox (for what it shows,
never for where a credential may go).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path
from typing import Iterator

from bonjoro_tui import files
from bonjoro_tui.sandbox.web import Request, Response, json_response

VERSION = 1
INFO_PATH = "/_sandbox/info"
#: What the HMAC is computed over: this context, the sandbox's URL, a newline, the challenge.
PROOF_CONTEXT = b"bonjoro-sandbox-proof/v1\n"
_CHALLENGE = re.compile(r"[0-9a-f]{32,128}")


def proof(secret: bytes, url: str, challenge: str) -> str:
    return hmac.new(secret, PROOF_CONTEXT + url.encode("ascii") + b"\n" + challenge.encode("ascii"),
                    hashlib.sha256).hexdigest()


class Identity:
    """What ``/_sandbox/info`` knows: the URL and secret of this sandbox's announcement (none
    until it announces)."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.secret: bytes | None = None

    def info(self, req: Request) -> Response:
        body: dict[str, object] = {"sandbox": True, "name": "Bonjoro sandbox", "version": VERSION}
        challenge = req.query().get("challenge")
        if challenge is not None:
            if not _CHALLENGE.fullmatch(challenge):
                return json_response({"error": "challenge must be 32 to 128 lowercase hex digits"}, 400)
            if self.secret is not None and self.url is not None:
                body["proof"] = proof(self.secret, self.url, challenge)
        return json_response(body, 200, {"cache-control": "no-store"})


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = files.open_private(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT,
                            label="sandbox announcement lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Announcement:
    """This process's announcement of one sandbox at ``path``."""

    def __init__(self, path: str | os.PathLike[str], url: str, identity: Identity) -> None:
        self.path = Path(path)
        self.url = url
        self.secret = secrets.token_bytes(32)
        self.pid = os.getpid()
        identity.url, identity.secret = url, self.secret
        self._identity = identity

    def write(self) -> None:
        """Announce (replacing any earlier announcement: the newest sandbox wins)."""
        files.private_dir(self.path.parent, label="sandbox state directory")
        data = {"version": VERSION, "url": self.url, "pid": self.pid, "secret": self.secret.hex()}
        with _locked(self.path):
            files.write_private_atomic(self.path, (json.dumps(data) + "\n").encode("ascii"),
                                       label="sandbox announcement")

    def remove(self) -> None:
        """Remove the announcement if it is still this one (another sandbox may have replaced it)."""
        self._identity.secret = None
        with contextlib.suppress(OSError), _locked(self.path):
            raw = files.read_private(self.path, label="sandbox announcement")
            try:
                mine = raw is not None and json.loads(raw).get("secret") == self.secret.hex()
            except (ValueError, AttributeError):
                mine = False
            if mine:
                os.unlink(self.path)
