"""The endpoint catalog, read from the packaged copy of Bonjoro's published OpenAPI v2 definition.

Paths are given relative to the API base (``/api/v2``) because that is how the client and
``bonjoro-tui api`` take them: ``/campaigns`` means ``{api_base}/campaigns``. The OAuth token
endpoint is left out (it is not an API call made with a bearer token). ``GET /me`` is added:
Bonjoro does not publish it (only ``POST /api/v2/me``), but the seed article calls it and the
sandbox serves it, so it is listed with ``published=False``.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from bonjoro_tui.api.request_builder import example_body, path_param_names, resolve_refs

SPEC_RESOURCE = "bonjoro-api-v2-openapi.json"
API_PREFIX = "/api/v2"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
_METHOD_ORDER = {m.upper(): i for i, m in enumerate(HTTP_METHODS)}
#: Spec paths that are not API calls made with a bearer token.
EXCLUDED_PATHS = frozenset({"/api/v2/oauth/2/token"})


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # "path", "query", "header" or "cookie"
    required: bool = False
    type: str | None = None
    description: str | None = None
    #: The schema's ``enum`` (empty: any value), ``default``, ``example`` (the parameter's own
    #: example first) and ``format``; an array parameter's are those of its items.
    enum: tuple[Any, ...] = field(default=(), compare=False, hash=False)
    default: Any = field(default=None, compare=False, hash=False)
    example: Any = field(default=None, compare=False, hash=False)
    format: str | None = None


@dataclass(frozen=True)
class Endpoint:
    method: str  # upper case
    path: str  # relative to the API base: "/campaigns/{campaign_id}"
    summary: str
    tag: str
    operation_id: str | None
    params: tuple[Param, ...] = ()
    published: bool = True  # False: not in Bonjoro's definition (served by the sandbox only)
    has_body: bool = False
    body_example: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    description: str | None = None
    #: The request body's schema with every ``$ref`` resolved (None: no JSON body documented),
    #: and its media type. ``request_builder`` builds and checks bodies from it.
    request_schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    body_media_type: str | None = None

    @property
    def spec_path(self) -> str:
        return API_PREFIX + self.path

    @property
    def path_params(self) -> tuple[Param, ...]:
        """The path's parameters, one for each ``{name}`` of the template, in its order (a declared
        one the template lacks cannot be sent and is left out; an undeclared one is a string)."""
        declared = {p.name: p for p in self.params if p.location == "path"}
        return tuple(declared.get(n, Param(n, "path", True, "string")) for n in path_param_names(self.path))

    @property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "query")

    def label(self) -> str:
        return f"{self.method} {self.path}"


ME_ENDPOINT = Endpoint(
    method="GET",
    path="/me",
    summary="The signed-in user (the seed's call; not published by Bonjoro, served by the sandbox)",
    tag="Users",
    operation_id=None,
    published=False,
)


def load_spec() -> dict[str, Any]:
    """The packaged OpenAPI document, parsed (a fresh copy each call)."""
    text = resources.files("bonjoro_tui").joinpath("spec", SPEC_RESOURCE).read_text(encoding="utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def _catalog() -> tuple[Endpoint, ...]:
    spec = load_spec()
    endpoints: list[Endpoint] = []
    for spec_path, item in spec.get("paths", {}).items():
        if spec_path in EXCLUDED_PATHS or not isinstance(item, dict):
            continue
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                endpoints.append(_endpoint(spec, spec_path, method, op, shared))
    if not any(e.method == "GET" and e.path == ME_ENDPOINT.path for e in endpoints):
        endpoints.append(ME_ENDPOINT)
    endpoints.sort(key=lambda e: (e.tag.lower(), e.path, _METHOD_ORDER.get(e.method, 99)))
    return tuple(endpoints)


def load_catalog() -> list[Endpoint]:
    """Every endpoint of the API, sorted by tag then path then method (parsed once, cached)."""
    return list(_catalog())


def find(method: str, path: str) -> Endpoint | None:
    method = method.upper()
    for e in _catalog():
        if e.method == method and e.path == path:
            return e
    return None


def match(method: str, path: str) -> Endpoint | None:
    """The endpoint a typed path calls: the template itself (``/users/{user_id}``), else the one
    whose template matches it (``/users/42``; a literal segment beats a placeholder). The query
    and a full URL's origin and ``/api/v2`` are ignored."""
    method = method.upper()
    bare = path.split("?", 1)[0].split("#", 1)[0]
    if "://" in bare:
        bare = "/" + bare.split("://", 1)[1].partition("/")[2]
        if bare.startswith(API_PREFIX + "/"):
            bare = bare[len(API_PREFIX):]
    bare = "/" + bare.strip("/") if bare.strip("/") else "/"
    exact = find(method, bare)
    if exact is not None:
        return exact
    best: tuple[int, Endpoint] | None = None
    for e in _catalog():
        if e.method != method or "{" not in e.path:
            continue
        pattern = "^" + "/".join(("[^/]+" if part.startswith("{") and part.endswith("}") else re.escape(part))
                                 for part in e.path.split("/")) + "$"
        if re.match(pattern, bare):
            literal = sum(1 for part in e.path.split("/") if part and not part.startswith("{"))
            if best is None or literal > best[0]:
                best = (literal, e)
    return best[1] if best else None


