"""The token endpoint client: code exchange, refresh, client credentials, revocation.

Requests carry ``client_secret`` only when one is configured (a public client sends its
``client_id`` alone, with PKCE). The body is JSON by default (Bonjoro's published token
endpoint takes JSON) or form-encoded (RFC 6749) when ``token_format = "form"``;
revocation (RFC 7009) is always form-encoded.

``expires_at`` counts from the moment the request was sent (the injected ``now``), so it
errs on the early side. Redirects are never followed: a token request carries secrets.

Errors:
* :class:`OAuthError` (``error``, ``description``, ``status``): the server answered with an
  RFC 6749 §5.2 error (or Bonjoro's ``{"error": {"message": …}}`` / ``{"message": …}``);
  :class:`InvalidGrant` when ``error == "invalid_grant"`` (code or refresh token refused).
* :class:`TokenEndpointError`: no usable answer at all — network error, timeout, 5xx,
  HTML, empty or malformed body. Messages never include the request body or a secret.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import quote_plus, urlsplit

import httpx

from bonjoro_tui.auth.errors import InvalidGrant, OAuthError, TokenEndpointError, clean_text
from bonjoro_tui.plumbing.httplimits import MAX_OAUTH_BODY, BodyTooLarge, read_capped
from bonjoro_tui.redact import Redactor
from bonjoro_tui.settings import Settings
from bonjoro_tui.tokens import TokenResponseError, TokenSet


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class OAuthClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient, now: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.http = http
        self.now = now

    # ------------------------------------------------------------------ grants

    async def exchange_code(self, code: str, verifier: str, redirect_uri: str) -> TokenSet:
        return await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        tokens = await self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})
        if tokens.refresh_token is None:
            # RFC 6749 §6: the server may keep the refresh token unchanged and not return it.
            tokens = TokenSet(**{**tokens.__dict__, "refresh_token": refresh_token})
        return tokens

    async def client_credentials(self) -> TokenSet:
        if not self.settings.client_secret:
            raise OAuthError(
                "invalid_client",
                "client credentials need a client secret (BONJORO_CLIENT_SECRET)",
            )
        data = {"grant_type": "client_credentials"}
        scope = self.settings.cc_scope or self.settings.scope  # BONJORO_CC_SCOPE, else BONJORO_SCOPE
        if scope:
            data["scope"] = scope
        return await self._token_request(data)

    async def revoke(self, token: str, token_type_hint: str | None = None) -> bool:
        """RFC 7009. True once the server confirmed; False when no endpoint is configured."""
        url = self.settings.revoke_url
        if not url:
            return False
        fields, headers = self._client_auth()
        data = {"token": token, **fields}
        if token_type_hint:
            data["token_type_hint"] = token_type_hint
        response = await self._post(url, data, form=True, what="revocation endpoint", headers=headers)
        if response.status_code == 200:
            return True
        self._raise_for_error(response, url, what="revocation endpoint",
                              sent={**data, "client_secret": self.settings.client_secret or ""})
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ plumbing

    def _client_auth(self) -> tuple[dict[str, str], dict[str, str]]:
        """(body fields, headers) that identify the client (RFC 6749 §2.3.1). With a secret and
        ``client_secret_basic``: an ``Authorization: Basic`` header of the form-encoded id and
        secret, and no secret in the body; with ``client_secret_post``: both in the body. A
        public client (no secret, or ``none``) sends its ``client_id`` in the body only."""
        client_id = self.settings.client_id or ""
        secret = self.settings.client_secret if self.settings.token_auth != "none" else None
        if secret and self.settings.token_auth == "client_secret_basic":
            pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
            return {}, {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        fields = {"client_id": client_id}
        if secret:
            fields["client_secret"] = secret
        return fields, {}

    async def _token_request(self, data: dict[str, str]) -> TokenSet:
        url = self.settings.token_url
        if not url:
            raise TokenEndpointError("no token URL is configured (BONJORO_TOKEN_URL or BONJORO_BASE_URL)")
        if not self.settings.client_id:
            raise TokenEndpointError("no client id is configured (BONJORO_CLIENT_ID)")
        sent_at = self.now()
        fields, headers = self._client_auth()
        payload = {**data, **fields}
        response = await self._post(url, payload, form=self.settings.token_format == "form", what="token endpoint",
                                    headers=headers)
        if response.status_code != 200:
            self._raise_for_error(response, url, what="token endpoint", sent={**payload, "client_secret": self.settings.client_secret or ""})
        body = self._json(response, url, what="token endpoint")
        try:
            return TokenSet.from_response(body, sent_at)
        except TokenResponseError as exc:
            raise TokenEndpointError(f"the token endpoint at {_origin(url)} sent an unusable answer: {exc}") from None

    async def _post(self, url: str, data: dict[str, str], *, form: bool, what: str,
                    headers: dict[str, str] | None = None) -> "_Answer":
        headers = {"Accept": "application/json", "Cache-Control": "no-store", **(headers or {})}
        if form:
            request = self.http.build_request("POST", url, data=data, headers=headers)
        else:
            request = self.http.build_request("POST", url, json=data, headers=headers)
        try:
            response = await self.http.send(request, follow_redirects=False, stream=True)
            content = await read_capped(response, MAX_OAUTH_BODY)
        except BodyTooLarge as exc:
            raise TokenEndpointError(f"the {what} at {_origin(url)} sent too much: {exc}",
                                     status=response.status_code, hint="check the configured endpoint URL") from None
        except httpx.TimeoutException:
            raise TokenEndpointError(
                f"the {what} at {_origin(url)} did not answer in time", hint="check the connection and try again"
            ) from None
        except httpx.HTTPError as exc:
            reason = clean_text(str(exc), 120) or type(exc).__name__
            raise TokenEndpointError(
                f"could not reach the {what} at {_origin(url)}: {reason}", hint="check the connection and try again"
            ) from None
        return _Answer(response.status_code, response.headers, content)

    @staticmethod
    def _json(response: "_Answer", url: str, *, what: str) -> Any:
        status = response.status_code
        content = response.content
        if not content.strip():
            raise TokenEndpointError(f"the {what} at {_origin(url)} sent an empty answer (HTTP {status})", status=status)
        try:
            return json.loads(content)
        except (ValueError, UnicodeDecodeError):
            kind = "an HTML page" if b"<" in content[:200] else "something that is not JSON"
            raise TokenEndpointError(
                f"the {what} at {_origin(url)} sent {kind} instead of JSON (HTTP {status})",
                status=status,
                hint="check the configured endpoint URL" if status < 500 else "try again later",
            ) from None

    def _raise_for_error(self, response: "_Answer", url: str, *, what: str, sent: Mapping[str, str]) -> None:
        """Raise the error the server's answer says. ``sent`` is the request we made: a server
        that quotes it back (an ``error_description`` holding our body) gets every secret in it
        masked before the text reaches a message."""
        status = response.status_code
        origin = _origin(url)
        if 300 <= status < 400:
            raise TokenEndpointError(
                f"the {what} at {origin} redirected (HTTP {status}); redirects are not followed",
                status=status,
                hint="check the configured endpoint URL",
            )
        if status == 429:
            # Not a refusal of the grant: the server is limiting requests. Say when to retry.
            retry_after = response.headers.get("retry-after")
            wait = f"; try again in {retry_after.strip()} s" if retry_after and retry_after.strip().isdigit() else ""
            raise TokenEndpointError(
                f"the {what} at {origin} is limiting requests (HTTP 429){wait}",
                status=status,
                retry_after=retry_after,
                hint="wait a moment and try again",
            )
        body: Any = None
        if response.content.strip():
            try:
                body = json.loads(response.content)
            except (ValueError, UnicodeDecodeError):
                body = None
        error = _oauth_error(body, status, Redactor(v for k, v in sent.items() if k in _SECRET_FIELDS))
        if status >= 500 or error is None:
            detail = f": {error.error}" + (f" ({error.description})" if error.description else "") if error else ""
            if status >= 500:
                message = f"the {what} at {origin} failed (HTTP {status}){detail}"
                hint = "the server has a problem; try again later"
            else:
                kind = "an HTML page" if body is None and b"<" in response.content[:200] else "no OAuth error"
                message = f"the {what} at {origin} answered HTTP {status} with {kind}"
                hint = "check the configured endpoint URL"
            if status == 415:
                hint = self._format_hint()
            raise TokenEndpointError(
                message, status=status, retry_after=response.headers.get("retry-after"), hint=hint
            )
        if what == "token endpoint" and error.error in ("unsupported_grant_type", "invalid_request"):
            # The usual sign of a body in the format the server does not read (it sees no grant_type).
            error.hint = f"{error.hint}; {self._format_hint()}" if error.hint else self._format_hint()
        raise error

    def _format_hint(self) -> str:
        sent = self.settings.token_format
        other = "form" if sent == "json" else "json"
        return (f"the request was sent as a {sent} body ({self.settings.source('token_format')}); if this server "
                f"expects a {other} body, set BONJORO_TOKEN_FORMAT={other}")


@dataclass(frozen=True)
class _Answer:
    """An authorization server's answer, its body read within ``MAX_OAUTH_BODY``."""

    status_code: int
    headers: httpx.Headers
    content: bytes


