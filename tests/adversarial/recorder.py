"""An attacker's server: records every request it gets (method, path, headers, body) and answers
as a token or revocation endpoint would, so a client that is fooled goes on as if all were well.

Served by uvicorn on 127.0.0.1 (a free port) in a thread; used as the destination a hostile
``.env`` points at. A test passes when ``requests`` stays empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from support import LoopbackServer, read_body


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    requests: list[Seen] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def carried(self, *secrets: str) -> list[str]:
        """Which of ``secrets`` any recorded request carried (anywhere: headers, path, body)."""
        blob = b"".join(s.path.encode() + json.dumps(s.headers).encode() + s.body for s in self.requests)
        return [s for s in secrets if s and s.encode() in blob]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.requests.append(Seen(scope["method"], scope["path"], headers, body))
        # A plausible answer for every endpoint it stands in for: a token response, an empty
        # revocation answer, a /me body.
        answer = {"access_token": "x" * 40, "token_type": "Bearer", "expires_in": 3600,
                  "data": {"id": 1, "name": "Mallory", "email": "m@example.test"}}
        payload = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


class RecorderServer(LoopbackServer):
    """``with RecorderServer() as recorder:`` — a :class:`Recorder` served on 127.0.0.1 (a free port)."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        super().__init__(self.recorder, name="the recorder")
        self.recorder.port = self.port

    def __enter__(self) -> Recorder:  # type: ignore[override]
        super().__enter__()
        return self.recorder
