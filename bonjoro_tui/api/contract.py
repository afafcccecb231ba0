"""Does a response match Bonjoro's published definition? The explorer's contract check.

``check(method, path_template, status, document)`` finds the operation's response schema for
``status`` in the packaged OpenAPI file (``bonjoro_tui/spec``), validates the parsed body with
openapi-schema-validator (OAS 3.0, ``$ref``s resolved against the file's components) and
returns a :class:`ContractResult`: ``matched`` True or False with each :class:`Difference`
(where, what the definition says, what came), or None when the definition has no schema for
that operation and status (``reason`` says which).

The published definition has known mistakes. ``ERRATA`` corrects them on a copy, each with its
reason (also listed in docs/SANDBOX.md); ``tests/openapi_check.py`` applies the same list, with
stricter rules of its own. Because the file's schemas declare no ``required`` at all (``{}``
would match anything), this check expects every documented property to be present — ``null``
only where the schema says nullable — except those documented as conditional
(``CONDITIONAL_PROPERTIES``). Formats (``uuid``, ``uri``, …) are not checked here.

Headless (no Textual): the validator and jsonschema are imported inside the functions, so
importing this module costs nothing at start-up. Validating a large body takes time: callers on
an event loop run :func:`check` in a thread.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

SPEC_PATH = Path(__file__).resolve().parent.parent / "spec" / "bonjoro-api-v2-openapi.json"
#: The published paths start with this; the explorer's paths are relative to the API base.
API_PREFIX = "/api/v2"
#: At most this many differences are listed (``ContractResult.total`` counts them all).
MAX_DIFFERENCES = 200
#: A value shown as "got" is cut to this many characters.
GOT_LIMIT = 60
#: Of a longer array only this many items are checked (``ContractResult.sampled`` says where):
#: jsonschema takes about a millisecond an item, a minute for a page of 60,000.
SAMPLE_ITEMS = 200


# -- errata -----------------------------------------------------------------------------------


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


def _walk_schemas(node: Any, fix: Callable[[str, dict[str, Any]], None]) -> None:
    """Call ``fix(name, schema)`` for every property schema under ``node`` (components and paths)."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict):
                    fix(name, sub)
        for value in node.values():
            _walk_schemas(value, fix)
    elif isinstance(node, list):
        for value in node:
            _walk_schemas(value, fix)


def _fix_awaiting_reply(spec: dict[str, Any]) -> None:
    def fix(name: str, schema: dict[str, Any]) -> None:
        if name == "awaiting_reply" and schema.get("type") == "string" and schema.get("format") == "boolean":
            schema.clear()
            schema.update({"type": "boolean", "nullable": True})

    _walk_schemas(spec, fix)


def _fix_datetime_type(spec: dict[str, Any]) -> None:
    def fix(name: str, schema: dict[str, Any]) -> None:
        if schema.get("type") == "datetime":
            schema["type"] = "string"
            schema["format"] = "date-time"

    _walk_schemas(spec, fix)


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
    Erratum("awaiting-reply-boolean",
            "result.awaiting_reply and resultStats.awaiting_reply are typed string (format boolean) with the "
            "enum [true, false]: no value can match both; the enum says a boolean (or null)", _fix_awaiting_reply),
    Erratum("datetime-type",
            "greetResult's greet.last_modified_at has the type `datetime`, which JSON Schema does not know (a "
            "validator refuses the whole schema); its example is an ISO 8601 string", _fix_datetime_type),
)

#: Documented properties the definition itself says are sometimes absent.
CONDITIONAL_PROPERTIES = frozenset(
    {
        "signatures",  # userWithSignature: "Only visible when `includes` parameter is provided"
        "from_signature",  # userWithSignature: only with includes=signatures
        "replyto_signature",  # userWithSignature: only with includes=signatures
        "refresh_token",  # accessToken: absent for client_credentials (RFC 6749 §4.4.3)
    }
)


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One place where the body departs from the schema (all plain text: ``got`` is server data)."""

    path: str  # "data[0].id", or "(body)"
    expected: str  # "string", "string or null", "present (string)", "one of open, closed"
    got: str  # "absent", "integer 42", 'string "abc"'


@dataclass(frozen=True)
class ContractResult:
    #: True: matches; False: see ``differences``; None: not checked (``reason`` says why).
    matched: bool | None
    differences: list[Difference] = field(default_factory=list)
    #: "GET /greets 200": the operation and status checked against.
    operation: str = ""
    #: Why nothing was checked (matched None).
    reason: str = ""
    #: How many differences there are (``differences`` holds at most MAX_DIFFERENCES).
    total: int = 0
    #: Arrays of which only the first SAMPLE_ITEMS items were checked: (path, length).
    sampled: list[tuple[str, int]] = field(default_factory=list)


# -- the definition ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def corrected_spec() -> dict[str, Any]:
    """The packaged definition with ``ERRATA`` applied (a copy; the file is never changed)."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    for erratum in ERRATA:
        erratum.apply(spec)
    return spec


