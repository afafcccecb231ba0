"""The sandbox's Bonjoro API v2, Bearer only: authentication, rate limit and faults for every
request, the hand-written routes (``GET /me``, which Bonjoro does not publish, and the nine
operations the app and the seed use), and every other published operation through the generic
engine (``sandbox/engine.py``).

Shapes follow the published schemas (``bonjoro_tui/spec``); errors and headers follow what
Bonjoro sends: 401 ``{"message": "Unauthenticated."}``, other errors
``{"error": {"message": ..., "status_code": N}}``, ``X-RateLimit-Limit`` and
``X-RateLimit-Remaining`` on every response, 429 with ``Retry-After`` past the limit.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlencode

from bonjoro_tui.sandbox.grants import Principal
from bonjoro_tui.sandbox.seed import ts
from bonjoro_tui.sandbox.state import GREETS_MAX, SandboxState
from bonjoro_tui.sandbox.web import BadRequest, Request, Response, json_response
from bonjoro_tui.sandbox.world import EngineError, World, state_world

PREFIX = "/api/v2"
PER_PAGE = 15
LIST_CAP = 100
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "status_code": status}}


def _unauthenticated(reason: str | None) -> Response:
    challenge = 'Bearer realm="bonjoro-sandbox"'
    if reason:
        challenge += f', error="invalid_token", error_description="{reason}"'
    return json_response({"message": "Unauthenticated."}, 401, {"www-authenticate": challenge})


def _fault(status: int) -> Response:
    if status == 401:
        return _unauthenticated("forced by the sandbox's fault knob")
    if status == 429:
        return json_response({"message": "Too Many Attempts."}, 429, {"retry-after": "1"})
    if status == 503:
        return json_response({"message": "Service Unavailable"}, 503, {"retry-after": "1"})
    return json_response({"message": "Server Error"}, status)


def _bearer(req: Request) -> str | None:
    scheme, _, value = req.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def handle(req: Request, state: SandboxState) -> Response:
    state.count("api_requests")
    token = _bearer(req)
    principal, reason = state.verify_access(token) if token else (None, None)
    limit, remaining, retry_after = state.hit_rate_limit(principal.rate_key if principal else f"ip:{req.client_host}")
    headers = {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining),
               "cache-control": "no-cache, private"}
    if principal is None:
        response = _unauthenticated(reason)
    elif retry_after is not None:
        response = json_response({"message": "Too Many Attempts."}, 429,
                                 {"retry-after": str(retry_after), "x-ratelimit-reset": str(math.ceil(state.now() + retry_after))})
    elif (fault := state.take_fault("api")) is not None:
        response = _fault(fault)
    else:
        try:
            # a request that changes records reads and writes the state file once, atomically
            with state.batch() if req.method != "GET" else contextlib.nullcontext():
                response = _route(req, state, principal)
        except (ApiError, EngineError) as exc:
            response = json_response(error_body(exc.status, exc.message), exc.status)
        except BadRequest as exc:
            response = json_response(error_body(400, exc.message), 400)
        if 200 <= response.status < 300 and state.knobs["off_schema"]:
            _off_schema(response)
    response.headers.update(headers)
    return response


#: What the off_schema knob changes, in the header that marks such an answer.
OFF_SCHEMA = "dropped id; the first string field sent as the number 42"


def _off_schema(response: Response) -> None:
    """The ``off_schema`` knob: in the answer's record (``data``, the first item of a ``data``
    list, or the body itself) ``id`` is left out and the first other string becomes 42."""
    try:
        body = json.loads(response.body)
    except ValueError:
        return
    target = body.get("data", body) if isinstance(body, dict) else body
    if isinstance(target, list):
        target = target[0] if target else None
    if not isinstance(target, dict):
        return
    target.pop("id", None)
    for key, value in target.items():
        if isinstance(value, str):
            target[key] = 42
            break
    response.body = json_response(body).body
    response.headers["x-sandbox-off-schema"] = OFF_SCHEMA


# -- routing --------------------------------------------------------------------------------

Handler = Callable[[Request, SandboxState, Principal, dict[str, str]], Any]
#: The hand-written routes (below) as (method, path template, handler); every other published
#: operation is the engine's (``sandbox/engine.py``). ``HAND_ROUTES`` lists them with their path
#: regexes, ``ROUTES`` the engine's too (for the explorer's served marks).
_HAND: list[tuple[str, str, Handler]] = []


@functools.cache
def _regex(template: str) -> re.Pattern[str]:
    """A route's path regex, compiled when first matched against (a sandbox started for one
    ``GET /me`` compiles one, not one per route: issue 16)."""
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$")


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HAND.append((method, pattern, fn))
        return fn

    return register


def _engine_handler(req: Request, state: SandboxState, principal: Principal, args: dict[str, str]) -> Any:
    raise AssertionError("engine routes are dispatched by _route")  # pragma: no cover


def __getattr__(name: str) -> Any:
    """``HAND_ROUTES``: the hand-written (method, path regex, handler); ``ROUTES``: every one
    served — those, then each operation of the published definition (the spec is read on first
    use, not at import)."""
    if name in ("HAND_ROUTES", "ROUTES"):
        hand = [(method, _regex(template), fn) for method, template, fn in _HAND]
        if name == "HAND_ROUTES":
            return hand
        from bonjoro_tui.sandbox import engine

        return hand + [(op.method, op.regex, _engine_handler) for op in engine.operations()]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _route(req: Request, state: SandboxState, principal: Principal) -> Response:
    path = req.path[len(PREFIX):] or "/"
    allowed = []
    for method, template, fn in _HAND:
        match = _regex(template).match(path)
        if match:
            if method == req.method:
                return _absolute_json(fn(req, state, principal, match.groupdict()), req.origin)
            allowed.append(method)
    from bonjoro_tui.sandbox import engine

    op, args, others, literal = engine.match(req.method, path)
    if not literal:
        others = []  # only /{invite_id}: any other one-segment path is simply not there
    if op is not None and op.template not in engine.TOKEN_TEMPLATES:
        status, body = engine.answer(req, state, principal, op, args, engine.HandRoutes(_paginate, create_greet))
        response = _absolute_json(body, req.origin)
        response.status = status
        return response
    allowed += [m for m in others if m not in allowed]
    if allowed:
        return json_response(error_body(405, "Method Not Allowed"), 405, {"allow": ", ".join(allowed)})
    raise ApiError(404, "Not Found")


def _absolute_json(data: Any, origin: str) -> Response:
    """JSON response with every ``*_url`` path made absolute for the origin asked.

    Same result as ``seed.absolutize`` but done on the encoded body: in compact JSON the bytes
    ``_url":"/`` only occur where a key ending in ``_url`` has a value starting with ``/``
    (a quote inside a string is always escaped), and it is fast on multi-megabyte pages.
    """
    response = json_response(data)
    response.body = response.body.replace(b'_url":"/', b'_url":"' + origin.encode("latin-1") + b"/")
    return response


def _body(req: Request) -> dict[str, Any]:
    params, repeated = req.params()
    if repeated:
        raise ApiError(400, f"parameters given more than once: {', '.join(repeated)}")
    return params


def _paginate(req: Request, items: list[Any], cap: int = LIST_CAP) -> dict[str, Any]:
    """Laravel's LengthAwarePaginator envelope (``page`` and ``limit`` query parameters)."""
    query = req.query()
    limit = PER_PAGE
    if query.get("limit", "") != "":
        try:
            value = float(query["limit"])
        except ValueError:
            raise ApiError(400, "The limit must be a number.") from None
        if not math.isfinite(value) or value < 1 or value != int(value):
            raise ApiError(400, "The limit must be a whole number of at least 1.")
        limit = min(int(value), cap)
    raw_page = query.get("page", "")
    page = int(raw_page) if re.fullmatch(r"[0-9]{1,9}", raw_page) and int(raw_page) > 0 else 1  # Laravel: else 1
    total = len(items)
    last_page = max(1, math.ceil(total / limit))
    start = (page - 1) * limit
    data = items[start:start + limit]
    path = req.origin + req.path
    others = [(k, v) for k, v in req.query_pairs() if k != "page"]

    def url(n: int) -> str:
        return f"{path}?{urlencode(others + [('page', str(n))])}"

    return {
        "current_page": page,
        "data": data,
        "first_page_url": url(1),
        "from": start + 1 if data else None,
        "last_page": last_page,
        "last_page_url": url(last_page),
        "next_page_url": url(page + 1) if page < last_page else None,
        "path": path,
        "per_page": limit,
        "prev_page_url": url(page - 1) if page > 1 else None,
        "to": start + len(data) if data else None,
        "total": total,
    }


