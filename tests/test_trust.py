"""The trust rules (bonjoro_tui/trust.py) as functions of the settings: which sources are trusted,
what a profile records at sign-in, and what it may be sent to afterwards."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile
from bonjoro_tui.tokens import TokenSet
from bonjoro_tui.trust import (
    UntrustedConfiguration,
    bound_origin,
    check_sign_in,
    destination_error,
    endpoint_report,
    origin,
    recorded_origins,
)


def settings(tmp_path, dotenv: str = "", **env: str):
    if dotenv:
        (tmp_path / ".env").write_text(dotenv)
    return load_settings(env={**os.environ, **env}, cwd=tmp_path)


def profile_for(s, **fields) -> StoredProfile:
    return StoredProfile("default", s.target_id, "code", s.client_id, TokenSet("a" * 32, 0.0, refresh_token="r" * 32),
                         **{**recorded_origins(s), **fields})


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://Example.COM/x", "https://example.com"),
        ("https://example.com:443/x", "https://example.com"),
        ("https://example.com:8443/", "https://example.com:8443"),
        ("http://127.0.0.1:80/cb", "http://127.0.0.1"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
    ],
)
def test_origin(url, expected):
    assert origin(url) == expected


def test_every_value_knows_its_source(tmp_path):
    s = settings(tmp_path, "BONJORO_CLIENT_ID=c\nBONJORO_API_BASE=https://api.example/v2\n",
                 BONJORO_BASE_URL="https://auth.example")
    assert s.source("base_url") == "the environment variable BONJORO_BASE_URL"
    assert s.source("token_url") == "derived from the environment variable BONJORO_BASE_URL"
    assert s.source("api_base") == f"BONJORO_API_BASE in {tmp_path / '.env'} line 2"
    assert s.untrusted == {"client_id", "api_base"}


def test_defaults_are_trusted_and_say_so(tmp_path):
    s = settings(tmp_path, BONJORO_CLIENT_ID="c")
    assert s.untrusted == frozenset()
    assert "default" in s.source("token_url") and "seed article" in s.source("authorize_url")
    check_sign_in(s, "code")  # Bonjoro's own split (app. / www.) comes from the defaults: fine


def test_a_dotenv_base_url_makes_every_derived_endpoint_untrusted(tmp_path):
    s = settings(tmp_path, "BONJORO_BASE_URL=https://elsewhere.example\nBONJORO_CLIENT_ID=c\n")
    assert {"base_url", "authorize_url", "token_url", "revoke_url", "api_base"} <= s.untrusted
    assert [line.split(" = ")[0] for line in endpoint_report(s)] == [
        "BONJORO_AUTHORIZE_URL", "BONJORO_TOKEN_URL", "BONJORO_REVOKE_URL", "BONJORO_API_BASE"]
    check_sign_in(s, "code")  # one server, the .env's own client: allowed, and reported


def test_a_config_toml_is_trusted(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text('token_url = "https://auth.example/token"\nclient_id = "c"\n')
    s = load_settings(env={**os.environ, "BONJORO_TUI_CONFIG_DIR": str(config)}, cwd=tmp_path)
    assert s.untrusted == frozenset()
    check_sign_in(s, "code")


def test_the_environment_beats_the_dotenv_and_is_what_counts(tmp_path):
    s = settings(tmp_path, "BONJORO_API_BASE=https://evil.example/api\n", BONJORO_CLIENT_ID="c",
                 BONJORO_API_BASE="https://good.example/api")
    assert s.api_base == "https://good.example/api" and "api_base" not in s.untrusted


def test_a_secret_from_the_dotenv_may_go_to_the_dotenvs_server(tmp_path):
    s = settings(tmp_path, "BONJORO_BASE_URL=https://own.example\nBONJORO_CLIENT_ID=c\nBONJORO_CLIENT_SECRET=s3cret\n")
    check_sign_in(s, "client_credentials")


def test_a_dotenv_api_base_beside_the_sandbox_is_a_split(tmp_path):
    s = settings(tmp_path, "BONJORO_API_BASE=http://127.0.0.1:9/api/v2\n")
    assert s.is_sandbox
    s = s.resolved_for_sandbox("http://127.0.0.1:4321")
    assert s.source("token_url") == "the built-in sandbox"
    with pytest.raises(UntrustedConfiguration, match="BONJORO_API_BASE = http://127.0.0.1:9/api/v2"):
        check_sign_in(s, "code")


def test_a_sandbox_profile_is_bound_to_the_sandbox_whatever_its_port(tmp_path):
    first = settings(tmp_path).resolved_for_sandbox("http://127.0.0.1:4321")
    profile = profile_for(first)
    assert (profile.target, profile.api_origin, profile.revoke_origin) == ("sandbox", "sandbox", "sandbox")
    later = settings(tmp_path).resolved_for_sandbox("http://127.0.0.1:5555")  # the port was taken
    assert bound_origin(later, later.api_base) == "sandbox"
    for key in ("token_url", "revoke_url", "api_base"):
        assert destination_error(later, profile, key) is None


@pytest.mark.parametrize("key, variable", [("api_base", "BONJORO_API_BASE"), ("revoke_url", "BONJORO_REVOKE_URL")])
def test_after_sign_in_a_changed_endpoint_is_refused_from_any_source(tmp_path, key, variable):
    signed_in = settings(tmp_path, BONJORO_BASE_URL="https://bonjoro.example", BONJORO_CLIENT_ID="c")
    profile = profile_for(signed_in)
    moved = settings(tmp_path, BONJORO_BASE_URL="https://bonjoro.example", BONJORO_CLIENT_ID="c",
                     **{variable: "https://other.example/x"})
    reason = destination_error(moved, profile, key)
    assert reason and "https://other.example" in reason and f"the environment variable {variable}" in reason


def test_a_revocation_endpoint_on_the_token_endpoints_origin_is_the_same_server(tmp_path):
    signed_in = settings(tmp_path, BONJORO_TOKEN_URL="https://auth.example/token", BONJORO_CLIENT_ID="c")
    profile = profile_for(signed_in)
    assert profile.revoke_origin is None  # none configured at sign-in
    later = settings(tmp_path, BONJORO_TOKEN_URL="https://auth.example/token", BONJORO_CLIENT_ID="c",
                     BONJORO_REVOKE_URL="https://auth.example/revoke")
    assert destination_error(later, profile, "revoke_url") is None


def test_a_profile_from_before_origins_were_recorded(tmp_path):
    s = settings(tmp_path, BONJORO_BASE_URL="https://bonjoro.example", BONJORO_CLIENT_ID="c")
    legacy = replace(profile_for(s), api_origin=None, revoke_origin=None)
    assert destination_error(s, legacy, "api_base") is None  # trusted sources decide
    hostile = settings(tmp_path, "BONJORO_API_BASE=https://evil.example/api\nBONJORO_REVOKE_URL=https://evil.example/r\n",
                       BONJORO_BASE_URL="https://bonjoro.example", BONJORO_CLIENT_ID="c")
    assert "line 1" in destination_error(hostile, legacy, "api_base")
    assert "line 2" in destination_error(hostile, legacy, "revoke_url")


def _config(tmp_path, text: str = 'client_id = "c"\n'):
    config = tmp_path / "config"
    config.mkdir(mode=0o700, exist_ok=True)
    (config / "config.toml").write_text(text)
    return config


def _load(tmp_path, config):
    return load_settings(env={**os.environ, "BONJORO_TUI_CONFIG_DIR": str(config)}, cwd=tmp_path)


def test_a_config_toml_someone_else_could_write_is_not_trusted(tmp_path):
    """config.toml is trusted, so it must be the user's alone: a planted or shared one is refused."""
    from bonjoro_tui.settings import SettingsError

    config = _config(tmp_path)
    assert _load(tmp_path, config).client_id == "c"
    (config / "config.toml").chmod(0o666)
    with pytest.raises(SettingsError, match="writable by someone else"):
        _load(tmp_path, config)
    (config / "config.toml").chmod(0o600)
    config.chmod(0o777)
    with pytest.raises(SettingsError, match="writable by its group and everyone.*decide where your tokens go"):
        _load(tmp_path, config)
    config.chmod(0o755)  # readable by others is an ordinary config dir: fine, and not changed
    assert _load(tmp_path, config).client_id == "c"
    assert config.stat().st_mode & 0o777 == 0o755
    os.chown(config / "config.toml", 65534, 65534)
    with pytest.raises(SettingsError, match="not yours"):
        _load(tmp_path, config)


def test_a_config_toml_linked_into_place_by_a_dotfile_manager_is_read(tmp_path):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "bonjoro.toml").write_text('client_id = "linked"\n')
    config = tmp_path / "config"
    config.mkdir(mode=0o700)
    (config / "config.toml").symlink_to(dotfiles / "bonjoro.toml")
    assert _load(tmp_path, config).client_id == "linked"