def _spec_path(path_template: str) -> str:
    paths = corrected_spec()["paths"]
    if path_template in paths:
        return path_template
    return API_PREFIX + "/" + path_template.lstrip("/")


def _shown(spec_path: str) -> str:
    return spec_path[len(API_PREFIX):] or "/" if spec_path.startswith(API_PREFIX + "/") else spec_path


def operation_for(method: str, path: str) -> str | None:
    """The published path template (relative to the API base) a concrete path belongs to, or None.

    ``path`` is relative to the API base (``/users/9b1c``) or starts with ``/api/v2``; a query is
    ignored. Where several templates fit, the one with the most literal segments wins
    (``/greets/results`` over ``/greets/{greet_id}``).
    """
    path = path.split("?", 1)[0].split("#", 1)[0]
    full = path if path.startswith(API_PREFIX + "/") else API_PREFIX + "/" + path.lstrip("/")
    segments = full.rstrip("/").split("/")
    best: tuple[int, str] | None = None
    for template, operations in corrected_spec()["paths"].items():
        parts = template.split("/")
        if method.lower() not in operations or len(parts) != len(segments):
            continue
        if all(p == s or (p.startswith("{") and p.endswith("}")) for p, s in zip(parts, segments)):
            literal = sum(p == s for p, s in zip(parts, segments))
            if best is None or literal > best[0]:
                best = (literal, template)
    return _shown(best[1]) if best else None