def _search(items: list[dict[str, Any]], term: str | None, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    if not term:
        return items
    t = term.lower()
    return [i for i in items if any(t in str(i.get(f) or "").lower() for f in fields)]


def _optional_str(body: dict[str, Any], name: str, max_len: int = 255) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > max_len):
        raise ApiError(400, f"The {name} must be a string of at most {max_len} characters.")
    return value


def _utc(state: SandboxState) -> datetime:
    return datetime.fromtimestamp(state.now(), timezone.utc).replace(tzinfo=None)


# -- users ----------------------------------------------------------------------------------


def _world(state: SandboxState) -> World:
    return state_world(state)


def _me(state: SandboxState, principal: Principal) -> dict[str, Any]:
    users = _world(state).collection("users")
    user = users.get(principal.user_id) or users.get(state.seed.me["id"]) or state.seed.me
    if user["id"] == state.seed.me["id"]:
        bio = state.user_bio()
        if bio is not None:
            user = dict(user, bio=bio)
    return user


@route("GET", "/me")
def get_me(req: Request, state: SandboxState, principal: Principal, _: dict) -> dict[str, Any]:
    if state.knobs["passport"]:
        raise ApiError(404, "Not Found")  # as live Bonjoro most likely answers: GET /me is not published
    return _me(state, principal)