def _endpoint(spec: dict, spec_path: str, method: str, op: dict, shared: list) -> Endpoint:
    path = spec_path[len(API_PREFIX):] if spec_path.startswith(API_PREFIX + "/") else spec_path
    params: dict[tuple[str, str], Param] = {}
    for raw in [*shared, *op.get("parameters", [])]:
        p = _param(spec, raw)
        if p is not None:
            params[(p.name, p.location)] = p
    tags = op.get("tags") or ["Other"]
    body = _resolve(spec, op.get("requestBody"))
    media_type, media = _media(body) if isinstance(body, dict) else (None, None)
    schema = resolve_refs(spec, media.get("schema")) if isinstance(media, dict) and media.get("schema") else None
    return Endpoint(
        method=method.upper(),
        path=path,
        summary=str(op.get("summary") or op.get("operationId") or ""),
        tag=str(tags[0]),
        operation_id=op.get("operationId"),
        params=tuple(params.values()),
        has_body=isinstance(body, dict),
        body_example=_body_example(media, schema),
        description=op.get("description"),
        request_schema=schema if isinstance(schema, dict) else None,
        body_media_type=media_type,
    )


def _resolve(spec: dict, obj: Any) -> Any:
    """Follow a local ``$ref`` (``#/components/...``); anything else is returned as is."""
    seen = 0
    while isinstance(obj, dict) and isinstance(obj.get("$ref"), str) and seen < 10:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            return {}
        node: Any = spec
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        obj, seen = node, seen + 1
    return obj


def _param(spec: dict, raw: Any) -> Param | None:
    raw = _resolve(spec, raw)
    if not isinstance(raw, dict) or not raw.get("name") or not raw.get("in"):
        return None
    resolved = resolve_refs(spec, raw.get("schema") or {})
    schema: dict[str, Any] = resolved if isinstance(resolved, dict) else {}
    items = schema.get("items")
    values: dict[str, Any] = items if schema.get("type") == "array" and isinstance(items, dict) else schema
    enum: list[Any] = values["enum"] if isinstance(values.get("enum"), list) else []
    example = raw.get("example", schema.get("example", values.get("example")))
    return Param(
        name=str(raw["name"]),
        location=str(raw["in"]),
        required=bool(raw.get("required", raw.get("in") == "path")),
        type=schema.get("type") if isinstance(schema.get("type"), str) else None,
        description=raw.get("description") if isinstance(raw.get("description"), str) else None,
        enum=tuple(enum),
        default=schema.get("default"),
        example=example,
        format=values.get("format") if isinstance(values.get("format"), str) else None,
    )


def _media(body: dict) -> tuple[str | None, dict | None]:
    """The body's JSON media type (else its first) and that media object."""
    content = body.get("content") or {}
    if not isinstance(content, dict) or not content:
        return None, None
    kind = "application/json" if "application/json" in content else next(iter(content))
    media = content[kind]
    return kind, media if isinstance(media, dict) else None


def _body_example(media: dict | None, schema: Any) -> dict[str, Any] | None:
    """The media's own example, else a body with every required property (see
    ``request_builder.example_body``); None when the definition gives neither."""
    if not isinstance(media, dict):
        return None
    if isinstance(media.get("example"), dict):
        return media["example"]
    body = example_body(schema) if isinstance(schema, dict) else None
    return body if isinstance(body, dict) and body else None
