"""The protected API and what the harness records.

* ``GET /api/me``: who the Bearer token belongs to, wrapped in ``data`` as Bonjoro's ``/me`` is:
  the user for a user's token, the application for a client-credentials token. Protected by
  DOT's ``ScopedProtectedResourceMetadataView`` (scope ``read``), which answers a bad or expired
  token with RFC 6750's 401 and a ``WWW-Authenticate`` challenge (DOT's plain
  ``ProtectedResourceView`` answers a bare 403).
* :class:`RecordExchanges`: every request to DOT's token and revocation endpoints (and to their
  paths without the trailing slash), as the server saw it — body format, how the client
  authenticated, the answer's status and OAuth error — but never a secret, a code or a token.
  ``GET /_harness/exchanges`` lists them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider.models import get_access_token_model
from oauth2_provider.views.generic import ScopedProtectedResourceMetadataView

#: DOT's token and revocation endpoints, and the same paths without their trailing slash (Django
#: answers those with a 301 to the slashed path: recorded, so a test shows what was sent).
RECORDED_PATHS = ("/o/token/", "/o/revoke_token/", "/o/token", "/o/revoke_token")

_lock = threading.Lock()
_exchanges: list[dict] = []


class Me(ScopedProtectedResourceMetadataView):
    required_scopes = ["read"]

    def get(self, request: HttpRequest) -> JsonResponse:
        bearer = request.headers.get("Authorization", "").partition(" ")[2].strip()
        token = get_access_token_model().objects.select_related("application", "user").get(
            token_checksum=hashlib.sha256(bearer.encode()).hexdigest()
        )
        if token.user is not None:
            user = token.user
            data = {"id": user.pk, "name": user.get_full_name(), "email": user.email}
        else:
            app = token.application
            data = {"id": f"client:{app.client_id}", "name": app.name, "email": None}
        return JsonResponse({"data": data})


def exchanges(request: HttpRequest) -> JsonResponse:
    with _lock:
        return JsonResponse({"exchanges": list(_exchanges)})


def _fields(request: HttpRequest) -> tuple[str, dict[str, str]]:
    """The body's format ("form", "json" or the content type) and its fields."""
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        return "form", {k: v for k, v in request.POST.items()}
    if content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return "json (unparseable)", {}
        return "json", {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return content_type or "(none)", {}


def _basic_client_id(request: HttpRequest) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        pair = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "(undecodable)"
    return unquote_plus(pair.partition(":")[0])


class RecordExchanges:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path not in RECORDED_PATHS:
            return self.get_response(request)
        body_format, fields = _fields(request)
        record = {
            "endpoint": request.path,
            "method": request.method,
            "format": body_format,
            "basic_client_id": _basic_client_id(request),
            "body_client_id": fields.get("client_id"),
            "body_has_secret": bool(fields.get("client_secret")),
            "grant_type": fields.get("grant_type"),
            "token_type_hint": fields.get("token_type_hint"),
        }
        response = self.get_response(request)
        record["status"] = response.status_code
        error = None
        if response.get("Content-Type", "").startswith("application/json"):
            try:
                error = json.loads(response.content).get("error")
            except (ValueError, AttributeError):
                error = None
        record["error"] = error
        with _lock:
            _exchanges.append(record)
        return response
