"""The generic resource engine: every operation of Bonjoro's published definition, answered.

Driven by the packaged definition (``bonjoro_tui/spec``, read with ``importlib.resources`` on
the first API request, never at import): each operation's path, parameters, request and
response schemas decide how it is answered.

- The *collection* of an operation is the literal part of its path before the first parameter
  (``/automations/{automation_id}`` → ``automations``); the first path parameter is the record's
  id. Lists (``GET`` of a collection) answer Laravel's page envelope (``page``, ``limit``,
  ``search``, ``sort``, the documented filters); ``GET``/``PUT``/``PATCH``/``DELETE`` of an item
  read, update and delete it; ``POST`` of a collection creates. Unknown ids: the published 404.
- Bodies are validated against the operation's request schema with openapi-schema-validator
  (``required`` as declared, else every non-nullable property of a ``POST``), and relations
  (``greet_id``, ``profile_id``, ``assignee_id``, …) must name existing records: 400 in
  Bonjoro's error shape naming the field.
- Answers are *rendered through the response schema*: the stored record gives the values it
  has, anything else the schema documents is generated deterministically from the record's id
  (so every documented field is present and the same on every read).
- A few operations have rules of their own (``RULES``: verify, resend, rollup, upload-url,
  notifications/reads, a greet's profiles, results, availabilities, …); docs/SANDBOX.md lists
  which semantics are inferred.

Seeded records of the collections the definition adds (automations, domains, media, …) are
generated from their schemas with a fixed seed (``SEED``), ``BASE_COUNT`` each.
"""

from __future__ import annotations

import copy
import json
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from bonjoro_tui.sandbox.seed import BASE_TIME, MEDIA, FIRST, LAST, ts
from bonjoro_tui.sandbox.world import Collection, CollectionFull, EngineError, state_world

if TYPE_CHECKING:
    from bonjoro_tui.sandbox.grants import Principal
    from bonjoro_tui.sandbox.state import SandboxState
    from bonjoro_tui.sandbox.web import Request

PREFIX = "/api/v2"
SEED = "bonjoro-sandbox/engine/v1"
#: Seeded records of each collection the engine generates (two pages at the default 15).
BASE_COUNT = 24
#: Paths the OAuth layer answers before the API (listed as served, never handled here).
TOKEN_TEMPLATES = ("/oauth/2/token",)
PER_PAGE, LIST_CAP = 15, 100
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}")


__all__ = ["EngineError", "answer", "match", "operations"]


# -- the definition ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    from importlib import resources

    raw = (resources.files("bonjoro_tui") / "spec" / "bonjoro-api-v2-openapi.json").read_bytes()
    return json.loads(raw)


