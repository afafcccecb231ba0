"""The sandbox's own small request/response layer on top of the ASGI scope.

uvicorn (h11) parses HTTP; this module only reads what the ASGI scope already carries,
decodes bodies with ``urllib.parse`` and ``json``, and sends responses as ASGI messages.

``Request`` and ``Response`` are plain classes, not dataclasses: building a dataclass runs
generated code at import (~1 ms each), a cost every sandbox start paid (issue 16, figure 10a).
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, urlencode

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

#: Bodies larger than this are refused (the sandbox never needs more).
MAX_BODY = 1024 * 1024

#: Headers every page and OAuth response carries.
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


class BadRequest(Exception):
    """The request cannot be read (body too large, malformed JSON, wrong content type...)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Request:
    __slots__ = ("method", "path", "query_string", "headers", "body", "client_host", "scheme", "state")

    def __init__(self, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes,
                 client_host: str | None, scheme: str = "http", state: dict[str, Any] | None = None) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = headers  # lower-cased names; repeated headers joined with ", "
        self.body = body
        self.client_host = client_host
        self.scheme = scheme
        self.state: dict[str, Any] = {} if state is None else state

    def __repr__(self) -> str:
        return f"Request(method={self.method!r}, path={self.path!r}, query_string={self.query_string!r})"

    @classmethod
    async def read(cls, scope: Mapping[str, Any], receive: Receive) -> Request:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", []):
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                raise BadRequest("request body too large", 413)
            chunks.append(chunk)
            more = message.get("more_body", False)
        client = scope.get("client")
        return cls(
            method=scope["method"].upper(),
            path=scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=b"".join(chunks),
            client_host=client[0] if client else None,
            scheme=scope.get("scheme", "http"),
        )

    @property
    def host(self) -> str:
        return self.headers.get("host", "")

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` as the client addressed us (the Host header is checked first)."""
        return f"{self.scheme}://{self.host}"

    @property
    def url(self) -> str:
        return self.origin + self.path + (f"?{self.query_string}" if self.query_string else "")

    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)

    def query(self) -> dict[str, str]:
        """Query parameters; the last value wins for a repeated name (see ``query_pairs``)."""
        return dict(self.query_pairs())

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def form_pairs(self) -> list[tuple[str, str]]:
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest("the form body is not UTF-8") from exc
        return parse_qsl(text, keep_blank_values=True)

    def json(self) -> Any:
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest("the body is not valid JSON") from exc
        try:  # "\ud800" is valid JSON but no valid text: refuse it before it is stored anywhere
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BadRequest("the JSON body contains a lone surrogate (invalid Unicode)") from exc
        return data

    def params(self) -> tuple[dict[str, Any], list[str]]:
        """The body as a flat dict, JSON or form-encoded alike, and the names given more than once.

        An empty body is an empty dict. Any other content type is a ``BadRequest``.
        """
        if not self.body:
            return {}, []
        if self.content_type == "application/json":
            data = self.json()
            if not isinstance(data, dict):
                raise BadRequest("the JSON body must be an object")
            return data, []
        if self.content_type in ("application/x-www-form-urlencoded", ""):
            pairs = self.form_pairs()
            names = [k for k, _ in pairs]
            repeated = sorted({k for k in names if names.count(k) > 1})
            return dict(pairs), repeated
        raise BadRequest(f"unsupported content type {self.content_type!r}", 415)


class Response:
    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers: dict[str, str] = {} if headers is None else headers

    def __repr__(self) -> str:
        return f"Response(status={self.status!r}, body={self.body[:60]!r}, headers={self.headers!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Response):
            return NotImplemented
        return (self.status, self.body, self.headers) == (other.status, other.body, other.headers)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    async def send(self, send: Send) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        headers["content-length"] = str(len(self.body))
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": self.body})


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(status, body, {"content-type": "application/json", **(headers or {})})


def html_response(html: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, html.encode("utf-8"), {"content-type": "text/html; charset=utf-8", **(headers or {})})


def redirect(location: str, status: int = 302, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, b"", {"location": location, **NO_STORE, **(headers or {})})


def add_query(uri: str, params: Mapping[str, str | None]) -> str:
    """Append parameters to a URI, keeping any query it already has (RFC 6749 §3.1.2)."""
    encoded = urlencode({k: v for k, v in params.items() if v is not None})
    if not encoded:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}{encoded}"
