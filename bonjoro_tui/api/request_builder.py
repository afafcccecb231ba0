"""Building a request from the published definition: example bodies, filled paths, body checks.

Headless (no Textual): the explorer calls it, and anything else may.

- :func:`resolve_refs` inlines the local ``$ref``\\ s of a schema (the catalog keeps each
  operation's request schema resolved, so nothing else needs the whole document). The response
  check (``contract.py``) may use it too: it is the one ``$ref`` resolver of ``api/``.
- :func:`example_body` builds a body with **every required property** of the request schema.
  Bonjoro's definition declares ``required`` on a few schemas only (``POST /profiles``: ``email``);
  elsewhere — ``POST /greets`` among them, whose ``profiles`` the server refuses to go without —
  a property the schema does not allow to be ``null`` is taken as required and an optional one
  is ``nullable: true`` (:func:`required_properties`). Values come from what the app knows
  (``known``: an id from ``/me``, ids seen in the last list response, see :func:`harvest_ids`),
  else the schema's example, default, first enum value, a value for its format, or its type's.
- :func:`fill_path` puts path-parameter values into a template, percent-encoded; an empty one is
  refused (:class:`MissingPathValue`): ``{user_id}`` is never sent literally.
- :func:`validate_body` checks a body against the request schema (openapi-schema-validator, OAS
  3.0 write rules, imported when first called) and returns the differences as
  :class:`Difference` (path, expected, got).
- :func:`parse_headers` reads the explorer's ``Name: value`` lines; ``Authorization`` (and the
  other credential headers) stay the client's: refused, so a typed header cannot send the token
  elsewhere or replace it.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Iterable, Mapping, NamedTuple
from urllib.parse import quote

from bonjoro_tui.api.contract import json_type
from bonjoro_tui.errors import BonjoroError

__all__ = [
    "Difference",
    "HeaderError",
    "MissingPathValue",
    "RESERVED_HEADERS",
    "example_body",
    "fill_path",
    "harvest_ids",
    "optional_properties",
    "parse_headers",
    "path_param_names",
    "required_properties",
    "resolve_refs",
    "validate_body",
]

_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")
#: Request headers a user may not set: the client's own (the token, and what httpx computes).
RESERVED_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "host", "content-length", "transfer-encoding",
    "connection",
})
#: Values for a property with no example, by its ``format`` (a format "email | uuid" takes its first).
_BY_FORMAT: dict[str, Any] = {
    "email": "someone@example.com",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "date-time": "2026-01-01T00:00:00Z",
    "datetime": "2026-01-01 00:00:00",
    "date": "2026-01-01",
    "uri": "https://example.com/",
    "url": "https://example.com/",
}
_BY_TYPE: dict[str, Any] = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}
#: How deep an example or a resolved schema goes (a schema may refer to itself).
MAX_DEPTH = 12


class MissingPathValue(BonjoroError, ValueError):
    """A path parameter has no value: the request is not sent."""

    def __init__(self, names: list[str]) -> None:
        fields = ", ".join("{" + n + "}" for n in names)
        super().__init__(f"the path parameter{'s' if len(names) > 1 else ''} {fields} "
                         f"need{'' if len(names) > 1 else 's'} a value",
                         "Fill the path parameter fields (they are sent percent-encoded), or type the path by hand.")
        self.names = names


class HeaderError(BonjoroError, ValueError):
    """A request header line the explorer will not send."""


class Difference(NamedTuple):
    """One way a body departs from its schema: where, what the schema wants, what is there."""

    path: str  # "profiles[0]", "(body)" for the whole body
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.path} → expected {self.expected} → got {self.got}"


# ---- schemas -------------------------------------------------------------------------------------


def resolve_refs(spec: Mapping[str, Any], node: Any, _depth: int = 0, _seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` (``#/components/...``) replaced by a copy of its target.

    A reference that loops back on itself, goes deeper than ``MAX_DEPTH`` or points outside the
    document becomes ``{}`` (anything): the schema stays usable, it is only less strict there.
    """
    if _depth > MAX_DEPTH:
        return {}
    if isinstance(node, list):
        return [resolve_refs(spec, item, _depth + 1, _seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#/") or ref in _seen:
            return {}
        target: Any = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, (dict, list)):
            return {}
        return resolve_refs(spec, target, _depth + 1, (*_seen, ref))
    return {k: resolve_refs(spec, v, _depth + 1, _seen) if k not in ("example", "examples", "default", "enum")
            else copy.deepcopy(v) for k, v in node.items()}


def _properties(schema: Any) -> dict[str, Any]:
    """The properties of an object schema, those of its ``allOf`` parts included."""
    if not isinstance(schema, dict):
        return {}
    props: dict[str, Any] = {}
    for part in schema.get("allOf") or []:
        props.update(_properties(part))
    if isinstance(schema.get("properties"), dict):
        props.update(schema["properties"])
    return props


def _declared_required(schema: Any) -> list[str] | None:
    """The ``required`` lists of a schema and its ``allOf`` parts; None when none declares one."""
    if not isinstance(schema, dict):
        return None
    found: list[str] | None = None
    for part in [schema, *(schema.get("allOf") or [])]:
        if isinstance(part, dict) and isinstance(part.get("required"), list):
            found = (found or []) + [str(n) for n in part["required"] if str(n) not in (found or [])]
    return found


def required_properties(schema: Any) -> list[str]:
    """The properties a body must carry: the schema's ``required`` where it declares one, else
    (Bonjoro's definition mostly declares none) every property that may not be ``null``."""
    props = _properties(schema)
    declared = _declared_required(schema)
    if declared is not None:
        return [n for n in declared if n in props] + [n for n in declared if n not in props]
    return [n for n, p in props.items() if not (isinstance(p, dict) and (p.get("nullable") or p.get("readOnly")))]


def _inferred(schema: Any) -> bool:
    return _declared_required(schema) is None


# ---- example bodies ------------------------------------------------------------------------------


def _singular_id(name: str) -> str | None:
    """``profiles`` → ``profile_id`` (an array of ids named for what it lists)."""
    if name.endswith("ies"):
        return name[:-3] + "y_id"
    if name.endswith("s") and len(name) > 1:
        return name[:-1] + "_id"
    return None


def _formats(schema: dict) -> list[str]:
    fmt = schema.get("format")
    return [f.strip() for f in fmt.split("|")] if isinstance(fmt, str) else []


def _type(schema: dict) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and _properties(schema):
        return "object"
    return kind if isinstance(kind, str) else None


def _example(schema: Any, name: str | None, known: Mapping[str, Any], depth: int) -> Any:
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return ""
    if name is not None and name in known and _fits(schema, known[name]):
        return known[name]
    kind = _type(schema)
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if "example" in schema and isinstance(schema["example"], list):
            return copy.deepcopy(schema["example"])
        item_name = _singular_id(name) if name else None
        item = _example(items, item_name, known, depth + 1)
        min_items = schema.get("minItems")
        return [item] * max(1, min_items if isinstance(min_items, int) and min_items < 50 else 1)
    if kind == "object" and "example" not in schema:
        return example_body(schema, known, _depth=depth + 1)
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for fmt in _formats(schema):
        if fmt in _BY_FORMAT:
            return _BY_FORMAT[fmt]
    return copy.deepcopy(_BY_TYPE.get(kind or "string", ""))


def _fits(schema: dict, value: Any) -> bool:
    """Whether a known value may stand for a property of this schema (a string id for a string)."""
    kind = _type(schema)
    if kind in (None, "string"):
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return False


def example_body(schema: Any, known: Mapping[str, Any] | None = None, *, _depth: int = 0) -> Any:
    """A body for ``schema`` (resolved, see :func:`resolve_refs`) holding every required property.

    ``known`` maps a property name (``user_id``, ``profile_id``, ``assignee_id`` …) to a value the
    app has seen; an array property named for what it lists (``profiles``) takes ``profile_id``.
    An object schema gives a dict (``{}`` when nothing is required); any other a value of its type.
    """
    known = known or {}
    if not isinstance(schema, dict):
        return None
    if _type(schema) != "object":
        return _example(schema, None, known, _depth)
    if "example" in schema and isinstance(schema["example"], dict) and _depth == 0 and not known:
        return copy.deepcopy(schema["example"])
    props = _properties(schema)
    body: dict[str, Any] = {}
    for name in required_properties(schema):
        body[name] = _example(props.get(name, {}), name, known, _depth + 1)
    return body


def optional_properties(schema: Any) -> list[str]:
    """Documented properties :func:`example_body` leaves out (shown to the user as a hint)."""
    required = set(required_properties(schema))
    return [n for n in _properties(schema) if n not in required]


# ---- known values --------------------------------------------------------------------------------


def harvest_ids(path: str, document: Any, *, limit: int = 200) -> dict[str, str]:
    """Ids seen in a response, by the name a request would give them: a list at ``/greets``
    gives ``greet_id`` (its first item's ``id``), nested objects give theirs (``assignee`` →
    ``assignee_id``, ``profiles[0]`` → ``profile_id``). Only string or integer ids, as strings."""
    found: dict[str, str] = {}
    data = document.get("data", document) if isinstance(document, dict) else document
    resource = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    own = _singular_id(resource.replace("-", "_")) if resource and "{" not in resource else None
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    seen = 0

    def walk(node: Any, key: str | None, depth: int) -> None:
        nonlocal seen
        if depth > 4 or seen > limit:
            return
        seen += 1
        if isinstance(node, dict):
            ident = node.get("id")
            if key and isinstance(ident, (str, int)) and not isinstance(ident, bool) and str(ident):
                found.setdefault(key, str(ident))
            for k, v in node.items():
                if isinstance(v, dict):
                    walk(v, f"{k}_id", depth + 1)
                elif isinstance(v, list):
                    sub = _singular_id(k)
                    for item in v[:3]:
                        walk(item, sub, depth + 1)
        elif isinstance(node, list):
            for item in node[:3]:
                walk(item, key, depth + 1)

    for item in items[:3]:
        walk(item, own, 0)
    return found


# ---- paths and headers ---------------------------------------------------------------------------


def path_param_names(template: str) -> list[str]:
    """The ``{name}`` placeholders of a path template, in order, each once."""
    names: list[str] = []
    for name in _PLACEHOLDER.findall(template):
        if name not in names:
            names.append(name)
    return names


def fill_path(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{name}`` replaced by its value, percent-encoded as one segment.

    An empty value (or ``.``/``..``, which would move up the path) is refused with
    :class:`MissingPathValue`, naming every parameter that lacks one.
    """
    missing = [n for n in path_param_names(template) if str(values.get(n, "")).strip() in ("", ".", "..")]
    if missing:
        raise MissingPathValue(missing)
    return _PLACEHOLDER.sub(lambda m: quote(str(values[m.group(1)]).strip(), safe=""), template)


def parse_headers(text: str) -> dict[str, str]:
    """``Name: value`` lines (blank lines and ``#`` comments skipped) as a dict.

    Raises :class:`HeaderError` for a line without a colon, a name that is not a token, a value
    with a control character, or a header the client sets itself (``Authorization`` …).
    """
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, colon, value = stripped.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
            raise HeaderError(f"header line {number} is not 'Name: value'", "Write each header as Name: value.")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise HeaderError(f"the value of the header {name} holds a control character")
        if name.lower() in RESERVED_HEADERS:
            raise HeaderError(
                f"the {name} header is set by bonjoro-tui itself and cannot be replaced",
                "The client sends the signed-in token, only to the API's origin; remove the line.",
            )
        headers[name] = value
    return headers


# ---- validation ----------------------------------------------------------------------------------


def _json_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(body)"


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _strict(schema: Any, depth: int = 0) -> Any:
    """A copy of ``schema`` whose objects list their inferred required properties (see
    :func:`required_properties`), so the check asks for what the example body holds."""
    if depth > MAX_DEPTH or not isinstance(schema, dict):
        return schema
    out = {k: v for k, v in schema.items()}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _strict(v, depth + 1) for k, v in out["properties"].items()}
        if _inferred(schema) and not out.get("allOf"):
            required = required_properties(schema)
            if required:
                out["required"] = required
                out["x-required-inferred"] = True
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _strict(out[key], depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(out.get(key), list):
            out[key] = [_strict(s, depth + 1) for s in out[key]]
    return out


def validate_body(schema: Any, body: Any, *, limit: int = 50) -> list[Difference]:
    """How ``body`` departs from the request ``schema`` (resolved): at most ``limit`` differences,
    in document order. ``[]``: it matches. A property the definition does not mark required but
    does not allow to be null is asked for too (expected "present (not nullable)")."""
    if not isinstance(schema, dict) or not schema:
        return []
    # Imported on first use: start-up does not pay for them (tests/test_lazy_imports.py).
    from openapi_schema_validator import OAS30WriteValidator, oas30_format_checker

    validator = OAS30WriteValidator(_strict(schema), format_checker=oas30_format_checker)
    errors = []
    for error in validator.iter_errors(body):
        errors.append(error)
        if len(errors) >= 10 * limit:
            break
    differences: list[Difference] = []
    for error in sorted(errors, key=lambda e: [(0, p, "") if isinstance(p, int) else (1, 0, str(p))
                                              for p in e.absolute_path]):
        difference = _difference(error)
        if difference not in differences:
            differences.append(difference)
        if len(differences) >= limit:
            break
    return differences


def _difference(error: Any) -> Difference:
    where = list(error.absolute_path)
    kind, want, instance = error.validator, error.validator_value, error.instance
    if kind == "required":
        match = re.match(r"'([^']*)' is a required property", error.message)
        name = match.group(1) if match else "?"
        inferred = isinstance(error.schema, dict) and error.schema.get("x-required-inferred")
        return Difference(_json_path([*where, name]), "present (not nullable)" if inferred else "present (required)",
                          "missing")
    if kind == "type":
        expected = f"type {want}" if not isinstance(want, list) else "type " + " or ".join(map(str, want))
        got = "null" if instance is None else f"{json_type(instance)} {_short(instance, 40)}"
        return Difference(_json_path(where), expected, got)
    if kind == "enum":
        return Difference(_json_path(where), "one of " + ", ".join(_short(v, 20) for v in want), _short(instance))
    if kind == "format":
        return Difference(_json_path(where), f"format {want}", _short(instance))
    if kind in ("maxItems", "minItems"):
        return Difference(_json_path(where), f"{'at most' if kind == 'maxItems' else 'at least'} {want} items",
                          f"{len(instance) if isinstance(instance, list) else '?'} items")
    if kind in ("maxLength", "minLength"):
        return Difference(_json_path(where), f"{'at most' if kind == 'maxLength' else 'at least'} {want} characters",
                          f"{len(instance) if isinstance(instance, str) else '?'} characters")
    if kind == "additionalProperties":
        return Difference(_json_path(where), "no other properties", error.message)
    if kind == "nullable" or (instance is None and kind in ("type",)):
        return Difference(_json_path(where), "a value (not nullable)", "null")
    return Difference(_json_path(where), f"{kind} {_short(want, 40)}", _short(instance))
