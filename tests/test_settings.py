"""Settings: precedence, derived endpoints, sandbox default, and clear errors naming the source."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bonjoro_tui.settings import (
    LIVE_AUTHORIZE_URL,
    SANDBOX,
    SANDBOX_CONFIDENTIAL_CLIENT,
    SANDBOX_CONFIDENTIAL_SECRET,
    SANDBOX_PUBLIC_CLIENT,
    SettingsError,
    load_settings,
    parse_dotenv,
)


def write_config(text: str) -> Path:
    config_dir = Path(os.environ["BONJORO_TUI_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.toml"
    path.write_text(text)
    return path


def test_no_client_means_sandbox_with_public_client():
    s = load_settings()
    assert s.target == SANDBOX and s.is_sandbox
    assert s.client_id == SANDBOX_PUBLIC_CLIENT
    assert s.base_url is None and s.token_url is None
    assert s.target_id == "sandbox"
    assert s.token_format == "json"
    assert s.profile == "default"
    assert s.debug is False and s.callback_port is None
    assert s.store_path == Path(os.environ["BONJORO_TUI_DATA_DIR"]) / "tokens.toml"


def test_sandbox_resolution_derives_every_endpoint():
    s = load_settings().resolved_for_sandbox("http://127.0.0.1:5000/")
    assert s.base_url == "http://127.0.0.1:5000"
    assert s.authorize_url == "http://127.0.0.1:5000/oauth/authorize"
    assert s.token_url == "http://127.0.0.1:5000/api/v2/oauth/2/token"
    assert s.revoke_url == "http://127.0.0.1:5000/oauth/revoke"
    assert s.api_base == "http://127.0.0.1:5000/api/v2"
    assert s.target_id == "sandbox"


def test_live_defaults_with_only_a_client_id():
    s = load_settings(env={**os.environ, "BONJORO_CLIENT_ID": "abc"})
    assert s.target == "live"
    assert s.base_url == "https://www.bonjoro.com"
    assert s.authorize_url == LIVE_AUTHORIZE_URL
    assert s.token_url == "https://www.bonjoro.com/api/v2/oauth/2/token"
    assert s.revoke_url is None
    assert s.api_base == "https://www.bonjoro.com/api/v2"
    assert s.target_id == "https://www.bonjoro.com"


def test_base_url_derives_endpoints_and_single_overrides_win():
    s = load_settings(
        env={
            **os.environ,
            "BONJORO_CLIENT_ID": "abc",
            "BONJORO_BASE_URL": "https://auth.example.test/",
            "BONJORO_TOKEN_URL": "https://tokens.example.test/t",
        }
    )
    assert s.authorize_url == "https://auth.example.test/oauth/authorize"
    assert s.revoke_url == "https://auth.example.test/oauth/revoke"
    assert s.token_url == "https://tokens.example.test/t"
    assert s.target_id == "https://tokens.example.test"


def test_precedence_flags_env_dotenv_config(tmp_path):
    write_config('client_id = "from-config"\nclient_secret = "cs-config"\nprofile = "cfg"\nscope = "read"\n')
    (Path.cwd() / ".env").write_text(
        "# seed .env\nBONJORO_CLIENT_ID=from-dotenv\nexport BONJORO_PROFILE='dot'  \n"
        'REDIRECT_URI="http://localhost:8080/callback" # seed name\n'
    )
    env = dict(os.environ)
    s = load_settings(env=env)
    assert s.client_id == "from-dotenv"
    assert s.client_secret == "cs-config"
    assert s.profile == "dot"
    assert s.scope == "read"
    assert s.redirect_uri == "http://localhost:8080/callback"
    env["BONJORO_CLIENT_ID"] = "from-env"
    env["BONJORO_REDIRECT_URI"] = "http://127.0.0.1:9000/cb"
    s = load_settings(env=env)
    assert s.client_id == "from-env"
    assert s.redirect_uri == "http://127.0.0.1:9000/cb"  # BONJORO_ name beats the seed's name
    s = load_settings(flags={"client_id": "from-flag", "profile": None, "callback_port": 8765}, env=env)
    assert s.client_id == "from-flag"
    assert s.profile == "dot"  # a None flag is "not given"
    assert s.callback_port == 8765


def test_dirs_from_env_override_platformdirs(tmp_path):
    cfg = os.environ["BONJORO_TUI_CONFIG_DIR"]
    s = load_settings(
        env={"BONJORO_TUI_CONFIG_DIR": cfg, "BONJORO_TUI_DATA_DIR": str(tmp_path / "d"), "BONJORO_TUI_LOG_DIR": str(tmp_path / "l")}
    )
    assert s.data_dir == tmp_path / "d" and s.log_dir == tmp_path / "l"
    s = load_settings(env={"BONJORO_TUI_CONFIG_DIR": cfg})  # read-only: nothing is written
    assert "bonjoro-tui" in str(s.data_dir) and "bonjoro-tui" in str(s.log_dir)


def test_keymap_table_is_exposed():
    write_config('[keymap]\nrefresh = "ctrl+r"\nlogin = "l"\n')
    assert load_settings().keymap == {"refresh": "ctrl+r", "login": "l"}


def test_debug_and_token_format_values():
    s = load_settings(env={**os.environ, "BONJORO_DEBUG": "yes", "BONJORO_TOKEN_FORMAT": "FORM"})
    assert s.debug is True and s.token_format == "form"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"BONJORO_TOKEN_FORMAT": "xml"}, "BONJORO_TOKEN_FORMAT"),
        ({"BONJORO_BASE_URL": "ftp://x.test"}, "not an http(s) URL"),
        ({"BONJORO_BASE_URL": "not a url"}, "BONJORO_BASE_URL"),
        ({"BONJORO_TOKEN_URL": "http://evil.test/token"}, "plain http"),
        ({"BONJORO_CALLBACK_PORT": "70000"}, "out of range"),
        ({"BONJORO_CALLBACK_PORT": "abc"}, "not a port number"),
        ({"BONJORO_DEBUG": "maybe"}, "BONJORO_DEBUG"),
        ({"BONJORO_REDIRECT_URI": "https://example.test/cb"}, "loopback"),
        ({"BONJORO_PROFILE": "../etc"}, "profile name"),
    ],
)
def test_invalid_env_values_name_the_variable(env, fragment):
    with pytest.raises(SettingsError) as info:
        load_settings(env={**os.environ, **env})
    assert fragment in str(info.value)
    assert "environment variable" in str(info.value)


def test_invalid_flag_names_the_option():
    with pytest.raises(SettingsError, match="the --port option"):
        load_settings(flags={"callback_port": -1})


def test_invalid_dotenv_value_names_file_and_line():
    (Path.cwd() / ".env").write_text("A=1\nBONJORO_TOKEN_FORMAT=yaml\n")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert ".env line 2" in str(info.value)


def test_malformed_dotenv_line_names_file_and_line():
    (Path.cwd() / ".env").write_text("OK=1\nthis is not an assignment\n")
    with pytest.raises(SettingsError, match=r"\.env line 2: expected KEY=VALUE"):
        load_settings()


def test_invalid_config_value_names_the_file():
    path = write_config('token_url = "gopher://x"\n')
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(path) in str(info.value) and "token_url" in str(info.value)


def test_corrupt_config_names_file_and_line():
    path = write_config('client_id = "a"\nclient_secret = \n')
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(path) in str(info.value) and "line 2" in str(info.value)


def test_unknown_config_key_is_an_error():
    write_config('clientid = "typo"\n')
    with pytest.raises(SettingsError, match="unknown setting"):
        load_settings()


def test_parse_dotenv_quotes_and_comments(tmp_path):
    p = tmp_path / ".env"
    p.write_text("A='x # not a comment'\nB=plain # comment\nC=\"\"\n\n# c\nD=a=b\n")
    assert {k: v for k, (v, _) in parse_dotenv(p).items()} == {
        "A": "x # not a comment",
        "B": "plain",
        "C": "",
        "D": "a=b",
    }


def test_unreadable_dotenv_is_a_settings_error():
    (Path.cwd() / ".env").write_bytes(b"BONJORO_CLIENT_ID=\xff\xfe\n")
    with pytest.raises(SettingsError, match="not UTF-8"):
        load_settings()
    (Path.cwd() / ".env").unlink()
    (Path.cwd() / ".env").mkdir()  # not a file: ignored
    assert load_settings().target == "sandbox"


def test_a_lone_secret_does_not_leak_to_the_sandbox_public_client():
    s = load_settings(env={**os.environ, "BONJORO_CLIENT_SECRET": "orphan"})
    assert s.target == SANDBOX and s.client_id == SANDBOX_PUBLIC_CLIENT and s.client_secret is None


def test_secret_is_not_in_repr():
    s = load_settings(env={**os.environ, "BONJORO_CLIENT_ID": "c", "BONJORO_CLIENT_SECRET": "top-secret-value"})
    assert s.client_secret == "top-secret-value"
    assert "top-secret-value" not in repr(s)


def test_issuer_comes_from_the_environment_or_the_running_sandbox(tmp_path):
    from bonjoro_tui.settings import load_settings

    s = load_settings(env={"BONJORO_ISSUER": "https://auth.example.com", "BONJORO_TUI_DATA_DIR": str(tmp_path)})
    assert s.issuer == "https://auth.example.com"
    sandbox = load_settings(env={"BONJORO_TUI_DATA_DIR": str(tmp_path)}).resolved_for_sandbox("http://127.0.0.1:4567/")
    assert sandbox.issuer == "http://127.0.0.1:4567"


def test_sandbox_confidential_client_keeps_the_sandbox_and_its_secret():
    env = {**os.environ, "BONJORO_CLIENT_ID": "sandbox-confidential", "BONJORO_CLIENT_SECRET": "sandbox-secret"}
    s = load_settings(env=env)
    assert s.target == SANDBOX and s.base_url is None
    assert s.client_id == "sandbox-confidential" and s.client_secret == "sandbox-secret"
    pub = load_settings(env={**os.environ, "BONJORO_CLIENT_ID": "sandbox-public", "BONJORO_CLIENT_SECRET": "x"})
    assert pub.target == SANDBOX and pub.client_secret is None
    # A base URL still points a sandbox client id at that server (the tests' external sandbox).
    elsewhere = load_settings(env={**env, "BONJORO_BASE_URL": "http://127.0.0.1:9"})
    assert elsewhere.target == "live" and elsewhere.client_secret == "sandbox-secret"


def test_client_credentials_on_the_sandbox_default_to_its_published_confidential_client():
    s = load_settings()
    cc = s.for_client_credentials()
    assert (cc.client_id, cc.client_secret) == (SANDBOX_CONFIDENTIAL_CLIENT, SANDBOX_CONFIDENTIAL_SECRET)
    # The stored profile's client decides which credentials a refresh presents.
    assert s.with_client("sandbox-confidential") == cc
    assert cc.with_client("sandbox-public").client_secret is None
    live = load_settings(env={**os.environ, "BONJORO_CLIENT_ID": "abc"})
    assert live.for_client_credentials() is live
    # Issue 12: a profile's own client, always — never the configured one (whose secret is not its).
    other = live.with_client("other")
    assert (other.client_id, other.client_secret) == ("other", None)


def test_port_flag_beats_the_port_of_a_redirect_uri_from_a_lower_layer(tmp_path):
    (Path.cwd() / ".env").write_text("REDIRECT_URI=http://localhost:3000/callback\n")
    s = load_settings(flags={"callback_port": 8765})
    assert s.redirect_uri == "http://localhost:8765/callback"
    assert s.sources["callback_port"] == "the --port option"
    # Without the flag the redirect URI's port is in effect, and its line is the source.
    s = load_settings()
    assert s.redirect_uri == "http://localhost:3000/callback"
    assert s.sources["callback_port"] == f"REDIRECT_URI in {Path.cwd() / '.env'} line 1"
    # A lower layer's port does not beat a higher layer's redirect URI.
    s = load_settings(env={**os.environ, "BONJORO_REDIRECT_URI": "http://127.0.0.1:4000/cb"})
    assert s.redirect_uri == "http://127.0.0.1:4000/cb"
    write_config("callback_port = 5000\n")
    s = load_settings(env={**os.environ, "BONJORO_REDIRECT_URI": "http://127.0.0.1:4000/cb"})
    assert s.redirect_uri == "http://127.0.0.1:4000/cb"
    assert s.sources["callback_port"] == "the environment variable BONJORO_REDIRECT_URI"
    s = load_settings(env={**os.environ, "BONJORO_CALLBACK_PORT": "4100"})
    assert s.redirect_uri == "http://localhost:4100/callback"
    assert s.sources["callback_port"] == "the environment variable BONJORO_CALLBACK_PORT"


def test_a_seed_redirect_uri_that_is_not_loopback_is_ignored_with_a_warning():
    dotenv = Path.cwd() / ".env"
    dotenv.write_text("CLIENT_ID=web\nREDIRECT_URI=https://myapp.example.com/callback\n")
    s = load_settings()
    assert s.redirect_uri is None and s.target == SANDBOX
    assert len(s.warnings) == 1
    assert f"REDIRECT_URI in {dotenv} line 2" in s.warnings[0] and "BONJORO_REDIRECT_URI" in s.warnings[0]
    # Our own name below it still applies.
    dotenv.write_text("REDIRECT_URI=https://myapp.example.com/callback\nBONJORO_REDIRECT_URI=http://127.0.0.1:7000/cb\n")
    s = load_settings()
    assert s.redirect_uri == "http://127.0.0.1:7000/cb" and s.warnings == []  # ours wins, no lookup of the other
    s = load_settings(env={**os.environ, "REDIRECT_URI": "https://myapp.example.com/cb"})
    assert s.redirect_uri == "http://127.0.0.1:7000/cb" and len(s.warnings) == 1
    # BONJORO_REDIRECT_URI stays strict.
    dotenv.write_text("BONJORO_REDIRECT_URI=https://myapp.example.com/callback\n")
    with pytest.raises(SettingsError, match="BONJORO_REDIRECT_URI in .* line 1"):
        load_settings()
    # A loopback seed URI is ours, and checked as strictly.
    dotenv.write_text("REDIRECT_URI=http://localhost:3000/callback?x=1\n")
    with pytest.raises(SettingsError, match="query"):
        load_settings()
    assert load_settings(env={**os.environ, "REDIRECT_URI": "http://localhost:3000/callback"}).warnings == []


def test_an_empty_profile_flag_is_an_error_and_an_empty_variable_is_unset():
    """`--profile "$UNSET"` used to mean the default profile, silently (a reviewer's finding)."""
    with pytest.raises(SettingsError, match="the --profile option: the profile name is empty"):
        load_settings(flags={"profile": ""})
    assert load_settings(env={**os.environ, "BONJORO_PROFILE": ""}).profile == "default"
    assert load_settings(flags={"profile": "work"}).profile == "work"