@route("POST", "/me")
def post_me(req: Request, state: SandboxState, principal: Principal, _: dict) -> dict[str, Any]:
    bio = _optional_str(_body(req), "bio", 2000)
    if bio is None:
        raise ApiError(400, "The bio field is required.")
    user = _me(state, principal)
    if user["id"] == state.seed.me["id"]:
        state.set_user_bio(bio)
    return {"message": "Updated", "data": dict(user, bio=bio)}


def _signature(user: dict[str, Any], index: int) -> dict[str, Any]:
    return {"id": index + 1, "name": user["name"], "address": user["email"], "via": "Default",
            "is_private": False, "is_verified": True, "is_confirmed": True, "transport_type": "transport_postmark",
            "descriptive_address": f"{user['email']} (Default)", "forwarding_address": "Off", "is_default": True}


@route("GET", "/users")
def get_users(req: Request, state: SandboxState, principal: Principal, _: dict) -> dict[str, Any]:
    includes = req.query().get("includes")
    if includes not in (None, "", "signatures"):
        raise ApiError(400, "The selected includes is invalid.")
    me = _me(state, principal)
    users = [me if u["id"] == me["id"] else u for u in _world(state).collection("users").all()]
    users = [dict(u, signatures=[_signature(u, i)]) if includes else u for i, u in enumerate(users)]
    return _paginate(req, users)


@route("GET", "/users/{user_id}")
def get_user(req: Request, state: SandboxState, principal: Principal, args: dict) -> dict[str, Any]:
    if args["user_id"] == "me":
        return _me(state, principal)
    user = _world(state).collection("users").get(args["user_id"])
    if user is None:
        raise ApiError(404, "User not found")
    return _me(state, principal) if user["id"] == state.seed.me["id"] else user


# -- profiles -------------------------------------------------------------------------------


@route("GET", "/profiles")
def get_profiles(req: Request, state: SandboxState, principal: Principal, _: dict) -> dict[str, Any]:
    items = _search(_world(state).collection("profiles").all(), req.query().get("search"),
                    ("email", "first_name", "last_name", "name"))
    return _paginate(req, items)


def _new_profile(state: SandboxState, email: str, first: str | None, last: str | None) -> dict[str, Any]:
    import uuid

    profile_id = str(uuid.uuid4())
    now = ts(_utc(state))
    name = " ".join(p for p in (first, last) if p) or email.split("@")[0]
    profile = {
        "id": profile_id, "email": email, "name": name, "first_name": first, "last_name": last,
        "image": f"https://media.sandbox.bonjoro.invalid/profiles/{profile_id}.png",
        "work": {"current": None, "title": None},
        "self_url": f"/api/v2/profiles/{profile_id}",
        "attributes_url": f"/api/v2/profiles/{profile_id}/attributes",
        "events_url": f"/api/v2/profiles/{profile_id}/events",
        "unsubscribed": False,
        "demographic": {"location": None, "country": None, "age": None, "sex": None},
        "created_at": now, "updated_at": now,
    }
    _world(state).collection("profiles").put(profile, created=True)
    return profile


def _profile(state: SandboxState, key: str) -> dict[str, Any] | None:
    """A profile by id (a dict lookup) or by (case-insensitive) email."""
    profiles = _world(state).collection("profiles")
    found = profiles.get(key)
    if found is not None or "@" not in key:
        return found
    key_l = key.lower()
    return next((p for p in profiles.all() if p["email"].lower() == key_l), None)


@route("POST", "/profiles")
def post_profile(req: Request, state: SandboxState, principal: Principal, _: dict) -> dict[str, Any]:
    body = _body(req)
    email = body.get("email")
    if not isinstance(email, str) or not _EMAIL.fullmatch(email):
        raise ApiError(400, "The email must be a valid email address.")
    first, last = _optional_str(body, "first_name"), _optional_str(body, "last_name")
    if _profile(state, email) is not None:
        raise ApiError(400, "The email has already been taken.")
    return {"message": "Created", "data": _new_profile(state, email, first, last)}