def resolve(schema: Any) -> dict[str, Any]:
    """Follow ``$ref``s (local ones only) to a schema object."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/components/schemas/"):
            return {}
        schema = spec()["components"]["schemas"].get(ref.rsplit("/", 1)[1], {})
        seen += 1
    return schema if isinstance(schema, dict) else {}


def properties(schema: Any) -> dict[str, Any]:
    """Every property a schema documents (``allOf`` merged)."""
    schema = resolve(schema)
    props: dict[str, Any] = dict(schema.get("properties") or {})
    for sub in schema.get("allOf") or []:
        props.update(properties(sub))
    return props


def _is_pagination(schema: Any) -> bool:
    if isinstance(schema, dict) and schema.get("$ref", "").endswith("/pagination"):
        return True
    return "per_page" in (resolve(schema).get("properties") or {})


def list_shape(schema: Any) -> tuple[dict[str, Any], bool] | None:
    """(item schema, paginated) when the schema is a list of records ``{data: [...]}``."""
    schema = resolve(schema)
    parts = [schema, *(schema.get("allOf") or [])]
    data = properties(schema).get("data")
    data = resolve(data) if data is not None else None
    if not data or data.get("type") != "array":
        return None
    return resolve(data.get("items") or {}), any(_is_pagination(p) for p in parts[1:])


@dataclass
class Operation:
    method: str
    template: str  # relative to /api/v2
    op: dict[str, Any]
    literal: int
    segments: list[str]
    path_params: list[str]
    collection: str
    status: int
    schema: dict[str, Any]
    body_schema: dict[str, Any] | None
    body_type: str | None
    documented: frozenset[str] = field(default_factory=frozenset)

    @property
    def query_params(self) -> list[str]:
        return [p.get("name", "") for p in self.op.get("parameters") or [] if isinstance(p, dict) and p.get("in") == "query"]

    @property
    def ends_with_param(self) -> bool:
        return self.segments[-1].startswith("{")

    @property
    def regex(self) -> re.Pattern[str]:
        """The template as a regex (for ``api.ROUTES``, the explorer's served marks; matching a
        request compares segments instead, which costs no compiling at start-up)."""
        return _template_regex(self.template)

    def args(self, segments: list[str]) -> dict[str, str] | None:
        """The path arguments when ``segments`` fit this template, else None."""
        if len(segments) != len(self.segments):
            return None
        args = {}
        for want, got in zip(self.segments, segments):
            if want.startswith("{"):
                if not got:
                    return None
                args[want[1:-1]] = got
            elif want != got:
                return None
        return args


@lru_cache(maxsize=None)
def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "/?$")


@lru_cache(maxsize=1)
def operations() -> list[Operation]:
    found = []
    for path, item in spec()["paths"].items():
        if not path.startswith(PREFIX + "/"):
            continue
        template = path[len(PREFIX):]
        segments = template.strip("/").split("/")
        params = [s[1:-1] for s in segments if s.startswith("{")]
        literal = [s for s in segments if not s.startswith("{")]
        first_param = next((i for i, s in enumerate(segments) if s.startswith("{")), len(segments))
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete") or not isinstance(op, dict):
                continue
            responses = op.get("responses") or {}
            ok = next((k for k in responses if k.startswith("2")), "200")
            schema = ((responses.get(ok) or {}).get("content") or {}).get("application/json", {}).get("schema") or {}
            content = (op.get("requestBody") or {}).get("content") or {}
            body_type = next(iter(content), None)
            body_schema = content[body_type].get("schema") if body_type else None
            found.append(Operation(
                method=method.upper(), template=template, op=op, literal=len(literal), segments=segments, path_params=params,
                collection="/".join(segments[:first_param]), status=int(ok), schema=schema,
                body_schema=body_schema, body_type=body_type, documented=frozenset(responses),
            ))
    return found


@lru_cache(maxsize=1)
def _by_length() -> dict[int, list[Operation]]:
    found: dict[int, list[Operation]] = {}
    for op in operations():
        found.setdefault(len(op.segments), []).append(op)
    return found


def match(method: str, path: str) -> tuple[Operation | None, dict[str, str], list[str], int]:
    """(operation, path arguments, methods allowed at the best-matching templates, literal count)."""
    best: list[tuple[Operation, dict[str, str]]] = []
    best_literal = -1
    trimmed = path[:-1] if path.endswith("/") and len(path) > 1 else path
    segments = trimmed[1:].split("/") if trimmed.startswith("/") else [trimmed]
    for op in _by_length().get(len(segments), ()):
        args = op.args(segments)
        if args is None:
            continue
        if op.literal > best_literal:
            best, best_literal = [(op, args)], op.literal
        elif op.literal == best_literal:
            best.append((op, args))
    for op, args in best:
        if op.method == method:
            return op, args, [], best_literal
    return None, {}, sorted({op.method for op, _ in best}), best_literal


# -- values generated from a schema -------------------------------------------------------------

_WORDS = ("welcome", "video", "onboarding", "trial", "customer", "thanks", "renewal", "team", "follow-up",
          "webinar", "signup", "upgrade", "feedback", "launch", "check-in")
#: First words of a person's name in the definition's examples ("John Jones", "Tony Stark").
_PEOPLE = frozenset({"John", "Jane", "Tony", "Frank", "Jack", "Mary", "Peter", "Bruce", *FIRST})
_COLORS = ("#fc5a00", "#2d6cdf", "#1a936f", "#ffffff", "#222222")


def _rng(key: str) -> random.Random:
    return random.Random(f"{SEED}/{key}")


def _uuid_of(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _type_ok(schema: dict[str, Any], value: Any) -> bool:
    """Whether a stored scalar fits a (resolved) scalar schema, formats included."""
    if value is None:
        return bool(schema.get("nullable"))
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        return False
    kind = schema.get("type")
    if kind == "string":
        if not isinstance(value, str):
            return False
        fmt = schema.get("format")
        if fmt == "uuid":
            return bool(_UUID.fullmatch(value))
        if fmt == "datetime":
            return bool(_DATETIME.fullmatch(value))
        if fmt == "email":
            return "@" in value
        if fmt == "uri":
            return value.startswith(("http://", "https://", "/"))
        return True
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


class Faker:
    """Realistic values for a schema, a pure function of (record key, property path)."""

    def __init__(self, world: EngineWorld) -> None:
        self.world = world

    def value(self, schema: Any, key: str, name: str, depth: int = 0) -> Any:
        schema = resolve(schema)
        for choice in ("oneOf", "anyOf"):
            if schema.get(choice):
                return self.value(schema[choice][0], key, name, depth)
        if "allOf" in schema or schema.get("type") == "object" or "properties" in schema:
            return self.record(schema, f"{key}/{name}" if name else key, depth)
        rng = _rng(f"{key}/{name}")
        enum = schema.get("enum")
        kind = schema.get("type")
        if enum is not None and enum and all(isinstance(v, bool) for v in enum):
            return rng.random() < 0.5  # `awaiting_reply`: a boolean enum typed string (docs/SANDBOX.md)
        if enum is not None:
            fitting = [v for v in enum if _type_ok({"type": kind} if kind else {}, v)] if kind else list(enum)
            if fitting:
                return rng.choice(fitting)
            return None if schema.get("nullable") else (enum[0] if enum else None)
        if kind == "array":
            if depth > 3:
                return []
            items = schema.get("items") or {}
            return [self.value(items, f"{key}/{name}[{i}]", name, depth + 1) for i in range(1 + rng.randrange(2))]
        if kind == "boolean":
            example = schema.get("example")
            return example if isinstance(example, bool) and rng.random() < 0.5 else rng.random() < 0.5
        if kind == "integer":
            if name == "id" or name.endswith("_id"):
                return 1 + rng.randrange(900)
            if name in ("count", "total") or name.startswith(("total", "num")):
                return rng.randrange(200)
            if "percentage" in name or "rate" in name:
                return rng.randrange(101)
            if name in ("expires", "expires_in"):
                return 3600
            example = schema.get("example")
            return example if isinstance(example, int) and not isinstance(example, bool) and rng.random() < 0.3 else rng.randrange(1, 500)
        if kind == "number":
            if name == "id" or name.endswith("_id") or "percentage" in name:
                return 1 + rng.randrange(100)
            return round(rng.uniform(0, 100), 1)
        if kind == "datetime":  # `last_modified_at`: a type the definition invents; its example is
            # ISO 8601 as Laravel serializes a date by default (erratum datetime-type, docs/SANDBOX.md)
            moment = BASE_TIME - timedelta(hours=rng.randrange(24 * 120))
            return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        if kind in ("string", None):
            return self.string(schema, rng, key, name)
        return None

    def record(self, schema: Any, key: str, depth: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if depth > 5:
            return out
        for name, sub in properties(schema).items():
            related = self.world.related(name, sub, key)
            out[name] = related if related is not None else self.value(sub, key, name, depth + 1)
        return out

    def string(self, schema: dict[str, Any], rng: random.Random, key: str, name: str) -> str:
        fmt = schema.get("format")
        ident = key.rsplit("/", 1)[-1]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if fmt == "uri" and not name.endswith("_url"):
            return f"{MEDIA}/{self.world.path_of(key)}/{name}"
        if fmt in ("email", "datetime", "uuid"):
            name = {"email": "email", "datetime": "occured_at", "uuid": "uuid"}[fmt]
        if fmt == "uuid" or name in ("id", "uuid") or name.endswith(("_id", "_uuid")):
            return _uuid_of(rng)
        if fmt == "datetime" or name.endswith("_at") or name in ("date", "occured_at"):
            return ts(BASE_TIME - timedelta(hours=rng.randrange(24 * 120), minutes=rng.randrange(60)))
        if fmt == "email" or "email" in name or name == "address":
            return f"{first.lower()}.{last.lower()}{rng.randrange(100)}@mail.example"
        if name == "team_url":
            return f"{PREFIX}/teams/{self.world.state.seed.team_id}"
        if name.endswith("_url") or name == "url" or fmt == "uri":
            if name.endswith("_url"):  # made absolute for the request's origin (api._absolute_json)
                return f"{PREFIX}/{self.world.path_of(key)}" + ("" if name == "self_url" else f"/{name[:-4].replace('_', '-')}")
            return f"{MEDIA}/{self.world.path_of(key)}/{name}"
        if name in ("image", "avatar", "logo", "thumbnail", "thumb", "video", "file", "background"):
            return f"{MEDIA}/{self.world.path_of(key)}/{name}.png"
        if name == "first_name":
            return first
        if name == "last_name":
            return last
        example = schema.get("example")
        if name in ("name", "full_name", "author_name", "recipient_name", "title"):
            if isinstance(example, str) and example.split(" ")[0] not in _PEOPLE and name != "full_name":
                return example if rng.random() < 0.4 else f"{example} {rng.choice(_WORDS)}"
            return f"{first} {last}"
        if name.startswith(("is", "has")) and name[2:3].isupper() or name.startswith(("is_", "has_")):
            return rng.choice(["true", "false"])  # a flag the definition types as a string
        if isinstance(example, str) and re.fullmatch(r"[0-9]{1,6}", example):
            return str(rng.randrange(0, 300))
        if "color" in name:
            return rng.choice(_COLORS)
        if name in ("domain", "domain_name", "subdomain", "landing_page_subdomain"):
            return f"{rng.choice(_WORDS)}{rng.randrange(100)}.example"
        if name in ("slug", "tags", "tag", "service", "trigger", "action", "provider", "via", "topic"):
            example = schema.get("example")
            return example if isinstance(example, str) and example else rng.choice(_WORDS)
        if name in ("message", "content", "body", "note", "description", "subject", "title", "text", "goal",
                    "reason", "bio", "subject_line", "message_template"):
            example = schema.get("example")
            if isinstance(example, str) and example and rng.random() < 0.5:
                return example
            return f"{rng.choice(_WORDS).capitalize()} {rng.choice(_WORDS)} for {first} ({ident[:8]})"
        if name in ("phone", "mobile"):
            return f"+61 4{rng.randrange(10**7, 10**8)}"
        if name in ("timezone",):
            return "UTC"
        example = schema.get("example")
        if isinstance(example, str) and example:
            return example
        return f"{rng.choice(_WORDS)}-{rng.randrange(1000)}"


# -- rendering a stored record through a response schema -------------------------------------


def render(schema: Any, value: Any, faker: Faker, key: str, name: str = "", depth: int = 0) -> Any:
    """``value`` made to fit ``schema``: what fits is kept, what is missing or does not fit is
    generated (deterministically from ``key``); keys the schema does not document are kept."""
    schema = resolve(schema)
    if depth > 12:
        return value
    for choice in ("oneOf", "anyOf"):
        if schema.get(choice):
            return render(schema[choice][0], value, faker, key, name, depth)
    is_object = "allOf" in schema or "properties" in schema or schema.get("type") == "object"
    if is_object:
        if value is None and schema.get("nullable"):
            return None
        props = properties(schema)
        if not props:
            return value if isinstance(value, dict) else {}
        source = value if isinstance(value, dict) else {}
        out = dict(source)
        sub_key = f"{key}/{name}" if name and not isinstance(source.get("id"), (str, int)) else (
            f"{key}/{source['id']}" if name else key)
        for prop, sub in props.items():
            if prop in source:
                out[prop] = render(sub, source[prop], faker, sub_key, prop, depth + 1)
            else:
                related = faker.world.related(prop, sub, sub_key)
                out[prop] = related if related is not None else faker.value(sub, sub_key, prop, depth + 1)
        return out
    if schema.get("type") == "array":
        if not isinstance(value, list):
            return faker.value(schema, key, name, depth)
        items = schema.get("items") or {}
        return [render(items, v, faker, f"{key}/{name}[{i}]", name, depth + 1) for i, v in enumerate(value)]
    if _type_ok(schema, value) and not (value is None and "type" not in schema and schema.get("nullable") is False):
        return value
    return faker.value(schema, key, name, depth)


# -- the world of the engine --------------------------------------------------------------------

#: Which collection a relation field names (body fields, filters, generated values).
RELATIONS = {
    "greet_id": "greets", "profile_id": "profiles", "assignee_id": "users", "user_id": "users",
    "author_id": None, "campaign_id": "campaigns", "template_id": "message-templates",
    "message_template_id": "message-templates", "trigger_id": "automation/triggers",
    "account_id": "automation/accounts", "team_id": "teams", "link_id": "links",
    "signature_id": "signatures", "action_id": "automation/actions",
}
#: Object-valued properties that hold a user of the team (creator of a campaign, …).
USER_FIELDS = ("creator", "assignee", "owner", "author", "sender")
#: Collections whose path names them by another name.
ALIASES = {"": "invites", "stats": "users", "results": "greets", "domain-availabilities": "",
           "signature-availabilities": "", "automation/editor": "", "login/google": "", "login/branch": ""}


class EngineWorld:
    """The engine's view of the sandbox's world: collections, their seeds and item schemas."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.world = state_world(state)  # the seed's collections; the others are made on first use
        self.faker = Faker(self)
        self._item_schemas: dict[str, dict[str, Any]] = {}
        self._generated: dict[str, list[dict[str, Any]]] = {}
        self._seed_ids: dict[str, list[str]] = {}

    # -- seeds -----------------------------------------------------------------------------

    def item_schema(self, name: str) -> dict[str, Any]:
        """The record schema of a collection: its list's items, else its item read, else its create."""
        if name in self._item_schemas:
            return self._item_schemas[name]
        found: dict[str, Any] = {}
        candidates = [op for op in operations() if self.collection_name(op) == name]
        for op in sorted(candidates, key=lambda o: (o.method != "GET", o.ends_with_param, len(o.segments))):
            shape = list_shape(op.schema)
            if shape and not op.path_params:
                found = shape[0]
                break
            inner = properties(op.schema).get("data")
            target = inner if inner is not None and not (resolve(inner).get("type") == "array") else op.schema
            if properties(target):
                found = resolve(target)
                break
        self._item_schemas[name] = found
        return found

    def _seeded(self, name: str) -> list[dict[str, Any]]:
        if name not in self._generated:
            schema = self.item_schema(name)
            id_schema = resolve(properties(schema).get("id") or {"type": "string", "format": "uuid"})
            records = []
            for i in range(BASE_COUNT):
                rng = _rng(f"{name}/{i}")
                rid: Any = i + 1 if id_schema.get("type") in ("integer", "number") else _uuid_of(rng)
                if name == "teams" and i == 0:
                    rid = self.state.seed.team_id
                record = self.faker.record(schema, f"{name}/{rid}")
                record["id"] = rid
                self._stamp(record, i)
                if name == "replies":  # a reply belongs to a sent greet and one of its profiles
                    sent = [g for g in self.state.seed.greets(50) if g["status"] == "sent" and g["profiles"]]
                    greet = sent[i % len(sent)]
                    record.update(greet_id=greet["id"], profile_id=greet["profiles"][0]["id"])
                records.append(record)
            self._generated[name] = records
        return self._generated[name]

    @staticmethod
    def _stamp(record: dict[str, Any], index: int) -> None:
        created = BASE_TIME - timedelta(days=index, hours=3)
        for name, moment in (("created_at", created), ("updated_at", created + timedelta(hours=5))):
            if isinstance(record.get(name), str) and _DATETIME.fullmatch(record[name]):
                record[name] = ts(moment)

    def collection_name(self, op: Operation) -> str:
        return ALIASES.get(op.collection, op.collection)

    def collection(self, name: str) -> Collection:
        return self.world.collection(name, lambda: self._seeded(name))

    def path_of(self, key: str) -> str:
        """``collection/id`` of a record key (for the URLs generated in it)."""
        parts = key.split("/")
        for i in range(len(parts) - 1, 0, -1):
            head = "/".join(parts[:i])
            if head in self.world.collections or head in ALIASES:
                return "/".join(parts[: i + 1])
        return key

    def related(self, name: str, schema: Any, key: str) -> Any:
        """A real record for a relation field of a generated record (None: not a relation)."""
        target = RELATIONS.get(name)
        schema = resolve(schema)
        rng = _rng(f"{key}/{name}/rel")
        if name == "team_id":
            return self.state.seed.team_id
        if target and schema.get("type") in ("string", "integer", None) and not schema.get("enum"):
            ids = self._seed_ids.get(target)
            if ids is None:
                base = self.state.seed.greets(50) if target == "greets" else (
                    self._seeded(target) if target not in ("users", "profiles", "campaigns", "message-templates") else
                    {"users": self.state.seed.users, "profiles": self.state.seed.profiles,
                     "campaigns": self.state.seed.campaigns, "message-templates": self.state.seed.templates}[target])
                ids = self._seed_ids[target] = [r["id"] if target != "campaigns" else r["uuid"] for r in base]
            value = rng.choice(ids)
            if target == "campaigns" and schema.get("type") == "integer":
                return next(c["id"] for c in self.state.seed.campaigns if c["uuid"] == value)
            return value if _type_ok(schema, value) or "type" not in schema else None
        if name in USER_FIELDS and (schema.get("properties") or schema.get("allOf")):
            return render(schema, rng.choice(self.state.seed.users), self.faker, key, name)
        return None


