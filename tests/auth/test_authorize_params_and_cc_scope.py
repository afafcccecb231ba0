"""BONJORO_AUTHORIZE_PARAMS (extra authorization request parameters, never ones we own) and
BONJORO_CC_SCOPE (the client-credentials grant's own scope, else BONJORO_SCOPE)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import respx

from bonjoro_tui.auth.oauth import OAuthClient
from bonjoro_tui.auth.pkce import AuthorizationRequest
from bonjoro_tui.settings import OWNED_AUTHORIZE_PARAMS, SettingsError, load_settings


def load(tmp_path: Path, config: str | None = None, dotenv: str | None = None, **env: str):
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "config.toml").write_text(config or "")
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    if dotenv is not None:
        (work / ".env").write_text(dotenv)
    base = {"BONJORO_TUI_DATA_DIR": str(tmp_path / "data"), "BONJORO_TUI_CONFIG_DIR": str(tmp_path / "config"),
            "BONJORO_CLIENT_ID": "cid", "BONJORO_BASE_URL": "https://as.example"}
    return load_settings(env={**base, **env}, cwd=work)


# --------------------------------------------------------------------------- authorize params


def test_authorize_params_are_parsed_in_order_with_repeats(tmp_path):
    s = load(tmp_path, BONJORO_AUTHORIZE_PARAMS="prompt=consent&audience=https%3A%2F%2Fapi.example&resource=a&resource=b")
    assert s.authorize_params == (("prompt", "consent"), ("audience", "https://api.example"),
                                  ("resource", "a"), ("resource", "b"))
    assert s.source("authorize_params") == "the environment variable BONJORO_AUTHORIZE_PARAMS"
    assert load(tmp_path).authorize_params == ()


def test_authorize_params_from_config_toml_as_a_string_or_a_table(tmp_path):
    s = load(tmp_path, config='authorize_params = "prompt=login"\n')
    assert s.authorize_params == (("prompt", "login"),)
    s = load(tmp_path, config='[authorize_params]\nprompt = "consent"\naudience = "x"\n')
    assert s.authorize_params == (("prompt", "consent"), ("audience", "x"))
    with pytest.raises(SettingsError, match="config.toml"):
        load(tmp_path, config="[authorize_params]\nmax_age = 5\n")


@pytest.mark.parametrize("name", sorted(OWNED_AUTHORIZE_PARAMS))
def test_a_parameter_we_set_ourselves_is_refused_naming_the_source(tmp_path, name):
    with pytest.raises(SettingsError) as e:
        load(tmp_path, BONJORO_AUTHORIZE_PARAMS=f"prompt=consent&{name.upper() if name == 'state' else name}=x")
    assert "the environment variable BONJORO_AUTHORIZE_PARAMS" in str(e.value) and "itself" in str(e.value)


def test_scope_in_authorize_params_points_at_bonjoro_scope(tmp_path):
    with pytest.raises(SettingsError, match="use BONJORO_SCOPE"):
        load(tmp_path, BONJORO_AUTHORIZE_PARAMS="scope=openid")


@pytest.mark.parametrize("value", ["prompt", "=x", "a=1&&b=2"])
def test_a_malformed_query_is_refused(tmp_path, value):
    with pytest.raises(SettingsError, match="BONJORO_AUTHORIZE_PARAMS"):
        load(tmp_path, BONJORO_AUTHORIZE_PARAMS=value)


def test_authorize_params_from_a_dotenv_are_marked_untrusted(tmp_path):
    s = load(tmp_path, dotenv="BONJORO_AUTHORIZE_PARAMS=prompt=consent\n")
    assert s.authorize_params == (("prompt", "consent"),) and "authorize_params" in s.untrusted


def test_the_url_carries_ours_first_then_the_extras():
    request = AuthorizationRequest.new("https://as.example/authorize?tenant=t1", "cid", "http://127.0.0.1:1/cb",
                                       "read", params=(("prompt", "consent"), ("audience", "a b")))
    query = parse_qsl(urlsplit(request.url).query)
    assert [k for k, _ in query] == ["tenant", "response_type", "client_id", "redirect_uri", "state",
                                     "code_challenge", "code_challenge_method", "scope", "prompt", "audience"]
    assert dict(query)["audience"] == "a b"


@pytest.mark.parametrize("name", ["client_id", "Redirect_URI", "request_uri"])
def test_the_request_itself_refuses_an_owned_parameter(name):
    with pytest.raises(ValueError, match="itself"):
        AuthorizationRequest.new("https://as.example/authorize", "cid", "http://127.0.0.1:1/cb",
                                 params=((name, "x"),))


# --------------------------------------------------------------------------- client-credentials scope


def test_cc_scope_from_the_environment_or_config(tmp_path):
    assert load(tmp_path, BONJORO_CC_SCOPE="svc.read").cc_scope == "svc.read"
    assert load(tmp_path, config='cc_scope = "svc.write"\n').cc_scope == "svc.write"
    assert load(tmp_path).cc_scope is None


@respx.mock
@pytest.mark.parametrize(("scope", "cc_scope", "sent_scope"), [
    ("user.read", "svc.read", "svc.read"),
    ("user.read", None, "user.read"),
    (None, None, None),
])
async def test_client_credentials_send_the_cc_scope_else_the_scope(tmp_path, scope, cc_scope, sent_scope):
    s = replace(load(tmp_path), client_secret="s3cret", scope=scope, cc_scope=cc_scope)
    route = respx.post(s.token_url).respond(200, json={"access_token": "cc", "expires_in": 60})
    async with httpx.AsyncClient(trust_env=False) as http:
        await OAuthClient(s, http).client_credentials()
    body = json.loads(route.calls.last.request.content)
    assert body.get("scope") == sent_scope


@respx.mock
async def test_the_code_flow_keeps_the_user_scope(tmp_path):
    """BONJORO_CC_SCOPE is for the client-credentials grant only: a refresh sends no scope at all."""
    s = replace(load(tmp_path), scope="user.read", cc_scope="svc.read")
    route = respx.post(s.token_url).respond(200, json={"access_token": "a", "expires_in": 60})
    async with httpx.AsyncClient(trust_env=False) as http:
        await OAuthClient(s, http).refresh("rt")
    assert "scope" not in json.loads(route.calls.last.request.content)
