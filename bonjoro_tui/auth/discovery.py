"""An issuer alone configures the client: authorization server metadata (RFC 8414, OpenID Connect
Discovery 1.0).

With ``BONJORO_ISSUER`` (or ``login --issuer``) set and no built-in sandbox in use,
:func:`resolve` reads the issuer's metadata and fills in every endpoint setting the user did not
set — ``authorize_url``, ``token_url``, ``revoke_url``, ``userinfo_url`` — and the client
authentication (``token_endpoint_auth_methods_supported``: ``client_secret_basic`` when listed,
else ``client_secret_post``, else ``none``; RFC 8414's default ``client_secret_basic`` when the
field is absent) unless ``BONJORO_TOKEN_AUTH`` is set. The body format follows the discovered
token endpoint as for a configured one (JSON for Bonjoro's published path, a form otherwise).
``iss`` on the redirect is then checked against the issuer as before (RFC 9207).

Where the metadata is looked for, in order (both are tried; the first found is used):

1. RFC 8414 §3.1: ``/.well-known/oauth-authorization-server`` inserted between the issuer's
   origin and its path (``https://as.example/tenant`` →
   ``https://as.example/.well-known/oauth-authorization-server/tenant``);
2. OpenID Connect Discovery §4: ``/.well-known/openid-configuration`` appended to the issuer.

Rules:

* The document's ``issuer`` must equal the configured issuer exactly (RFC 8414 §3.3), else the
  document is refused — no other location is tried after a mismatch.
* Each endpoint passes the checks of every URL setting (``settings.check_url``): https, or
  plain http to a loopback host only; no credentials in it.
* An explicit setting always wins over a discovered value (``Settings.explicit``).
* Trust (``bonjoro_tui.trust`` rule 2): a discovered endpoint inherits the issuer's source — a
  ``.env`` issuer makes every endpoint it discovers untrusted. ``sources[key]`` reads
  ``"discovered from <where the issuer came from>"``.
* One GET per location, redirects never followed, a short timeout, the body read within
  ``MAX_OAUTH_BODY``. The result lives in the session's resolved :class:`Settings` only
  (no file): every ``bonjoro-tui`` command reads the metadata afresh.

When no document is found (404s, or the server cannot be reached) but the endpoints are
configured anyway (a base URL, or both the authorize and token URLs), the configured ones are
used and a warning is added to ``Settings.warnings``; otherwise :class:`MetadataNotFound` is
raised. A document that is found but wrong is always refused (:class:`DiscoveryError`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from bonjoro_tui.auth.errors import DiscoveryError, MetadataNotFound, clean_text
from bonjoro_tui.plumbing.httplimits import MAX_OAUTH_BODY, BodyTooLarge, read_capped_sync
from bonjoro_tui.settings import (
    AUTHORIZE_PATH,
    DISCOVERED_KEYS,
    REVOKE_PATH,
    TOKEN_AUTH_METHODS,
    TOKEN_PATH,
    Settings,
    SettingsError,
    check_url,
    token_endpoint_defaults,
)

WELL_KNOWN_OAUTH = "/.well-known/oauth-authorization-server"
WELL_KNOWN_OIDC = "/.well-known/openid-configuration"
#: Seconds for each metadata request: it runs before anything else, so it must not hang a command.
TIMEOUT = 5.0

#: Settings key -> metadata field.
FIELDS = {
    "authorize_url": "authorization_endpoint",
    "token_url": "token_endpoint",
    "revoke_url": "revocation_endpoint",
    "userinfo_url": "userinfo_endpoint",
}
AUTH_METHODS_FIELD = "token_endpoint_auth_methods_supported"

Log = Callable[[str], None]


@dataclass(frozen=True)
class Metadata:
    """What we use of an issuer's metadata, checked."""

    url: str  # where it was read
    issuer: str
    endpoints: dict[str, str]  # settings key -> URL, only those the document names
    auth_methods: tuple[str, ...] | None  # token_endpoint_auth_methods_supported; None: absent
    #: authorization_response_iss_parameter_supported (RFC 9207 §3): the server always sends iss.
    sends_iss: bool = False