# -- requests ------------------------------------------------------------------------------------


def now_text(state: SandboxState) -> str:
    return ts(datetime.fromtimestamp(state.now(), timezone.utc).replace(tzinfo=None))


def read_body(req: Request, op: Operation) -> dict[str, Any]:
    """The request body as a dict: JSON, form or multipart alike (files become their names)."""
    from bonjoro_tui.sandbox.web import BadRequest

    if not req.body:
        return {}
    if req.content_type == "multipart/form-data":
        from email.parser import BytesParser
        from email.policy import HTTP

        head = f"Content-Type: {req.headers.get('content-type', '')}\r\n\r\n".encode("latin-1")
        message = BytesParser(policy=HTTP).parsebytes(head + req.body)
        if not message.is_multipart():
            raise BadRequest("the multipart body cannot be read")
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            field_name = part.get_param("name", header="content-disposition")
            if not isinstance(field_name, str):
                continue
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
            fields[field_name] = filename if filename else text
        return _coerce(fields, op)
    params, repeated = req.params()
    if repeated:
        raise EngineError(400, f"parameters given more than once: {', '.join(repeated)}")
    return _coerce(params, op) if req.content_type != "application/json" else params


def _coerce(fields: dict[str, Any], op: Operation) -> dict[str, Any]:
    """Form fields are text: turn them into the numbers and booleans the schema asks for."""
    props = properties(op.body_schema) if op.body_schema else {}
    out = dict(fields)
    for name, value in fields.items():
        kind = resolve(props.get(name) or {}).get("type")
        if not isinstance(value, str):
            continue
        if kind == "integer" and re.fullmatch(r"-?[0-9]{1,15}", value):
            out[name] = int(value)
        elif kind == "number" and re.fullmatch(r"-?[0-9]{1,15}(\.[0-9]{1,15})?", value):
            out[name] = float(value)
        elif kind == "boolean" and value in ("true", "false", "1", "0"):
            out[name] = value in ("true", "1")
        elif kind == "array":
            out[name] = [value]
    return out


