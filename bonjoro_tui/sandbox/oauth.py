"""The sandbox's OAuth 2.0 endpoints: authorize (+ consent), token, revoke.

RFC 6749 (§4.1 code grant, §4.4 client credentials, §5.2 errors, §6 refresh), RFC 7636
(PKCE, S256 only), RFC 8252 §7.3 (any loopback port), RFC 9700 §4.14.2 (refresh rotation
with reuse detection), RFC 7009 (revocation), RFC 9207 (``iss`` in the authorization response).
"""

from __future__ import annotations

import re
from typing import Any

from bonjoro_tui.sandbox.clients import CLIENTS, Client, ClientAuthError, authenticate_client, redirect_uri_allowed
from bonjoro_tui.sandbox.grants import DEFAULT_SCOPE, GrantError
from bonjoro_tui.sandbox.pages import consent_page, error_page, origin_of, security_headers
from bonjoro_tui.sandbox.state import SandboxState
from bonjoro_tui.sandbox.web import NO_STORE, BadRequest, Request, Response, add_query, html_response, json_response, redirect

_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # BASE64URL(SHA-256(verifier)), no padding
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 §4.1
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")  # RFC 6749 §3.3
MAX_STATE = 1024


def describe(text: str) -> str:
    """An ``error_description`` within RFC 6749's allowed characters (%x20-21 / %x23-5B / %x5D-7E).

    Descriptions may quote what the client sent; anything outside that set becomes ``?``.
    """
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)[:300]


def oauth_error(error: str, description: str, status: int = 400, headers: dict[str, str] | None = None) -> Response:
    """RFC 6749 §5.2 error response."""
    body = {"error": error, "error_description": describe(description)}
    return json_response(body, status, {**NO_STORE, **(headers or {})})


def fault_response(status: int) -> Response:
    """What a forced fault looks like outside the API (Laravel's default JSON bodies)."""
    if status == 401:
        return oauth_error("invalid_client", "forced by the sandbox's fault knob", 401)
    message = {429: "Too Many Attempts.", 500: "Server Error", 503: "Service Unavailable"}[status]
    headers = {"retry-after": "1"} if status in (429, 503) else {}
    return json_response({"message": message}, status, {**NO_STORE, **headers})


def _normalise_scope(scope: Any) -> str | None:
    """The scope as a single-space list, DEFAULT_SCOPE when absent or empty, None when malformed."""
    if scope is None:
        return DEFAULT_SCOPE
    if not isinstance(scope, str):
        return None
    tokens = [t for t in scope.split(" ") if t]
    if not tokens:
        return DEFAULT_SCOPE
    if any(not _SCOPE_TOKEN.fullmatch(t) for t in tokens):
        return None
    return " ".join(tokens)


# -- authorization endpoint -----------------------------------------------------------------


def _page_error(error: str, description: str) -> Response:
    return html_response(error_page(error, description), 400, security_headers())


async def authorize(req: Request, state: SandboxState) -> Response:
    state.count("authorize_requests")
    if req.method == "POST":
        return await _consent_decision(req, state)
    pairs = req.query_pairs()
    names = [k for k, _ in pairs]
    repeated = sorted({k for k in names if names.count(k) > 1})
    params = dict(pairs)

    # Until client and redirect URI are known good, errors go on a page, never to a redirect.
    client = CLIENTS.get(params.get("client_id", "")) if "client_id" not in repeated else None
    if client is None:
        return _page_error("invalid_request", "client_id is missing or names no registered client.")
    redirect_uri = params.get("redirect_uri", "")
    if "redirect_uri" in repeated or not redirect_uri_allowed(client, redirect_uri):
        return _page_error("invalid_request", "redirect_uri is missing or is not registered for this client.")

    client_state = params.get("state") or None

    def fail(error: str, description: str) -> Response:
        return redirect(
            add_query(redirect_uri, {"error": error, "error_description": describe(description),
                                     "state": client_state, "iss": req.origin})
        )

    if repeated:
        return fail("invalid_request", f"parameters given more than once: {', '.join(repeated)}")
    if client_state is not None and len(client_state) > MAX_STATE:
        return fail("invalid_request", f"state is longer than {MAX_STATE} characters")
    response_type = params.get("response_type")
    if not response_type:
        return fail("invalid_request", "response_type is required")
    if response_type != "code":
        return fail("unsupported_response_type", "only response_type=code is supported")
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if not challenge:
        return fail("invalid_request", "code_challenge is required (PKCE, RFC 7636)")
    if method != "S256":
        return fail("invalid_request", "code_challenge_method must be S256; plain is not accepted")
    if not _CHALLENGE.fullmatch(challenge):
        return fail("invalid_request", "code_challenge must be 43 base64url characters (S256)")
    scope = _normalise_scope(params.get("scope"))
    if scope is None:
        return fail("invalid_scope", "scope is malformed")

    request = {"client_id": client.client_id, "redirect_uri": redirect_uri, "challenge": challenge,
               "scope": scope, "state": client_state, "origin": req.origin}
    if state.knobs["auto_approve"]:
        return _approve(state, request, 302)
    request_id = state.park_request(request)
    page = consent_page(request_id=request_id, client_name=client.name, client_id=client.client_id,
                        user=state.seed.me, redirect_uri=redirect_uri, scope=scope, state=client_state)
    return html_response(page, 200, security_headers((origin_of(redirect_uri),)))


def _approve(state: SandboxState, request: dict[str, Any], status: int) -> Response:
    code = state.issue_code(client_id=request["client_id"], redirect_uri=request["redirect_uri"],
                            challenge=request["challenge"], scope=request["scope"], user_id=state.seed.me["id"])
    return redirect(add_query(request["redirect_uri"], {"code": code, "state": request["state"],
                                                        "iss": request["origin"]}), status)