def metadata_urls(issuer: str) -> list[str]:
    """The two well-known locations for ``issuer``, RFC 8414's first."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")  # RFC 8414 §3.1: a terminating "/" is removed before inserting
    rfc8414 = urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN_OAUTH + path, "", ""))
    oidc = issuer.rstrip("/") + WELL_KNOWN_OIDC
    return [rfc8414] + ([oidc] if oidc != rfc8414 else [])


def parse_metadata(issuer: str, url: str, document: Any) -> Metadata:
    """Check a metadata ``document`` read from ``url`` for ``issuer``; raise :class:`DiscoveryError`."""
    if not isinstance(document, Mapping):
        raise DiscoveryError(f"the metadata at {url} is not a JSON object")
    named = document.get("issuer")
    if named != issuer:
        shown = repr(clean_text(named, 120)) if isinstance(named, str) else "no issuer" if named is None else (
            f"a {type(named).__name__} as issuer")
        raise DiscoveryError(
            f"refusing the metadata at {url}: it names {shown}, not the configured issuer {issuer!r} "
            "(RFC 8414 §3.3: they must be identical, or the document may be another server's)"
        )
    endpoints: dict[str, str] = {}
    for key, name in FIELDS.items():
        value = document.get(name)
        if value is None:
            continue
        where = f"{name} in the metadata at {url}"
        if not isinstance(value, str) or not value:
            raise DiscoveryError(f"{where}: expected a URL, got {type(value).__name__}")
        if len(value) > 2000 or any(c.isspace() or not c.isprintable() for c in value):
            raise DiscoveryError(f"{where}: {clean_text(value, 120)!r} is not a URL")
        try:
            endpoints[key] = check_url(key, value, where)
        except SettingsError as exc:
            raise DiscoveryError(str(exc), hint="the server publishes an endpoint bonjoro-tui will not use; set "
                                 f"BONJORO_{key.upper()} yourself if you know a safe one") from None
    methods = document.get(AUTH_METHODS_FIELD)
    if methods is not None and not (isinstance(methods, list) and all(isinstance(m, str) for m in methods)):
        raise DiscoveryError(f"{AUTH_METHODS_FIELD} in the metadata at {url} is not a list of strings")
    return Metadata(url, issuer, endpoints, tuple(methods) if methods is not None else None,
                    document.get("authorization_response_iss_parameter_supported") is True)


def fetch_metadata(issuer: str, *, http: httpx.Client | None = None, log: Log | None = None) -> Metadata:
    """Read and check the issuer's metadata (both locations, RFC 8414's first).

    Raises :class:`MetadataNotFound` when neither location has a document, or the server cannot
    be reached; :class:`DiscoveryError` when a document is found but cannot be used.
    """
    parts = urlsplit(issuer)
    if parts.query or parts.fragment:
        raise DiscoveryError(f"the issuer {issuer!r} has a query or fragment; an issuer identifier has neither "
                             "(RFC 8414 §2)")
    client = http or _client()
    tried: list[str] = []
    try:
        for url in metadata_urls(issuer):
            try:
                request = client.build_request("GET", url, headers={"Accept": "application/json"})
                response = client.send(request, stream=True, follow_redirects=False)
                content = read_capped_sync(response, MAX_OAUTH_BODY)
            except BodyTooLarge as exc:
                tried.append(f"{url}: {exc}")
                continue
            except httpx.TimeoutException:
                tried.append(f"{url}: no answer within {TIMEOUT:g} s")
                break  # both locations are on the issuer's origin: the other one will not answer either
            except httpx.HTTPError as exc:
                tried.append(f"{url}: {clean_text(str(exc), 120) or type(exc).__name__}")
                break
            status = response.status_code
            if log is not None:
                log(f"· discovery: GET {url} -> HTTP {status}")
            if status != 200:
                note = " (a redirect; redirects are not followed)" if 300 <= status < 400 else ""
                tried.append(f"{url}: HTTP {status}{note}")
                continue
            try:
                document = json.loads(content)
            except (ValueError, UnicodeDecodeError):
                tried.append(f"{url}: not JSON")
                continue
            return parse_metadata(issuer, url, document)
    finally:
        if http is None:
            client.close()
    raise MetadataNotFound(f"no authorization server metadata for the issuer {issuer!r}: " + "; ".join(tried))


def apply_metadata(settings: Settings, metadata: Metadata | None) -> Settings:
    """``settings`` with what ``metadata`` names filled in wherever nothing was set explicitly.

    ``metadata`` None: none was found; an explicit base URL then derives the endpoints, as it
    would without an issuer. Raises :class:`DiscoveryError` when no token endpoint results.
    """
    sources = dict(settings.sources)
    untrusted = set(settings.untrusted)
    issuer_source = settings.source("issuer")
    found_here = f"discovered from {issuer_source}"
    values: dict[str, Any] = {}
    base = settings.base_url.rstrip("/") if settings.base_url and "base_url" in settings.explicit else None
    fallback = {"authorize_url": AUTHORIZE_PATH, "token_url": TOKEN_PATH, "revoke_url": REVOKE_PATH}
    for key in DISCOVERED_KEYS:
        if key in settings.explicit:
            continue
        untrusted.discard(key)
        if metadata is not None and key in metadata.endpoints:
            values[key] = metadata.endpoints[key]
            sources[key] = found_here
            if "issuer" in settings.untrusted:
                untrusted.add(key)
        elif base is not None and key in fallback:
            values[key] = base + fallback[key]
            sources[key] = f"derived from {settings.source('base_url')}"
            if "base_url" in settings.untrusted:
                untrusted.add(key)
        else:
            values[key] = None
            sources.pop(key, None)
    token_url = values.get("token_url", settings.token_url)
    if not token_url:
        where = f"the metadata at {metadata.url}" if metadata is not None else "the issuer"
        raise DiscoveryError(f"{where} names no token_endpoint",
                             hint="set BONJORO_TOKEN_URL (and BONJORO_AUTHORIZE_URL) yourself")
    defaults = token_endpoint_defaults(settings.target, token_url)
    if "token_format" not in settings.explicit:
        values["token_format"], sources["token_format"] = defaults["token_format"]
    if "token_auth" not in settings.explicit:
        if metadata is None:
            values["token_auth"], sources["token_auth"] = defaults["token_auth"]
        else:
            values["token_auth"], sources["token_auth"] = _choose_auth(metadata, found_here)
    return replace(settings, **values, sources=sources, untrusted=frozenset(untrusted),
                   metadata_url=metadata.url if metadata is not None else None,
                   issuer_sends_iss=metadata is not None and metadata.sends_iss)


def _choose_auth(metadata: Metadata, found_here: str) -> tuple[str, str]:
    if metadata.auth_methods is None:
        return "client_secret_basic", (f"the default of RFC 8414 (the metadata at {metadata.url} lists no "
                                       f"{AUTH_METHODS_FIELD})")
    listed = ", ".join(clean_text(m, 40) for m in metadata.auth_methods) or "none"
    for method in TOKEN_AUTH_METHODS:  # client_secret_basic, client_secret_post, none: in that order
        if method in metadata.auth_methods:
            return method, f"{found_here} ({AUTH_METHODS_FIELD}: {listed})"
    return "none", f"{found_here} ({AUTH_METHODS_FIELD}: {listed}; none bonjoro-tui can use, so no client secret)"


def _can_do_without(settings: Settings) -> bool:
    """The configured endpoints suffice without metadata: a base URL, or authorize and token URLs."""
    return "base_url" in settings.explicit or {"authorize_url", "token_url"} <= settings.explicit


def resolve(settings: Settings, *, http: httpx.Client | None = None, log: Log | None = None) -> Settings:
    """``settings`` with the issuer's metadata applied (unchanged when there is nothing to
    discover: no issuer, the built-in sandbox, or discovered already). See the module docstring."""
    if not settings.needs_discovery:
        return settings
    assert settings.issuer is not None
    try:
        metadata = fetch_metadata(settings.issuer, http=http, log=log)
    except MetadataNotFound as exc:
        if not _can_do_without(settings):
            raise
        resolved = apply_metadata(settings, None)
        warning = f"{exc}; using the configured endpoints"
        if log is not None:
            log(f"· discovery: {warning}")
        return replace(resolved, warnings=[*settings.warnings, warning])
    return apply_metadata(settings, metadata)


def _client() -> httpx.Client:
    from bonjoro_tui.plumbing.tls import DeferredTrustContext

    # As the session's client: HTTPS_PROXY / NO_PROXY / SSL_CERT_FILE honoured; nothing followed.
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=True,
                        verify=DeferredTrustContext(trust_env=True))