@lru_cache(maxsize=None)
def body_validator(method: str, template: str) -> Any:
    from openapi_schema_validator import OAS30Validator  # lazy: start-up never pays for it

    op = next(o for o in operations() if o.method == method and o.template == template)
    schema = copy.deepcopy(resolve(op.body_schema))
    if method == "POST" and op.body_type == "application/json" and not schema.get("required"):
        props = properties(schema)
        schema["required"] = [n for n, s in props.items() if not resolve(s).get("nullable")]
    schema = {**schema, "components": spec()["components"]}
    return OAS30Validator(schema)


_TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "an object"}


def validate_body(op: Operation, body: dict[str, Any]) -> None:
    """400 naming the first field that is missing or of the wrong type (Laravel's wording)."""
    if op.body_schema is None or op.method == "DELETE":
        return
    errors = sorted(body_validator(op.method, op.template).iter_errors(body), key=lambda e: list(e.absolute_path))
    for error in errors:
        where = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            present = error.instance if isinstance(error.instance, dict) else {}
            missing = next((n for n in error.validator_value if n not in present), "?")
            name = f"{where}.{missing}" if where else missing
            raise EngineError(400, f"The {name} field is required.")
        if error.validator == "type":
            kind = error.validator_value
            raise EngineError(400, f"The {where or 'body'} must be {_TYPE_WORDS.get(str(kind), str(kind))}.")
        if error.validator == "enum":
            raise EngineError(400, f"The selected {where or 'value'} is invalid.")
        if error.validator == "format" and error.validator_value == "email":
            raise EngineError(400, f"The {where} must be a valid email address.")
    # formats are not asserted by the validator without a checker: check the ones Laravel would
    props = properties(op.body_schema)
    for name, value in body.items():
        sub = resolve(props.get(name) or {})
        if sub.get("format") == "email" and isinstance(value, str) and not _EMAIL.fullmatch(value):
            raise EngineError(400, f"The {name} must be a valid email address.")
        if sub.get("format") == "uuid" and isinstance(value, str) and not _UUID.fullmatch(value):
            raise EngineError(400, f"The {name} must be a valid UUID.")
        if isinstance(value, str) and len(value) > 10_000:
            raise EngineError(400, f"The {name} may not be greater than 10000 characters.")


# -- answering -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandRoutes:
    """What the engine uses of the hand-written routes (``sandbox/api.py``), handed in by them so
    that this module never imports that one: the page envelope and ``POST /greets``'s rules."""

    paginate: Callable[[Request, list[Any]], dict[str, Any]]
    create_greet: Callable[[SandboxState, Principal, dict[str, Any]], dict[str, Any]]


@dataclass
class Ctx:
    req: Request
    state: SandboxState
    ew: EngineWorld
    op: Operation
    args: dict[str, str]
    body: dict[str, Any]
    principal: Principal
    hand: HandRoutes

    @property
    def name(self) -> str:
        return self.ew.collection_name(self.op)

    @property
    def coll(self) -> Collection:
        return self.ew.collection(self.name)

    def query(self) -> dict[str, str]:
        return self.req.query()


def engine_world(state: SandboxState) -> EngineWorld:
    ew = getattr(state, "_engine_world", None)
    if ew is None:
        ew = EngineWorld(state)
        state._engine_world = ew  # type: ignore[attr-defined]
    return ew


def answer(req: Request, state: SandboxState, principal: Principal, op: Operation, args: dict[str, str],
           hand: HandRoutes) -> tuple[int, Any]:
    """(status, JSON body) for a request the definition publishes."""
    ew = engine_world(state)
    body = read_body(req, op) if req.body else {}
    validate_body(op, body)
    check_relations(ew, body)
    ctx = Ctx(req, state, ew, op, args, body, principal, hand)
    rule = RULES.get((op.method, op.template))
    try:
        if rule is not None:
            return rule(ctx)
        return generic(ctx)
    except CollectionFull:
        raise EngineError(400, "The sandbox keeps at most 20000 records of each kind.") from None


