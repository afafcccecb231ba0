"""Check response bodies against Bonjoro's published OpenAPI v2 definition (the packaged copy).

``assert_matches_spec(method, path_template, status, body)`` finds the operation's response
schema for ``status`` and validates ``body`` with openapi-schema-validator (OAS 3.0).

The published definition has mistakes and gaps. They are corrected here by an explicit list,
``ERRATA`` (also in docs/SANDBOX.md), applied to a copy; the packaged file stays untouched.
Nothing is loosened beyond what an erratum names. Two rules make the check *stricter* than
the published file, because its schemas declare no ``required`` at all and would accept ``{}``:

- every property a schema documents must be present (``null`` where the schema allows it),
  except the few that are conditional by nature (``OPTIONAL_PROPERTIES``);
- the formats the file uses are checked: ``uuid``, ``email``, ``uri`` (absolute, with a host)
  and the non-standard ``datetime`` (Bonjoro's ``Y-m-d H:i:s``).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator

import bonjoro_tui

SPEC_PATH = Path(bonjoro_tui.__file__).parent / "spec" / "bonjoro-api-v2-openapi.json"

#: Documented properties that may be absent from a body.
OPTIONAL_PROPERTIES = frozenset(
    {
        "signatures",  # userWithSignature: "Only visible when `includes` parameter is provided"
        "from_signature",  # userWithSignature: only with includes=signatures
        "replyto_signature",  # userWithSignature: only with includes=signatures
        "refresh_token",  # accessToken: absent for client_credentials (RFC 6749 §4.4.3)
    }
)


@dataclass(frozen=True)
class Erratum:
    name: str
    why: str
    apply: Callable[[dict[str, Any]], None]


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"]


def _fix_pagination(spec: dict[str, Any]) -> None:
    props = _schemas(spec)["pagination"]["properties"]
    props["prev_page_url"] = {"type": "string", "nullable": True}
    props["next_page_url"] = {"type": "string", "nullable": True}
    props["from"] = {"type": "integer", "nullable": True}


def _add_to_total(spec: dict[str, Any]) -> None:
    props = _schemas(spec)["pagination"]["properties"]
    props["to"] = {"type": "integer", "nullable": True}
    props["total"] = {"type": "integer"}


def _add_get_me(spec: dict[str, Any]) -> None:
    get_user = spec["paths"]["/api/v2/users/{user_id}"]["get"]
    spec["paths"]["/api/v2/me"]["get"] = {
        "summary": "Get the current user (seed's call; erratum)",
        "responses": {k: v for k, v in get_user["responses"].items() if k in ("200", "401")},
    }


def _fix_profiles_list(spec: dict[str, Any]) -> None:
    item = {"allOf": [{"$ref": f"#/components/schemas/{n}"} for n in ("profile", "profileDemographic", "timestamps")]}
    schema = {"allOf": [{"type": "object", "properties": {"data": {"type": "array", "items": item}}},
                        {"$ref": "#/components/schemas/pagination"}]}
    spec["paths"]["/api/v2/profiles"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = schema


def _add_seed_token_path(spec: dict[str, Any]) -> None:
    spec["paths"]["/oauth/token"] = copy.deepcopy(spec["paths"]["/api/v2/oauth/2/token"])


ERRATA: tuple[Erratum, ...] = (
    Erratum("pagination-nullable-urls",
            "pagination.prev_page_url is typed integer and next_page_url is not nullable, but Laravel sends "
            "a URL string or null; `from` is null on an empty page", _fix_pagination),
    Erratum("pagination-to-total",
            "pagination omits `to` and `total`, which Laravel's length-aware paginator always sends",
            _add_to_total),
    Erratum("get-me",
            "GET /api/v2/me (the seed's call) is not published; it answers like GET /api/v2/users/{user_id}",
            _add_get_me),
    Erratum("profiles-list",
            "GET /api/v2/profiles ('Get paginated profiles') publishes a single profile as its 200 schema; "
            "it is a page envelope of profiles", _fix_profiles_list),
    Erratum("seed-token-path",
            "POST /oauth/token (the seed's token path) is not published; it answers like "
            "POST /api/v2/oauth/2/token", _add_seed_token_path),
)

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
FORMATS = FormatChecker(["uuid", "email"])


@FORMATS.checks("datetime")
def _is_bonjoro_datetime(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATETIME.fullmatch(value))


@FORMATS.checks("uri")
def _is_absolute_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _require_documented(schema: Any) -> None:
    """Make every documented property required, walking schema keywords only (never examples)."""
    if not isinstance(schema, dict):
        return
    properties = schema.get("properties")
    if isinstance(properties, dict):
        required = [p for p in properties if p not in OPTIONAL_PROPERTIES]
        if required:
            schema["required"] = required
        for sub in properties.values():
            _require_documented(sub)
    for key in ("items", "additionalProperties", "not"):
        _require_documented(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            _require_documented(sub)


@lru_cache(maxsize=1)
def corrected_spec() -> dict[str, Any]:
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    for erratum in ERRATA:
        erratum.apply(spec)
    return spec


@lru_cache(maxsize=None)
def _validator(method: str, path_template: str, status: int) -> OAS30Validator:
    spec = corrected_spec()
    operation = spec["paths"].get(path_template, {}).get(method.lower())
    if operation is None:
        raise AssertionError(f"{method.upper()} {path_template} is not in the published definition (nor in ERRATA)")
    response = operation["responses"].get(str(status))
    if response is None:
        raise AssertionError(f"{method.upper()} {path_template} documents no {status} response "
                             f"(documented: {', '.join(operation['responses'])})")
    schema = copy.deepcopy(response["content"]["application/json"]["schema"])
    components = copy.deepcopy(spec["components"])
    for component in components["schemas"].values():
        _require_documented(component)
    _require_documented(schema)
    root = {**schema, "components": components}
    return OAS30Validator(root, format_checker=FORMATS)


def assert_matches_spec(method: str, path_template: str, status: int, body: Any) -> None:
    """Fail with every schema violation when ``body`` does not match the published response."""
    errors = sorted(_validator(method, path_template, status).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"- at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:15]]
        raise AssertionError(
            f"{method.upper()} {path_template} {status}: body does not match the published schema "
            f"({len(errors)} errors)\n" + "\n".join(lines)
        )


def operation_template(method: str, path: str) -> str | None:
    """The published path template a concrete path belongs to (most literal segments win)."""
    segments = path.rstrip("/").split("/")
    best: tuple[int, str] | None = None
    for template, operations in corrected_spec()["paths"].items():
        parts = template.split("/")
        if method.lower() not in operations or len(parts) != len(segments):
            continue
        if all(p == s or (p.startswith("{") and p.endswith("}")) for p, s in zip(parts, segments)):
            literal = sum(p == s for p, s in zip(parts, segments))
            if best is None or literal > best[0]:
                best = (literal, template)
    return best[1] if best else None


def assert_api_response(method: str, path: str, status: int, body: Any) -> None:
    """Validate any API response: against its operation's schema when the status is published,
    else against Bonjoro's two error shapes (``{"message": …}`` or ``{"error": {"message", "status_code"}}``).
    """
    template = operation_template(method, path)
    if template is not None:
        documented = corrected_spec()["paths"][template][method.lower()]["responses"]
        if str(status) in documented:
            assert_matches_spec(method, template, status, body)
            return
    assert status >= 400, f"{method} {path}: {status} is not a published response of {template}"
    if "error" in body:
        assert body == {"error": {"message": body["error"]["message"], "status_code": status}}, body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    else:
        assert list(body) == ["message"] and isinstance(body["message"], str) and body["message"], body