#: Request fields whose values never appear in a message, even quoted back by the server.
_SECRET_FIELDS = frozenset({"client_secret", "code", "code_verifier", "refresh_token", "token", "password"})


def _oauth_error(body: Any, status: int, scrub: Callable[[str], str] = str) -> OAuthError | None:
    """An OAuthError from an RFC 6749 §5.2 body or Bonjoro's own error shapes; None otherwise.
    ``scrub`` masks what we sent (see ``_raise_for_error``) before the text is cleaned."""

    def text(value: str, limit: int = 200) -> str:
        return clean_text(scrub(value), limit)

    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    description = body.get("error_description")
    if isinstance(error, str) and error:
        desc = text(description) if isinstance(description, str) and description else None
        # Laravel Passport before league/oauth2-server 8 answers a dead refresh token with 401
        # invalid_request "The refresh token is invalid." — the same news as invalid_grant.
        passport_dead = error == "invalid_request" and status == 401 and "refresh token is invalid" in (desc or "").lower()
        cls = InvalidGrant if error == "invalid_grant" or passport_dead else OAuthError
        return cls(text(error, 60), desc, status)
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        return OAuthError(f"http_{status}", text(error["message"]), status)
    if isinstance(body.get("message"), str):
        return OAuthError(f"http_{status}", text(body["message"]), status)
    return None