def check_relations(ew: EngineWorld, body: dict[str, Any]) -> None:
    for name, value in body.items():
        target = RELATIONS.get(name) or {"greets": "greets", "users": "users"}.get(name)
        if target is None:
            continue
        values = value if isinstance(value, list) and name in ("greets", "users") else [value]
        for v in values:
            if isinstance(v, (str, int)) and not isinstance(v, bool) and ew.collection(target).get(v) is None:
                raise EngineError(400, f"The selected {name} is invalid.")


def need(ctx: Ctx, param: str | None = None, name: str | None = None) -> dict[str, Any]:
    param = param or ctx.op.path_params[0]
    record = ctx.ew.collection(name or ctx.name).get(ctx.args[param])
    if record is None:
        raise EngineError(404, f"{(name or ctx.name).rsplit('/', 1)[-1].rstrip('s').replace('-', ' ').capitalize()} not found")
    return record


def key_of(ctx: Ctx, record: dict[str, Any] | None, name: str | None = None) -> str:
    if record is None or "id" not in record:
        return f"{name or ctx.name or 'singleton'}/{ctx.op.template}"
    return f"{name or ctx.name}/{record['id']}"


def _fits(record: Any, schema: Any) -> bool:
    props = properties(schema)
    return isinstance(record, dict) and bool(props) and len(set(props) & set(record)) * 2 >= len(props)


def respond(ctx: Ctx, record: dict[str, Any] | None, message: str = "OK", status: int | None = None) -> tuple[int, Any]:
    """The operation's published answer built around ``record``."""
    schema = ctx.op.schema
    props = properties(schema)
    key = key_of(ctx, record)
    if "data" in props and resolve(props["data"]).get("type") != "array":
        data: Any = record if _fits(record, props["data"]) else {}
        value: dict[str, Any] = {"data": data}
        for word in ("message", "Message"):
            if word in props:
                value[word] = message
        if data == {} and record is not None:
            key = f"{key}{ctx.op.template}"
    else:
        value = record if record is not None and _fits(record, schema) else {}
        for word in ("message", "Message"):
            if word in props:
                value = {**value, word: message}
        if record is not None and value is not record and not _fits(record, schema):
            key = f"{key}{ctx.op.template}"
    if resolve(schema).get("type") == "array":
        return status or ctx.op.status, render(schema, None, ctx.ew.faker, key)
    return status or ctx.op.status, render(schema, value, ctx.ew.faker, key)


def list_answer(ctx: Ctx, items: list[dict[str, Any]], name: str | None = None) -> tuple[int, Any]:
    shape = list_shape(ctx.op.schema)
    assert shape is not None
    item_schema, paginated = shape
    items = filter_items(ctx, items)
    faker, owner = ctx.ew.faker, name or ctx.name

    def one(record: dict[str, Any]) -> Any:
        return render(item_schema, record, faker, f"{owner}/{record.get('id')}")

    if paginated:
        page = ctx.hand.paginate(ctx.req, items)
        page["data"] = [one(r) for r in page["data"]]
        return ctx.op.status, page
    value = {"data": [one(r) for r in items[:LIST_CAP]]}
    return ctx.op.status, render(ctx.op.schema, value, faker, f"{owner}/{ctx.op.template}")


_NOT_FILTERS = {"page", "limit", "sort", "search", "includes", "simple", "id", "part_number", "show_hidden"}