# -- greets, campaigns, templates -------------------------------------------------------------

GREET_STATUSES = ("open", "closed", "sent")
GREET_SORTS = ("created_at", "updated_at", "uploaded_at", "awaiting_reply", "last_modified", "last_replied_at")


@route("GET", "/greets")
def get_greets(req: Request, state: SandboxState, principal: Principal, _: dict) -> dict[str, Any]:
    query = req.query()
    status = query.get("status")
    if status and status not in GREET_STATUSES:
        raise ApiError(400, "The selected status is invalid.")
    if query.get("sort") and query["sort"] not in GREET_SORTS:
        raise ApiError(400, "The selected sort is invalid.")
    wanted = tuple(query.get(k) or "" for k in ("status", "sort", "assignee_id", "profile_id", "search"))

    def select(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if status:
            items = [g for g in items if g["status"] == status]
        if query.get("sort") in ("updated_at", "last_modified"):
            items = sorted(items, key=lambda g: g["updated_at"], reverse=True)
        if query.get("assignee_id"):
            items = [g for g in items if g["assignee"]["id"] == query["assignee_id"]]
        if query.get("profile_id"):
            items = [g for g in items if any(p["id"] == query["profile_id"] for p in g["profiles"])]
        if query.get("search"):
            term = query["search"].lower()
            items = [g for g in items if any(term in f"{p['email']} {p['name']}".lower() for p in g["profiles"])]
        return items

    greets = _world(state).collection("greets")
    # The filtered (and sorted) list is kept with the collection's listing until it changes:
    # the next page of the same filter is a slice, not another pass over every greet (issue 16).
    items = greets.memo(("GET /greets", wanted), select) if any(wanted) else greets.all()
    return _paginate(req, items, cap=GREETS_MAX)


@route("POST", "/greets")
def post_greet(req: Request, state: SandboxState, principal: Principal, _: dict) -> dict[str, Any]:
    return {"message": "Created", "data": create_greet(state, principal, _body(req))}


def create_greet(state: SandboxState, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A greet for ``body["profiles"]`` (emails or profile ids; unknown emails become profiles)."""
    world = _world(state)
    wanted = body.get("profiles")
    if not isinstance(wanted, list) or not 1 <= len(wanted) <= 200 or not all(isinstance(p, str) for p in wanted):
        raise ApiError(400, "The profiles field must be a list of 1 to 200 emails or profile ids.")
    profiles = []
    for key in wanted:
        profile = _profile(state, key)
        if profile is None and _UUID.fullmatch(key):
            raise ApiError(404, f"Profile {key} not found")
        if profile is None:
            if not _EMAIL.fullmatch(key):
                raise ApiError(400, f"{key!r} is neither an email address nor a profile id.")
            profile = _new_profile(state, key, None, None)
        profiles.append({k: v for k, v in profile.items() if k not in ("created_at", "updated_at")})

    def lookup(name: str, find: Callable[[str], Any], default: Any) -> Any:
        value = _optional_str(body, name, 64)
        if value is None:
            return default
        found = find(value)
        if found is None:
            raise ApiError(404, f"{name} {value} not found")
        return found

    assignee = lookup("assignee_id", world.collection("users").get, _me(state, principal))
    campaign = lookup("campaign_id", world.collection("campaigns").get, None)
    template = lookup("template_id", world.collection("message-templates").get, state.seed.templates[0])
    note = _optional_str(body, "note", 2000)
    attrs = body.get("custom_attributes")
    if attrs is not None and not isinstance(attrs, dict):
        raise ApiError(400, "The custom_attributes field must be an object.")
    now = _utc(state)
    import uuid

    greet = state.seed.build_greet(
        greet_id=str(uuid.uuid4()), created=now, updated=now, assignee=assignee, profiles=profiles,
        template=template, status="open", link_id=str(uuid.uuid4()), event_id=str(uuid.uuid4()),
        note=note, campaign=campaign,
    )
    world.collection("greets").put(greet, created=True)
    return greet


@route("GET", "/campaigns")
def get_campaigns(req: Request, state: SandboxState, principal: Principal, _: dict) -> dict[str, Any]:
    return _paginate(req, _world(state).collection("campaigns").all())


@route("GET", "/message-templates")
def get_templates(req: Request, state: SandboxState, principal: Principal, _: dict) -> dict[str, Any]:
    return _paginate(req, _world(state).collection("message-templates").all())
