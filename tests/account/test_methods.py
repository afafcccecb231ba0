"""account/methods.py: the sign-in methods — stored values, --method names, labels."""

from __future__ import annotations

import pytest

from bonjoro_tui.account.methods import CLI_NAMES, SignInMethod, method_label
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet


def test_cli_names():
    assert [m.cli_name for m in SignInMethod] == ["code", "client-credentials", "api-key"]
    assert CLI_NAMES == ("code", "client-credentials", "api-key")


@pytest.mark.parametrize("method", list(SignInMethod))
def test_cli_names_round_trip(method):
    assert SignInMethod.from_cli(method.cli_name) is method


@pytest.mark.parametrize("name", ["nope", "", "API-KEY", "password"])
def test_an_unknown_cli_name_is_refused(name):
    with pytest.raises(ValueError):
        SignInMethod.from_cli(name)


def test_login_takes_these_names(capsys):
    from bonjoro_tui.cli.parser import build_parser

    parser = build_parser()
    for name in CLI_NAMES:
        assert SignInMethod.from_cli(parser.parse_args(["login", "--method", name]).method).cli_name == name
    with pytest.raises(SystemExit):
        parser.parse_args(["login", "--method", "client_credentials"])  # the stored spelling is not a flag value
    assert "client-credentials" in capsys.readouterr().err


def test_labels():
    assert [m.label for m in SignInMethod] == ["Authorization code + PKCE", "Client credentials", "API key"]
    assert method_label("code") == "Authorization code + PKCE"
    assert method_label(SignInMethod.API_KEY) == "API key"
    assert method_label(None) == "—"
    assert method_label("password") == "password"  # a method a newer version stored: shown as it is


def test_only_an_api_key_cannot_be_refreshed():
    assert [m.refreshable for m in SignInMethod] == [True, True, False]


@pytest.mark.parametrize("method, stored", [(SignInMethod.CODE, "code"),
                                            (SignInMethod.CLIENT_CREDENTIALS, "client_credentials"),
                                            (SignInMethod.API_KEY, "api_key")])
def test_a_member_equals_the_string_the_store_keeps(method, stored):
    assert method == stored and stored == method and method.value == stored
    assert SignInMethod(stored) is method
    assert str(method) == f"{method}" == stored  # not "SignInMethod.CODE"
    assert {stored: 1}[method] == 1 and hash(method) == hash(stored)
    assert method != stored.upper()


def test_a_member_saved_is_read_back_as_the_plain_string(tmp_path):
    store = TokenStore(tmp_path / "tokens.toml")
    store.save(StoredProfile("default", "sandbox", SignInMethod.CLIENT_CREDENTIALS, "sandbox-confidential",
                             TokenSet("access-token-0123456789", 1_800_000_000.0)))
    assert 'method = "client_credentials"' in (tmp_path / "tokens.toml").read_text()
    loaded = TokenStore(tmp_path / "tokens.toml").load("default")  # another process reads it
    assert loaded.method == SignInMethod.CLIENT_CREDENTIALS and type(loaded.method) is str