def filter_items(ctx: Ctx, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    query = ctx.query()
    for name in ctx.op.query_params:
        wanted = query.get(name)
        if name in _NOT_FILTERS or not wanted:
            continue
        if name == "propfile_id":  # GET /replies: the definition's spelling of profile_id
            name = "profile_id"
        if name == "email" and ctx.name == "signatures":  # a signature's address is its email
            name = "address"
        if name == "exclude_default":
            if wanted.lower() in ("1", "true", "yes"):
                items = [i for i in items if not i.get("is_default")]
            continue
        base = name[:-3] if name.endswith("_id") else name

        def keep(item: dict[str, Any], name: str = name, base: str = base, wanted: str = wanted) -> bool:
            if name in item:
                return str(item[name]) == wanted
            if isinstance(item.get(base), dict):
                return str(item[base].get("id")) == wanted
            if isinstance(item.get(base + "s"), list):
                return any(isinstance(p, dict) and str(p.get("id")) == wanted for p in item[base + "s"])
            return True  # a record that says nothing of it (its schema has no such field) stays

        items = [i for i in items if keep(i)]
    term = query.get("search")
    if term:
        t = term.lower()
        items = [i for i in items if any(isinstance(v, str) and t in v.lower() for v in i.values())]
    sort = query.get("sort", "")
    field_name = sort.lstrip("-")
    if field_name and items and field_name in items[0]:
        items = sorted(items, key=lambda i: str(i.get(field_name) or ""), reverse=sort.startswith("-"))
    return items


def _new_id(ctx: Ctx, coll: Collection, schema: dict[str, Any]) -> Any:
    id_schema = resolve(properties(schema).get("id") or {})
    if id_schema.get("type") in ("integer", "number"):
        return 1 + max((int(r["id"]) for r in coll.all() if isinstance(r.get("id"), int)), default=0)
    return str(uuid.uuid4())


def merge(ctx: Ctx, record: dict[str, Any], body: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``record`` with the body's fields the record's schema documents (relations resolved)."""
    props = properties(schema)
    out = copy.deepcopy(record)
    for name, value in body.items():
        base = name[:-3] if name.endswith("_id") else None
        target = RELATIONS.get(name)
        if base and target and isinstance(out.get(base) if base in out else resolve(props.get(base) or {}).get("properties"), (dict, type(None))) and (base in props or base in out):
            related = ctx.ew.collection(target).get(value) if isinstance(value, (str, int)) else None
            if related is not None:
                out[base] = related
            if name in props or name in out:
                out[name] = value
            continue
        if name in props or name in out:
            out[name] = _merged(ctx, name, out.get(name), value)
    if isinstance(out.get("updated_at"), str) and _DATETIME.fullmatch(out["updated_at"]):
        out["updated_at"] = now_text(ctx.state)
    return out


def _merged(ctx: Ctx, name: str, old: Any, new: Any) -> Any:
    """A field's new value, keeping the record's shape: objects merge field by field (fields the
    record does not have are ignored, as Laravel ignores what it does not validate), a list of
    ids replaces a list of records by those records, a value of another kind is not taken."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return old
        return {k: _merged(ctx, k, v, new[k]) if k in new else v for k, v in old.items()}  # others ignored
    if isinstance(old, list) and old and isinstance(old[0], dict) and isinstance(new, list):
        target = RELATIONS.get(name[:-1] + "_id") if name.endswith("s") else None
        if target and all(isinstance(v, (str, int)) for v in new):
            found = [ctx.ew.collection(target).get(v) for v in new]
            return [f for f in found if f is not None]
        return old if not all(isinstance(v, dict) for v in new) else new
    if old is not None and new is not None and type(old) is not type(new) and not (
            isinstance(old, (int, float)) and isinstance(new, (int, float))):
        return old
    return new


def create(ctx: Ctx, name: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    name = name or ctx.name
    coll = ctx.ew.collection(name)
    schema = ctx.ew.item_schema(name)
    new_id = _new_id(ctx, coll, schema)
    record = ctx.ew.faker.record(schema, f"{name}/{new_id}")
    record["id"] = new_id
    for stamp in ("created_at", "updated_at"):
        if isinstance(record.get(stamp), str) and _DATETIME.fullmatch(record[stamp]):
            record[stamp] = now_text(ctx.state)
    record = merge(ctx, record, {**ctx.body, **(extra or {})}, schema)
    return coll.put(record, created=True)


def generic(ctx: Ctx) -> tuple[int, Any]:
    op = ctx.op
    has_id = bool(op.path_params) and bool(ctx.name)
    record = need(ctx) if has_id else None
    if op.method == "GET":
        bare = resolve(op.schema)
        if bare.get("type") == "array" and properties(bare.get("items")) and not has_id:
            items = filter_items(ctx, ctx.coll.all())[:LIST_CAP]
            return op.status, [render(bare["items"], r, ctx.ew.faker, f"{ctx.name}/{r.get('id')}") for r in items]
        if list_shape(op.schema) is not None and (not has_id or not op.ends_with_param):
            if not has_id:
                return list_answer(ctx, ctx.coll.all())
            return list_answer(ctx, derived(ctx, record), f"{ctx.name}/{record['id'] if record else ''}/sub")
        return respond(ctx, record)
    if op.method == "POST" and not has_id and ctx.name:
        return respond(ctx, create(ctx), "Created")
    if op.method in ("PUT", "PATCH") and has_id and op.ends_with_param and record is not None:
        updated = ctx.coll.put(merge(ctx, record, ctx.body, ctx.ew.item_schema(ctx.name)))
        return respond(ctx, updated, "Updated")
    if op.method == "DELETE" and has_id and op.ends_with_param and record is not None:
        ctx.coll.delete(record["id"])
        return respond(ctx, record, "Deleted")
    if record is not None and op.method != "GET":
        record = ctx.coll.put(merge(ctx, record, ctx.body, ctx.ew.item_schema(ctx.name)))
    return respond(ctx, record, "Success")


def derived(ctx: Ctx, parent: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The records a sub-list of ``parent`` shows (a greet's profiles, a user's campaigns, …)."""
    tail = ctx.op.segments[-1]
    if parent is None:
        return []
    if ctx.name == "greets" and tail == "profiles":
        return list(parent.get("profiles") or [])
    if ctx.name == "greets" and tail == "events":
        return [parent]
    if ctx.name == "users" and tail == "campaigns":
        return [c for c in ctx.ew.collection("campaigns").all()
                if any(u.get("id") == parent["id"] for u in c.get("users") or []) or c.get("creator", {}).get("id") == parent["id"]]
    shape = list_shape(ctx.op.schema)
    schema = shape[0] if shape else {}
    out = []
    for i in range(3):
        key = f"{ctx.name}/{parent['id']}/{tail}/{i}"
        record = ctx.ew.faker.record(schema, key)
        record.setdefault("id", _uuid_of(_rng(key)))
        out.append(record)
    return out


# -- the rules of particular operations ----------------------------------------------------------


def _greet(ctx: Ctx, param: str = "greet_id") -> dict[str, Any]:
    return need(ctx, param, "greets")


def _greet_profile(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any], int]:
    greet = _greet(ctx)
    pid = ctx.args["profile_id"]
    for i, p in enumerate(greet.get("profiles") or []):
        if p.get("id") == pid:
            return greet, p, i
    raise EngineError(404, "Profile not found in this greet")


def r_greet_update(ctx: Ctx) -> tuple[int, Any]:
    greet = ctx.ew.collection("greets").put(merge(ctx, _greet(ctx), ctx.body, ctx.ew.item_schema("greets")))
    return respond(ctx, greet, "Updated")


def r_greet_delete(ctx: Ctx) -> tuple[int, Any]:
    greet = _greet(ctx)
    ctx.ew.collection("greets").delete(greet["id"])
    return respond(ctx, greet, "Deleted")


def r_greets_bulk_delete(ctx: Ctx) -> tuple[int, Any]:
    ids = [v for k, v in ctx.req.query_pairs() if k in ("greets[]", "greets")]
    if not ids:
        raise EngineError(400, "The greets field is required.")
    greets = ctx.ew.collection("greets")
    found = [greets.get(i) for i in ids]
    if any(g is None for g in found):
        raise EngineError(404, "Greet not found")
    for g in found:
        greets.delete(g["id"])  # type: ignore[index]
    return respond(ctx, found[0], f"Deleted {len(found)} greets")


def r_greets_bulk_update(ctx: Ctx) -> tuple[int, Any]:
    greets = ctx.ew.collection("greets")
    found = [greets.get(gid) for gid in ctx.body.get("greets") or []]
    if any(g is None for g in found):
        raise EngineError(404, "Greet not found")  # before anything changed
    changed = []
    for greet in found:
        assert greet is not None
        changes = {k: v for k, v in ctx.body.items() if k != "greets"}
        if "campaign_id" in changes:
            campaign = ctx.ew.collection("campaigns").get(changes.pop("campaign_id"))
            changes["campaign_id"] = campaign["uuid"] if campaign else None
        changed.append(greets.put(merge(ctx, greet, changes, ctx.ew.item_schema("greets"))))
    return list_answer(ctx, changed, "greets")


def r_greet_notify(ctx: Ctx) -> tuple[int, Any]:
    greet = _greet(ctx)
    now = now_text(ctx.state)
    greet = {**greet, "status": "sent", "updated_at": now,
             "event": {**(greet.get("event") or {}), "message": "Video sent", "occured_at": now}}
    return respond(ctx, ctx.ew.collection("greets").put(greet), "Notifications sent via " + ", ".join(map(str, ctx.body.get("via") or [])))


def r_greet_upload(ctx: Ctx) -> tuple[int, Any]:
    greet = _greet(ctx)
    greet = {**greet, "draft": False, "updated_at": now_text(ctx.state)}
    template = ctx.body.get("message_template_id")
    if isinstance(template, str):
        found = ctx.ew.collection("message-templates").get(template)
        if found is None:
            raise EngineError(400, "The selected message_template_id is invalid.")
        greet["message_template"] = found
    return respond(ctx, ctx.ew.collection("greets").put(greet), "Uploaded")


def r_upload_url(ctx: Ctx) -> tuple[int, Any]:
    greet = _greet(ctx)
    expires = int(ctx.state.now()) + 3600
    return 200, {"method": "PUT", "url": f"{ctx.req.origin}/_sandbox/uploads/greets/{greet['id']}?expires={expires}",
                 "expires": expires}


def r_rollup(ctx: Ctx) -> tuple[int, Any]:
    """"Rollup and delete greets": the campaign's greets of a kind are deleted, their count
    answered. ``type``: a status (open, sent, closed), ``no_name`` (the definition's example:
    greets whose profiles have no first name), anything else every open greet of the campaign."""
    campaign = ctx.ew.collection("campaigns").get(ctx.body.get("campaign_id"))
    if campaign is None:
        raise EngineError(400, "The selected campaign_id is invalid.")
    kind = str(ctx.body.get("type"))

    def rolled(greet: dict[str, Any]) -> bool:
        if greet.get("campaign_id") != campaign["uuid"]:
            return False
        if kind in ("open", "sent", "closed"):
            return greet.get("status") == kind
        if kind == "no_name":
            return all(not p.get("first_name") for p in greet.get("profiles") or [])
        return greet.get("status") == "open"

    greets = ctx.ew.collection("greets")
    doomed = [g["id"] for g in greets.all() if rolled(g)]
    for greet_id in doomed:
        greets.delete(greet_id)
    return 200, {"message": "Rolled up", "data": {"count": len(doomed)}}


def r_reply(ctx: Ctx) -> tuple[int, Any]:
    """A reply needs a greet that was sent ("The greet should have a completed/sent status in
    order to add a reply": 403 otherwise) and one of that greet's profiles."""
    greet = ctx.ew.collection("greets").get(ctx.body.get("greet_id"))
    if greet is None:
        raise EngineError(400, "The selected greet_id is invalid.")
    if greet.get("status") not in ("sent", "closed"):
        raise EngineError(403, "The greet should have a completed/sent status in order to add a reply")
    profile = next((p for p in greet.get("profiles") or [] if p.get("id") == ctx.body.get("profile_id")), None)
    if profile is None:
        raise EngineError(400, "The selected profile_id is not a profile of this greet.")
    if ctx.body.get("author_type") == "profile":
        author = {"id": profile["id"], "name": profile.get("name"), "is_recepient": True, "is_current_user": False}
    else:
        me = ctx.ew.collection("users").get(ctx.principal.user_id) or ctx.state.seed.me
        author = {"id": me["id"], "name": me["name"], "is_recepient": False, "is_current_user": True}
    author["created_at"] = now_text(ctx.state)
    reply = create(ctx, "replies", {"author": author, "content": ctx.body.get("content")})
    reply = ctx.ew.collection("replies").put({**reply, "greet_id": greet["id"], "profile_id": profile["id"]})
    return respond(ctx, reply)


def r_template_delete(ctx: Ctx) -> tuple[int, Any]:
    template = need(ctx)
    if template.get("state") == "demo":  # the published 403: the demo template stays
        raise EngineError(403, "The demo message template cannot be deleted")
    ctx.coll.delete(template["id"])
    return respond(ctx, template, "Deleted")


def r_greet_profile_update(ctx: Ctx) -> tuple[int, Any]:
    greet, profile, i = _greet_profile(ctx)
    profile = {**profile, **{k: v for k, v in ctx.body.items() if k in ("email", "first_name", "last_name")}}
    profiles = list(greet["profiles"])
    profiles[i] = profile
    greet = ctx.ew.collection("greets").put({**greet, "profiles": profiles, "updated_at": now_text(ctx.state)})
    return respond(ctx, {"id": greet["id"], "greet": greet, "profile": profile, **profile}, "Updated")


def r_greet_profile_delete(ctx: Ctx) -> tuple[int, Any]:
    greet, profile, i = _greet_profile(ctx)
    profiles = [p for j, p in enumerate(greet["profiles"]) if j != i]
    greet = ctx.ew.collection("greets").put({**greet, "profiles": profiles, "updated_at": now_text(ctx.state)})
    return respond(ctx, greet, "Removed")


def r_greets_create(ctx: Ctx) -> tuple[int, Any]:
    lines = ctx.body.get("lines") or []
    for line in lines:
        if isinstance(line, dict) and isinstance(line.get("email"), str):
            ctx.hand.create_greet(ctx.state, ctx.principal, {"profiles": [line["email"]], "assignee_id": ctx.body.get("assignee_id"),
                                                        "campaign_id": ctx.body.get("campaign_id"), "note": line.get("reason")})
    return 200, {"message": f"Created {len(lines)} greets"}


def r_greets_filtered(status: str | None) -> Callable[[Ctx], tuple[int, Any]]:
    def rule(ctx: Ctx) -> tuple[int, Any]:
        greets = ctx.ew.collection("greets").all()
        if status:
            greets = [g for g in greets if g.get("status") == status]
        return list_answer(ctx, greets, "greets")
    return rule


def r_result(ctx: Ctx) -> tuple[int, Any]:
    greet, profile, _ = _greet_profile(ctx)
    stored = ctx.ew.collection("results").get(f"{greet['id']}:{profile['id']}") or {}
    record = {"greet": greet, "profile": profile, **stored, "id": f"{greet['id']}:{profile['id']}"}
    if ctx.op.method == "PUT":
        if ctx.body.get("mark_as_replied") is not None:
            record["awaiting_reply"] = None
            record["last_replied_at"] = now_text(ctx.state) if ctx.body["mark_as_replied"] else None
        ctx.ew.collection("results").put({k: v for k, v in record.items() if k not in ("greet", "profile")})
        return respond(ctx, record, "Updated")
    return respond(ctx, record)


def r_availability(kind: str) -> Callable[[Ctx], tuple[int, Any]]:
    def rule(ctx: Ctx) -> tuple[int, Any]:
        value = next(iter(ctx.args.values()), "").lower()
        if kind == "domains":
            taken = any(str(d.get("name", "")).lower() == value for d in ctx.ew.collection("domains").all())
        else:
            if not _EMAIL.fullmatch(value):
                raise EngineError(400, "The email address must be a valid email address.")
            taken = any(str(s.get("address", "")).lower() == value for s in ctx.ew.collection("signatures").all())
        word = "domain" if kind == "domains" else "email"
        return 200, {"status": f"{word}_not_available" if taken else f"{word}_available"}
    return rule


def r_flag(field_name: str, message: str, value: Any = True) -> Callable[[Ctx], tuple[int, Any]]:
    def rule(ctx: Ctx) -> tuple[int, Any]:
        record = need(ctx)
        updated = ctx.coll.put({**record, field_name: value(ctx) if callable(value) else value,
                                **({"updated_at": now_text(ctx.state)} if "updated_at" in record else {})})
        return respond(ctx, updated, message)
    return rule


def r_read(ctx: Ctx) -> tuple[int, Any]:
    record = need(ctx)
    ctx.coll.put({**record, "read_at": now_text(ctx.state)})
    return 200, {"Message": "Notification marked as read"}


def r_login(param: str) -> Callable[[Ctx], tuple[int, Any]]:
    def rule(ctx: Ctx) -> tuple[int, Any]:
        if not ctx.query().get(param):
            raise EngineError(400, f"The {param} field is required.")
        return respond(ctx, None)
    return rule


def r_user_post(ctx: Ctx) -> tuple[int, Any]:
    user = need(ctx, "user_id", "users")
    if user["id"] == ctx.state.seed.me["id"] and isinstance(ctx.body.get("bio"), str):
        ctx.state.set_user_bio(ctx.body["bio"])
    updated = ctx.ew.collection("users").put(merge(ctx, user, ctx.body, ctx.ew.item_schema("users")))
    return respond(ctx, updated, "Updated")


def r_users_create(ctx: Ctx) -> tuple[int, Any]:
    email = str(ctx.body.get("email"))
    if any(u.get("email", "").lower() == email.lower() for u in ctx.ew.collection("users").all()):
        raise EngineError(400, "The email has already been taken.")
    first = email.split("@")[0].split(".")[0].capitalize()
    user = create(ctx, "users", {"email": email, "first_name": first, "last_name": "", "name": first, "bio": None})
    user.pop("password", None)
    return respond(ctx, ctx.ew.collection("users").put(user), "Created")


def r_stats_user(ctx: Ctx) -> tuple[int, Any]:
    user = need(ctx, "user_id", "users")
    return respond(ctx, {"id": f"stats-{user['id']}"})


def r_simple(message: str) -> Callable[[Ctx], tuple[int, Any]]:
    def rule(ctx: Ctx) -> tuple[int, Any]:
        return respond(ctx, None, message)
    return rule


def r_store(name: str, message: str) -> Callable[[Ctx], tuple[int, Any]]:
    """A create whose answer is the created record (devices, media, recordings, …)."""
    def rule(ctx: Ctx) -> tuple[int, Any]:
        return respond(ctx, create(ctx, name), message)
    return rule


def r_demo_template(ctx: Ctx) -> tuple[int, Any]:
    templates = ctx.ew.collection("message-templates")
    demo = next((t for t in templates.all() if t.get("state") == "demo"), None)
    if demo is None:
        raise EngineError(404, "The demo template was not found")
    return respond(ctx, templates.put(merge(ctx, demo, ctx.body, ctx.ew.item_schema("message-templates"))), "Updated")


def r_service_sub(ctx: Ctx) -> tuple[int, Any]:
    need(ctx, "service_id", "automation/services")
    if ctx.op.method == "GET":
        parent = need(ctx, "service_id", "automation/services")
        return list_answer(ctx, derived(ctx, parent), f"automation/services/{parent['id']}/contacts") if list_shape(ctx.op.schema) else respond(ctx, parent)
    return 200, {"parameters": {k: v for k, v in ctx.query().items() if k != "account_id"}}


def r_team_link(ctx: Ctx) -> tuple[int, Any]:
    team = need(ctx, "team_id", "teams")
    link = need(ctx, "link_id", "links")
    if link.get("team_id") not in (None, team["id"]) and team["id"] != ctx.state.seed.team_id:
        raise EngineError(404, "Link not found")
    return respond(ctx, link)


def r_item_as_list(ctx: Ctx) -> tuple[int, Any]:
    return list_answer(ctx, [need(ctx)])


def r_recording_upload(ctx: Ctx) -> tuple[int, Any]:
    recording = need(ctx)
    part = ctx.query().get("part_number", "1")
    if not re.fullmatch(r"[0-9]{1,5}", part):
        raise EngineError(400, "The part_number must be an integer.")
    return 200, {"message": "Upload URL created",
                 "upload_url": f"{ctx.req.origin}/_sandbox/uploads/recordings/{recording['id']}?part_number={part}"}


def r_delete_message(ctx: Ctx) -> tuple[int, Any]:
    record = need(ctx)
    ctx.coll.delete(record["id"])
    return 200, {"message": "Deleted"}


def r_domain_create(ctx: Ctx) -> tuple[int, Any]:
    name = str(ctx.body.get("domain", "")).lower()
    if any(str(d.get("name", "")).lower() == name for d in ctx.ew.collection("domains").all()):
        raise EngineError(400, "The domain has already been taken.")
    domain = create(ctx, "domains", {"name": name, "status": "created", "is_verified_as_sender": False})
    return respond(ctx, domain, "Created")


def r_domain_verify(ctx: Ctx) -> tuple[int, Any]:
    domain = need(ctx)
    ctx.coll.put({**domain, "is_verified_as_sender": True, "status": "verified"})
    return 200, {"message": "Domain verified", "data": {"is_verified": True}}


RULES: dict[tuple[str, str], Callable[[Ctx], tuple[int, Any]]] = {
    ("POST", "/domains"): r_domain_create,
    ("PUT", "/greets/{greet_id}"): r_greet_update,
    ("DELETE", "/greets/{greet_id}"): r_greet_delete,
    ("DELETE", "/greets"): r_greets_bulk_delete,
    ("PATCH", "/greets"): r_greets_bulk_update,
    ("POST", "/greets/{greet_id}/notifications"): r_greet_notify,
    ("POST", "/greets/{greet_id}/uploads"): r_greet_upload,
    ("GET", "/greets/{greet_id}/upload-url"): r_upload_url,
    ("POST", "/greets/rollup"): r_rollup,
    ("POST", "/replies"): r_reply,
    ("DELETE", "/message-templates/{message_template_id}"): r_template_delete,
    ("POST", "/greets/{greet_id}/{profile_id}/update"): r_greet_profile_update,
    ("DELETE", "/greets/{greet_id}/{profile_id}"): r_greet_profile_delete,
    ("POST", "/greets/create"): r_greets_create,
    ("GET", "/greets/todo"): r_greets_filtered("open"),
    ("GET", "/greets/results"): r_greets_filtered("sent"),
    ("GET", "/results/{greet_id}/{profile_id}"): r_result,
    ("PUT", "/results/{greet_id}/{profile_id}"): r_result,
    ("GET", "/domain-availabilities/{domain_name}"): r_availability("domains"),
    ("GET", "/signature-availabilities/{email_address}"): r_availability("signatures"),
    ("PUT", "/domains/{domain_id}/verify"): r_domain_verify,
    ("POST", "/signatures/{signature_id}/verify"): r_flag("is_verified", "Verification email sent"),
    ("PUT", "/{invite_id}/resend"): r_flag("sent_at", "Invitation resent", lambda ctx: now_text(ctx.state)),
    ("POST", "/notifications/{notification_id}/reads"): r_read,
    ("POST", "/login/google"): r_login("auth_code"),
    ("POST", "/login/branch"): r_login("token"),
    ("POST", "/users/{user_id}"): r_user_post,
    ("POST", "/users"): r_users_create,
    ("GET", "/stats/{user_id}"): r_stats_user,
    ("POST", "/feedback"): r_simple("Thank you for your feedback"),
    ("POST", "/users/me/devices"): r_store("users/me/devices", "Device registered"),
    ("POST", "/media"): r_store("media", "Uploaded"),
    ("PUT", "/recordings"): r_store("recordings", "Recording saved"),
    ("POST", "/message-templates/demo/update"): r_demo_template,
    ("GET", "/automation/services/{service_id}/contacts"): r_service_sub,
    ("POST", "/automation/services/{service_id}/contacts/parameters"): r_service_sub,
    ("GET", "/teams/{team_id}/links/{link_id}"): r_team_link,
    ("GET", "/integrations/{integration_id}"): r_item_as_list,
    ("GET", "/recordings/{recording_id}/upload-url"): r_recording_upload,
    ("DELETE", "/recordings/{recording_id}"): r_delete_message,
}
