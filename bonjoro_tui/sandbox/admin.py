"""``/_sandbox/``: the fault knobs and counters over HTTP (JSON in, JSON out).

Served only by the sandbox itself (never part of Bonjoro's API); the same operations are
methods of ``SandboxState`` for in-process use. See docs/SANDBOX.md.
"""

from __future__ import annotations

from typing import Any, Callable

from bonjoro_tui.sandbox.state import KnobError, SandboxState
from bonjoro_tui.sandbox.web import BadRequest, Request, Response, json_response

PREFIX = "/_sandbox"


def _json_body(req: Request) -> dict[str, Any]:
    if not req.body:
        return {}
    if req.content_type not in ("application/json", ""):
        raise BadRequest("send a JSON object", 415)
    data = req.json()
    if not isinstance(data, dict):
        raise BadRequest("send a JSON object")
    return data


def _overview(state: SandboxState, req: Request) -> dict[str, Any]:
    return {
        "knobs": state.knobs,
        "faults": state.faults,
        "stats": state.stats(),
        "state_file": str(state.state_file) if state.state_file else None,
        "now": state.now(),
        "endpoints": {
            "GET /_sandbox/": "this overview",
            "GET|POST /_sandbox/knobs": "read or change knobs: " + ", ".join(state.knobs),
            "GET|POST|DELETE /_sandbox/fail": "queue faults {count, status: 401|429|500|503, scope: token|api|any}",
            "POST /_sandbox/revoke-all": "revoke every access token, refresh token and unused code",
            "POST /_sandbox/clock": "advance the sandbox's clock {advance: seconds}",
            "GET|DELETE /_sandbox/stats": "request counters (token endpoint by grant type); DELETE resets",
            "POST /_sandbox/reset": "knobs back to the start-up values, no pending faults",
        },
    }


def _knobs(state: SandboxState, req: Request) -> Any:
    if req.method == "GET":
        return state.knobs
    return state.set_knobs(**_json_body(req))


def _fail(state: SandboxState, req: Request) -> Any:
    if req.method == "GET":
        return {"faults": state.faults}
    if req.method == "DELETE":
        state.clear_faults()
        return {"faults": []}
    body = _json_body(req)
    unknown = set(body) - {"count", "status", "scope"}
    if unknown:
        raise KnobError(f"unknown fields: {', '.join(sorted(unknown))}")
    return {"faults": state.fail_next(body.get("count", 1), body.get("status"), body.get("scope", "any"))}


def _revoke_all(state: SandboxState, req: Request) -> Any:
    state.revoke_all()
    return {"revoked": True}


def _clock(state: SandboxState, req: Request) -> Any:
    advance = _json_body(req).get("advance")
    if isinstance(advance, bool) or not isinstance(advance, (int, float)):
        raise KnobError("advance must be a number of seconds")
    return {"clock_offset": state.advance_clock(advance), "now": state.now()}


def _stats(state: SandboxState, req: Request) -> Any:
    if req.method == "DELETE":
        state.reset_stats()
    return state.stats()


def _reset(state: SandboxState, req: Request) -> Any:
    return {"knobs": state.reset()}


ROUTES: dict[str, tuple[tuple[str, ...], Callable[[SandboxState, Request], Any]]] = {
    "/": (("GET",), _overview),
    "/knobs": (("GET", "POST", "PATCH"), _knobs),
    "/fail": (("GET", "POST", "DELETE"), _fail),
    "/revoke-all": (("POST",), _revoke_all),
    "/clock": (("POST",), _clock),
    "/stats": (("GET", "DELETE"), _stats),
    "/reset": (("POST",), _reset),
}


async def handle(req: Request, state: SandboxState) -> Response:
    sub = req.path[len(PREFIX):].rstrip("/") or "/"
    entry = ROUTES.get(sub)
    if entry is None:
        return json_response({"error": f"no such sandbox endpoint: {PREFIX}{sub}"}, 404)
    methods, fn = entry
    if req.method not in methods:
        return json_response({"error": "method not allowed"}, 405, {"allow": ", ".join(methods)})
    origin = req.headers.get("origin")
    if req.method != "GET" and origin is not None and origin != req.origin:
        # A web page in the user's browser may POST here cross-site (no preflight for a simple
        # request): browsers always say where it comes from, so refuse other origins.
        return json_response({"error": "cross-origin requests may not change the sandbox"}, 403)
    try:
        return json_response(fn(state, req), 200, {"cache-control": "no-store"})
    except KnobError as exc:
        return json_response({"error": str(exc)}, 400)
    except BadRequest as exc:
        return json_response({"error": exc.message}, exc.status)