async def _consent_decision(req: Request, state: SandboxState) -> Response:
    try:
        params, repeated = req.params()
    except BadRequest as exc:
        return _page_error("invalid_request", exc.message)
    decision = params.get("decision")
    if repeated or decision not in ("approve", "deny") or not isinstance(params.get("request_id"), str):
        return _page_error("invalid_request", "the consent form was not submitted as the sandbox sent it.")
    request = state.claim_request(params["request_id"])
    if request is None:
        return _page_error("invalid_request", "this consent request is unknown, used or expired; start again.")
    if decision == "approve":
        return _approve(state, request, 303)
    return redirect(add_query(request["redirect_uri"], {
        "error": "access_denied", "error_description": "the user denied access",
        "state": request["state"], "iss": request["origin"]}), 303)


# -- metadata (RFC 8414) --------------------------------------------------------------------


async def metadata(req: Request, state: SandboxState) -> Response:
    """``/.well-known/oauth-authorization-server``: where everything is and what is supported."""
    origin = req.origin
    return json_response({
        "issuer": origin,
        "authorization_endpoint": f"{origin}/oauth/authorize",
        "token_endpoint": f"{origin}/api/v2/oauth/2/token",
        "revocation_endpoint": f"{origin}/oauth/revoke",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": True,
    })


# -- token endpoint -------------------------------------------------------------------------


def _grant_label(grant: Any) -> str:
    if grant is None:
        return "(missing)"
    if isinstance(grant, str) and 0 < len(grant) <= 64 and grant.isprintable():
        return grant
    return "(invalid)"


def _read_params(req: Request) -> dict[str, Any]:
    if req.method != "POST":
        raise GrantError("invalid_request", "use POST", 405)
    try:
        params, repeated = req.params()
    except BadRequest as exc:
        raise GrantError("invalid_request", exc.message) from exc
    if repeated:
        raise GrantError("invalid_request", f"parameters given more than once: {', '.join(repeated)}")
    for name, value in params.items():
        if value is not None and not isinstance(value, str):
            raise GrantError("invalid_request", f"{name} must be a string")
    return params


def _require(params: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise GrantError("invalid_request", f"missing parameter: {', '.join(missing)}")


def _client_error(exc: ClientAuthError) -> Response:
    if exc.error != "invalid_client":
        return oauth_error(exc.error, exc.description)
    headers = {"www-authenticate": 'Basic realm="bonjoro-sandbox"'} if exc.basic else {}
    return oauth_error("invalid_client", exc.description, 401, headers)


async def token(req: Request, state: SandboxState) -> Response:
    try:
        params = _read_params(req)
    except GrantError as exc:
        state.count("token_requests", "(unreadable)")
        state.count("token_errors", "(unreadable)")
        headers = {"allow": "POST"} if exc.status == 405 else None
        return oauth_error(exc.error, exc.description, exc.status, headers)
    label = _grant_label(params.get("grant_type"))
    state.count("token_requests", label)
    fault = state.take_fault("token")
    if fault is not None:
        state.count("token_errors", label)
        return fault_response(fault)
    try:
        client = authenticate_client(params, req.headers.get("authorization"))
        tokens = _grant(params, client, state)
    except ClientAuthError as exc:
        state.count("token_errors", label)
        return _client_error(exc)
    except GrantError as exc:
        state.count("token_errors", label)
        if exc.error == "invalid_grant" and params.get("grant_type") == "refresh_token" and state.knobs["passport"]:
            # league/oauth2-server before 8.x: OAuthServerException::invalidRefreshToken()
            return oauth_error("invalid_request", "The refresh token is invalid.", 401)
        return oauth_error(exc.error, exc.description, exc.status)
    return json_response(tokens, 200, NO_STORE)


def _grant(params: dict[str, Any], client: Client, state: SandboxState) -> dict[str, Any]:
    grant = params.get("grant_type")
    if not grant:
        raise GrantError("invalid_request", "grant_type is required")
    if grant not in ("authorization_code", "refresh_token", "client_credentials"):
        hint = " (RFC 9700 forbids the password grant)" if grant == "password" else ""
        raise GrantError("unsupported_grant_type", f"grant_type {grant!r} is not supported{hint}")
    if grant not in client.grant_types:
        raise GrantError("unauthorized_client", f"this client may not use the {grant} grant")
    if grant == "authorization_code":
        _require(params, "code", "redirect_uri", "code_verifier")
        if not _VERIFIER.fullmatch(params["code_verifier"]):
            raise GrantError("invalid_request", "code_verifier must be 43-128 unreserved characters (RFC 7636)")
        return state.redeem_code(client, params["code"], params["redirect_uri"], params["code_verifier"])
    scope = None
    if params.get("scope") is not None:
        scope = _normalise_scope(params["scope"])
        if scope is None:
            raise GrantError("invalid_scope", "scope is malformed")
    if grant == "refresh_token":
        _require(params, "refresh_token")
        return state.refresh(client, params["refresh_token"], scope)
    return state.client_credentials(client, scope, state.seed.me["id"])


# -- revocation endpoint --------------------------------------------------------------------


async def revoke(req: Request, state: SandboxState) -> Response:
    state.count("revoke_requests")
    try:
        params = _read_params(req)
        client = authenticate_client(params, req.headers.get("authorization"))
        _require(params, "token")
        state.revoke(client, params["token"])
    except ClientAuthError as exc:
        return _client_error(exc)
    except GrantError as exc:
        return oauth_error(exc.error, exc.description, exc.status, {"allow": "POST"} if exc.status == 405 else None)
    return Response(200, b"", dict(NO_STORE))
