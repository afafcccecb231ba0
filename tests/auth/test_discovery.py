"""Discovery (bonjoro_tui.auth.discovery): an issuer's RFC 8414 / OpenID Connect metadata fills in
the endpoints the user did not set — checked, never trusted beyond where the issuer came from."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bonjoro_tui.auth.discovery import metadata_urls, resolve
from bonjoro_tui.auth.errors import DiscoveryError, MetadataNotFound
from bonjoro_tui.settings import SANDBOX, load_settings
from bonjoro_tui.trust import UntrustedConfiguration, check_sign_in, endpoint_report

ISSUER = "https://as.example"


def metadata(issuer: str = ISSUER, **fields) -> dict:
    doc = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "revocation_endpoint": f"{issuer}/revoke",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
    }
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not None}


class Server:
    """A MockTransport answering ``documents[url]`` (a dict: JSON 200; an int: that status)."""

    def __init__(self, documents: dict[str, object]) -> None:
        self.documents = documents
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.documents.get(str(request.url), 404)
        if isinstance(answer, int):
            headers = {"location": "https://elsewhere.example/"} if 300 <= answer < 400 else {}
            return httpx.Response(answer, headers=headers)
        if isinstance(answer, bytes):
            return httpx.Response(200, content=answer)
        return httpx.Response(200, json=answer)

    @property
    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    @property
    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]


def settings(tmp_path: Path, dotenv: str | None = None, **env: str):
    base = {"BONJORO_TUI_DATA_DIR": str(tmp_path / "data"), "BONJORO_TUI_CONFIG_DIR": str(tmp_path / "config"),
            "BONJORO_CLIENT_ID": "my-client"}
    base.update(env)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    if dotenv is not None:
        (work / ".env").write_text(dotenv)
    return load_settings(env={k: v for k, v in base.items() if v}, cwd=work)


def discover(tmp_path: Path, documents: dict[str, object], dotenv: str | None = None, **env: str):
    env.setdefault("BONJORO_ISSUER", ISSUER)
    server = Server(documents)
    s = settings(tmp_path, dotenv, **env)
    return resolve(s, http=server.client), server


RFC8414 = f"{ISSUER}/.well-known/oauth-authorization-server"
OIDC = f"{ISSUER}/.well-known/openid-configuration"


# --------------------------------------------------------------------------- where it looks


def test_metadata_locations_rfc8414_inserted_then_openid_appended():
    assert metadata_urls("https://as.example") == [RFC8414, OIDC]
    assert metadata_urls("https://as.example/") == [RFC8414, OIDC]
    assert metadata_urls("https://as.example/tenant/1") == [
        "https://as.example/.well-known/oauth-authorization-server/tenant/1",
        "https://as.example/tenant/1/.well-known/openid-configuration",
    ]
    assert metadata_urls("http://127.0.0.1:8000/o/")[0] == "http://127.0.0.1:8000/.well-known/oauth-authorization-server/o"


def test_an_issuer_alone_fills_every_endpoint_and_names_where_they_came_from(tmp_path):
    s, server = discover(tmp_path, {RFC8414: metadata()})
    assert server.urls == [RFC8414]
    assert server.requests[0].headers["accept"] == "application/json"
    assert s.target == "live" and s.metadata_url == RFC8414 and not s.needs_discovery
    assert (s.authorize_url, s.token_url, s.revoke_url, s.userinfo_url) == (
        f"{ISSUER}/authorize", f"{ISSUER}/token", f"{ISSUER}/revoke", f"{ISSUER}/userinfo")
    assert s.issuer == ISSUER  # iss on the redirect is checked against it
    for key in ("authorize_url", "token_url", "revoke_url", "userinfo_url"):
        assert s.source(key) == "discovered from the environment variable BONJORO_ISSUER"
    assert s.api_base == f"{ISSUER}/api/v2" and s.source("api_base").startswith("derived from")
    assert s.target_id == ISSUER
    # Not Bonjoro's published token path: an RFC 6749 form body; Basic, as the metadata lists it.
    assert s.token_format == "form" and s.token_auth == "client_secret_basic"
    assert "token_endpoint_auth_methods_supported" in s.source("token_auth")


def test_openid_configuration_when_there_is_no_rfc8414_document(tmp_path):
    issuer = "https://login.example/realms/acme"
    oidc = f"{issuer}/.well-known/openid-configuration"
    s, server = discover(tmp_path, {oidc: metadata(issuer)}, BONJORO_ISSUER=issuer)
    assert server.urls == ["https://login.example/.well-known/oauth-authorization-server/realms/acme", oidc]
    assert s.metadata_url == oidc and s.token_url == f"{issuer}/token" and s.userinfo_url == f"{issuer}/userinfo"


@pytest.mark.parametrize(("listed", "chosen"), [
    (["client_secret_post", "client_secret_basic"], "client_secret_basic"),
    (["private_key_jwt", "client_secret_post"], "client_secret_post"),
    (["none"], "none"),
    (["private_key_jwt"], "none"),
    (None, "client_secret_basic"),  # absent: RFC 8414's default
])
def test_client_authentication_follows_the_metadata(tmp_path, listed, chosen):
    doc = metadata(token_endpoint_auth_methods_supported=listed)
    s, _ = discover(tmp_path, {RFC8414: doc})
    assert s.token_auth == chosen


def test_bonjoro_token_auth_and_format_set_explicitly_win(tmp_path):
    s, _ = discover(tmp_path, {RFC8414: metadata()}, BONJORO_TOKEN_AUTH="client_secret_post",
                    BONJORO_TOKEN_FORMAT="json")
    assert s.token_auth == "client_secret_post" and s.source("token_auth") == "the environment variable BONJORO_TOKEN_AUTH"
    assert s.token_format == "json"


def test_bonjoros_published_token_path_keeps_json(tmp_path):
    s, _ = discover(tmp_path, {RFC8414: metadata(token_endpoint=f"{ISSUER}/api/v2/oauth/2/token")})
    assert s.token_format == "json"


def test_explicit_endpoints_win_over_the_metadata(tmp_path):
    s, _ = discover(tmp_path, {RFC8414: metadata()}, BONJORO_TOKEN_URL="https://as.example/my-token",
                    BONJORO_USERINFO_URL="https://as.example/me", BONJORO_API_BASE="https://api.example/v1")
    assert s.token_url == "https://as.example/my-token"
    assert s.source("token_url") == "the environment variable BONJORO_TOKEN_URL"
    assert s.userinfo_url == "https://as.example/me" and s.api_base == "https://api.example/v1"
    assert s.authorize_url == f"{ISSUER}/authorize"  # what was not set still comes from the metadata


def test_the_sandbox_and_a_configuration_without_issuer_discover_nothing(tmp_path):
    assert settings(tmp_path, BONJORO_CLIENT_ID="").target == SANDBOX
    assert not settings(tmp_path, BONJORO_CLIENT_ID="").needs_discovery
    plain = settings(tmp_path, BONJORO_BASE_URL="https://as.example")
    assert not plain.needs_discovery and resolve(plain) is plain
    # The sandbox's own client with an issuer: the issuer names the server, not the built-in sandbox.
    s = settings(tmp_path, BONJORO_CLIENT_ID="sandbox-public", BONJORO_ISSUER="http://127.0.0.1:9")
    assert s.target == "live" and s.needs_discovery and s.token_url is None


# --------------------------------------------------------------------------- refusals


def test_a_document_naming_another_issuer_is_refused(tmp_path):
    with pytest.raises(DiscoveryError, match="RFC 8414 §3.3") as e:
        discover(tmp_path, {RFC8414: metadata("https://evil.example"), OIDC: metadata()})
    assert "'https://evil.example'" in str(e.value) and "'https://as.example'" in str(e.value)
    assert "BONJORO_ISSUER" in e.value.hint


def test_the_issuer_is_compared_exactly(tmp_path):
    with pytest.raises(DiscoveryError, match="not the configured issuer 'https://as.example/'"):
        discover(tmp_path, {RFC8414: metadata(), OIDC: metadata()}, BONJORO_ISSUER="https://as.example/")


def test_a_mismatch_stops_the_search(tmp_path):
    server = Server({RFC8414: metadata("https://evil.example"), OIDC: metadata()})
    with pytest.raises(DiscoveryError):
        resolve(settings(tmp_path, BONJORO_ISSUER=ISSUER), http=server.client)
    assert server.urls == [RFC8414]


@pytest.mark.parametrize("doc", [{"token_endpoint": "https://as.example/t"}, {"issuer": 7}])
def test_a_document_without_the_issuer_is_refused(tmp_path, doc):
    with pytest.raises(DiscoveryError, match="refusing the metadata"):
        discover(tmp_path, {RFC8414: doc})


def test_a_document_without_a_token_endpoint_is_refused(tmp_path):
    with pytest.raises(DiscoveryError, match="names no token_endpoint") as e:
        discover(tmp_path, {RFC8414: metadata(token_endpoint=None)})
    assert "BONJORO_TOKEN_URL" in e.value.hint


def test_missing_optional_endpoints_stay_unset(tmp_path):
    s, _ = discover(tmp_path, {RFC8414: metadata(revocation_endpoint=None, userinfo_endpoint=None,
                                                authorization_endpoint=None)})
    assert s.revoke_url is None and s.userinfo_url is None and s.authorize_url is None
    assert "revoke_url" not in s.sources


@pytest.mark.parametrize(("value", "why"), [
    ("http://as.example/token", "plain http to a non-loopback host"),
    ("https://user:pw@as.example/token", "must not carry credentials"),
    ("ftp://as.example/token", "not an http(s) URL"),
    (42, "expected a URL"),
    ("https://as.example/to ken", "is not a URL"),
    ("https://as.example/\x1b[31m", "is not a URL"),
])
def test_an_endpoint_that_is_not_a_safe_url_is_refused(tmp_path, value, why):
    with pytest.raises(DiscoveryError, match="token_endpoint in the metadata at") as e:
        discover(tmp_path, {RFC8414: metadata(token_endpoint=value)})
    assert why in str(e.value)
    assert "\x1b" not in str(e.value)


def test_plain_http_is_fine_on_loopback(tmp_path):
    issuer = "http://127.0.0.1:8000"
    s, _ = discover(tmp_path, {f"{issuer}/.well-known/oauth-authorization-server": metadata(issuer)},
                    BONJORO_ISSUER=issuer)
    assert s.token_url == f"{issuer}/token"


def test_bad_auth_methods_field_is_refused(tmp_path):
    with pytest.raises(DiscoveryError, match="not a list of strings"):
        discover(tmp_path, {RFC8414: metadata(token_endpoint_auth_methods_supported="client_secret_basic")})


def test_nothing_found_is_an_error_naming_both_locations(tmp_path):
    with pytest.raises(MetadataNotFound) as e:
        discover(tmp_path, {RFC8414: 404, OIDC: 500})
    assert f"{RFC8414}: HTTP 404" in str(e.value) and f"{OIDC}: HTTP 500" in str(e.value)


def test_redirects_are_not_followed(tmp_path):
    with pytest.raises(MetadataNotFound, match="redirects are not followed") as e:
        discover(tmp_path, {RFC8414: 302, OIDC: 404})
    assert "elsewhere.example" not in str(e.value)


def test_an_oversized_or_unreadable_document_is_not_used(tmp_path):
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    with pytest.raises(MetadataNotFound, match="larger than 1 MB") as e:
        discover(tmp_path, {RFC8414: big, OIDC: b"<html>"})
    assert "not JSON" in str(e.value)


def test_an_unreachable_server_is_tried_once(tmp_path):
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("connection refused")

    s = settings(tmp_path, BONJORO_ISSUER=ISSUER)
    with pytest.raises(MetadataNotFound, match="connection refused"):
        resolve(s, http=httpx.Client(transport=httpx.MockTransport(refuse)))
    assert len(calls) == 1  # both locations are on the issuer's origin


def test_configured_endpoints_are_used_when_no_metadata_is_published(tmp_path):
    s, _ = discover(tmp_path, {}, BONJORO_BASE_URL="https://as.example")
    assert s.token_url == "https://as.example/api/v2/oauth/2/token" and s.revoke_url == "https://as.example/oauth/revoke"
    assert s.metadata_url is None and any("no authorization server metadata" in w for w in s.warnings)
    both, _ = discover(tmp_path, {}, BONJORO_AUTHORIZE_URL="https://as.example/a", BONJORO_TOKEN_URL="https://as.example/t")
    assert (both.authorize_url, both.token_url, both.revoke_url) == ("https://as.example/a", "https://as.example/t", None)


def test_discovered_values_beat_what_a_base_url_would_guess(tmp_path):
    s, _ = discover(tmp_path, {RFC8414: metadata(revocation_endpoint=None)}, BONJORO_BASE_URL="https://as.example")
    assert s.token_url == f"{ISSUER}/token"
    assert s.revoke_url == "https://as.example/oauth/revoke"  # not in the metadata: the base URL's guess


def test_the_debug_log_sees_each_request(tmp_path):
    lines: list[str] = []
    s = settings(tmp_path, BONJORO_ISSUER=ISSUER)
    resolve(s, http=Server({OIDC: metadata()}).client, log=lines.append)
    assert lines == [f"· discovery: GET {RFC8414} -> HTTP 404", f"· discovery: GET {OIDC} -> HTTP 200"]


# --------------------------------------------------------------------------- trust


def test_a_dotenv_issuer_makes_every_discovered_endpoint_untrusted(tmp_path):
    s, _ = discover(tmp_path, {RFC8414: metadata()}, dotenv=f"BONJORO_ISSUER={ISSUER}\n", BONJORO_ISSUER="")
    assert {"issuer", "authorize_url", "token_url", "revoke_url", "userinfo_url", "api_base"} <= s.untrusted
    assert s.source("token_url").startswith("discovered from BONJORO_ISSUER in ") and ".env line 1" in s.source("token_url")
    assert endpoint_report(s)  # the sign-in lists each endpoint and where it came from
    check_sign_in(s, "code")  # one origin: allowed


def test_a_dotenv_issuer_may_not_split_the_sign_in_across_servers(tmp_path):
    doc = metadata(token_endpoint="https://tokens.elsewhere.example/token")
    s, _ = discover(tmp_path, {RFC8414: doc}, dotenv=f"BONJORO_ISSUER={ISSUER}\n", BONJORO_ISSUER="")
    with pytest.raises(UntrustedConfiguration, match="split the sign-in"):
        check_sign_in(s, "code")


def test_a_trusted_issuer_may_use_several_origins(tmp_path):
    doc = metadata(token_endpoint="https://tokens.elsewhere.example/token")
    s, _ = discover(tmp_path, {RFC8414: doc})
    assert not s.untrusted and not endpoint_report(s)
    check_sign_in(s, "code")


def test_an_explicit_endpoint_keeps_its_own_trust(tmp_path):
    s, _ = discover(tmp_path, {RFC8414: metadata()}, dotenv=f"BONJORO_ISSUER={ISSUER}\n", BONJORO_ISSUER="",
                    BONJORO_TOKEN_URL="https://as.example/token")
    assert "token_url" not in s.untrusted and "authorize_url" in s.untrusted

