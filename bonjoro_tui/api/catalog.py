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
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

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

    @property
    def spec_path(self) -> str:
        return API_PREFIX + self.path

    @property
    def path_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "path")

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


def _endpoint(spec: dict, spec_path: str, method: str, op: dict, shared: list) -> Endpoint:
    path = spec_path[len(API_PREFIX):] if spec_path.startswith(API_PREFIX + "/") else spec_path
    params: dict[tuple[str, str], Param] = {}
    for raw in [*shared, *op.get("parameters", [])]:
        p = _param(spec, raw)
        if p is not None:
            params[(p.name, p.location)] = p
    tags = op.get("tags") or ["Other"]
    body = op.get("requestBody")
    return Endpoint(
        method=method.upper(),
        path=path,
        summary=str(op.get("summary") or op.get("operationId") or ""),
        tag=str(tags[0]),
        operation_id=op.get("operationId"),
        params=tuple(params.values()),
        has_body=isinstance(body, dict),
        body_example=_body_example(spec, body) if isinstance(body, dict) else None,
        description=op.get("description"),
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
    schema = _resolve(spec, raw.get("schema") or {})
    return Param(
        name=str(raw["name"]),
        location=str(raw["in"]),
        required=bool(raw.get("required", raw.get("in") == "path")),
        type=schema.get("type") if isinstance(schema, dict) else None,
        description=raw.get("description"),
    )


def _body_example(spec: dict, body: dict) -> dict[str, Any] | None:
    """A starting JSON body built from the schema's property examples, when it has any; every
    required property is present (a value made up from its format or type when it has no example)."""
    content = body.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    if not isinstance(media, dict):
        return None
    if isinstance(media.get("example"), dict):
        return media["example"]
    schema = _resolve(spec, media.get("schema") or {})
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return None
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    example: dict[str, Any] = {}
    for name, prop in props.items():
        prop = _resolve(spec, prop)
        if not isinstance(prop, dict):
            continue
        if "example" in prop:
            example[name] = prop["example"]
        elif name in required:
            example[name] = _made_up(prop)
    return example or None


#: Values for a required property that has no example, by its ``format``, then by its ``type``.
_BY_FORMAT = {
    "email": "someone@example.com",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "uri": "https://example.com/",
    "url": "https://example.com/",
}
_BY_TYPE: dict[str, Any] = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}


def _made_up(prop: dict) -> Any:
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return prop["enum"][0]
    if "default" in prop:
        return prop["default"]
    if prop.get("format") in _BY_FORMAT:
        return _BY_FORMAT[prop["format"]]
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return _BY_TYPE.get(kind, "") if isinstance(kind, str) else ""
