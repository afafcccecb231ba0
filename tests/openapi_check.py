"""Check response bodies against Bonjoro's published OpenAPI v2 definition (the packaged copy).

``assert_matches_spec(method, path_template, status, body)`` finds the operation's response
schema for ``status`` and validates ``body`` with openapi-schema-validator (OAS 3.0).

The published definition has mistakes and gaps. They are corrected by an explicit list,
``ERRATA`` (kept in ``bonjoro_tui/api/contract.py``, which the explorer's check applies too;
also in docs/SANDBOX.md), applied to a copy; the packaged file stays untouched.
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
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator

import bonjoro_tui
# The corrections themselves are the product's (the explorer applies them too): one list, one
# reason each. Everything else here (the stricter rules below, the spec loading, the validator)
# is this check's own, so a mistake in the product check cannot hide one here.
from bonjoro_tui.api.contract import ERRATA, Erratum  # noqa: F401

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