def _expect_documented(schema: Any) -> None:
    """Make every documented property required, walking schema keywords only (never examples)."""
    if not isinstance(schema, dict):
        return
    properties = schema.get("properties")
    if isinstance(properties, dict):
        required = [p for p in properties if p not in CONDITIONAL_PROPERTIES]
        if required:
            schema["required"] = sorted(set(required) | set(schema.get("required") or ()))
        for sub in properties.values():
            _expect_documented(sub)
    for key in ("items", "additionalProperties", "not"):
        _expect_documented(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            _expect_documented(sub)


@lru_cache(maxsize=1)
def _components() -> dict[str, Any]:
    components = copy.deepcopy(corrected_spec()["components"])
    for component in components.get("schemas", {}).values():
        _expect_documented(component)
    return components


def response_schema(method: str, path_template: str, status: int) -> tuple[dict[str, Any] | None, str]:
    """The corrected JSON schema of this response, or (None, why there is none)."""
    spec_path = _spec_path(path_template)
    operation = corrected_spec()["paths"].get(spec_path, {}).get(method.lower())
    name = f"{method.upper()} {_shown(spec_path)}"
    if not isinstance(operation, dict):
        return None, f"{name} is not in the published definition"
    responses = operation.get("responses") or {}
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if response is None:
        documented = ", ".join(responses) or "none"
        return None, f"the published definition documents no {status} answer for {name} (documented: {documented})"
    schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
    if schema is None:
        return None, f"the published definition gives no JSON schema for {name} {status}"
    schema = copy.deepcopy(schema)
    _expect_documented(schema)
    return schema, ""


@lru_cache(maxsize=64)
def _validator(method: str, path_template: str, status: int) -> Any:
    from openapi_schema_validator import OAS30Validator  # lazy: start-up never pays for it

    schema, _ = response_schema(method, path_template, status)
    return OAS30Validator({**(schema or {}), "components": _components()})


# -- the check --------------------------------------------------------------------------------


def check(method: str, path_template: str, status: int, document: Any) -> ContractResult:
    """Validate a parsed response body against the published schema of its operation and status.

    ``path_template`` is the catalog's (``/users/{user_id}``, relative to the API base) or the
    published one (``/api/v2/users/{user_id}``).
    """
    spec_path = _spec_path(path_template)
    operation = f"{method.upper()} {_shown(spec_path)} {status}"
    schema, reason = response_schema(method, path_template, status)
    if schema is None:
        return ContractResult(None, operation=operation, reason=reason)
    sampled: list[tuple[str, int]] = []
    document = _sample(document, [], sampled)
    seen: set[Difference] = set()  # jsonschema reports a missing property once per name
    differences: list[Difference] = []
    try:
        validator = _validator(method.upper(), spec_path, status)
        for error in validator.iter_errors(document):
            for difference in _differences(error):
                if difference not in seen:
                    seen.add(difference)
                    if len(differences) < MAX_DIFFERENCES:
                        differences.append(difference)
    except Exception as exc:  # noqa: BLE001 - jsonschema's UnknownType, an unresolvable $ref: the schema is unusable
        return ContractResult(None, operation=operation,
                              reason=f"the published schema of {operation} cannot be used ({type(exc).__name__}: "
                                     f"{str(exc).splitlines()[0][:200] if str(exc) else ''})")
    differences.sort(key=lambda d: _path_key(d.path))
    return ContractResult(not seen, differences, operation=operation, total=len(seen), sampled=sampled)


def _sample(value: Any, where: list[Any], sampled: list[tuple[str, int]]) -> Any:
    """``value`` with every array longer than SAMPLE_ITEMS cut to its first items (copies only
    what it cuts through; the parsed body itself is left alone)."""
    if isinstance(value, list):
        items = value
        if len(value) > SAMPLE_ITEMS:
            sampled.append((_path(where), len(value)))
            items = value[:SAMPLE_ITEMS]
        cut = [_sample(item, where + [i], sampled) for i, item in enumerate(items)]
        return cut if len(value) > SAMPLE_ITEMS or any(a is not b for a, b in zip(cut, items)) else value
    if isinstance(value, dict):
        cut_dict = {k: _sample(v, where + [k], sampled) for k, v in value.items()}
        return cut_dict if any(cut_dict[k] is not v for k, v in value.items()) else value
    return value


def _differences(error: Any) -> list[Difference]:
    where = list(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        properties = schema.get("properties") or {}
        return [Difference(_path(where + [name]), f"present ({_type_of(properties.get(name))})", "absent")
                for name in error.validator_value if name not in present]
    if kind == "type":
        return [Difference(_path(where), _type_of(schema), _got(error.instance))]
    if kind == "enum":
        choices = ", ".join(_short(v) for v in error.validator_value)
        return [Difference(_path(where), f"one of {choices}", _got(error.instance))]
    if kind in ("anyOf", "oneOf"):
        return [Difference(_path(where), f"{kind} of {len(error.validator_value)} documented shapes", _got(error.instance))]
    if kind == "additionalProperties":
        return [Difference(_path(where), "no other properties", _short(error.message, 120, raw=True))]
    expected = f"{kind} {_short(error.validator_value, 40)}"
    return [Difference(_path(where), expected, _got(error.instance))]


def _path(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def _path_key(path: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", path) if p]


def _type_of(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "documented"
    kind = schema.get("type")
    if kind is None and isinstance(schema.get("$ref"), str):
        kind = schema["$ref"].rsplit("/", 1)[-1]  # the component's name: "user"
    elif kind is None:
        kind = "object" if "allOf" in schema else "any"
    if isinstance(kind, list):
        kind = " or ".join(map(str, kind))
    return f"{kind} or null" if schema.get("nullable") else str(kind)


def json_type(value: Any) -> str:
    """The JSON Schema type name of a parsed JSON value (also the request builder's)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _got(value: Any) -> str:
    kind = json_type(value)
    if value is None:
        return kind
    if isinstance(value, dict):
        return f"object of {len(value)} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, list):
        return f"array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"{kind} {_short(value)}"


def _short(value: Any, limit: int = GOT_LIMIT, *, raw: bool = False) -> str:
    """``value`` as JSON (or as it is with ``raw``), cut to ``limit`` characters."""
    text = str(value) if raw else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
