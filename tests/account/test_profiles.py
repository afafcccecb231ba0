"""account/profiles.py and account/preferences.py: the stored profiles listed, chosen and removed
(revoked at the real in-process sandbox), and config.toml edited with the user's comments kept."""

from __future__ import annotations

import os
import stat

import pytest

from bonjoro_tui.account import preferences
from bonjoro_tui.account.preferences import PreferenceError, remember
from bonjoro_tui.account.profiles import ProfileError, list_profiles, remove_profile, use_profile
from bonjoro_tui.account.session import open_session
from bonjoro_tui.account.signin import SignIn
from bonjoro_tui.account.methods import SignInMethod
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile
from bonjoro_tui.tokens import TokenSet


def _stored(session, name: str, *, target: str | None = None, lifetime: float = 3600, refresh: bool = True):
    now = session.now()
    p = StoredProfile(name, target or session.settings.target_id, "code", "sandbox-public",
                      TokenSet(f"access-{name}-0123456789abcdef", now, refresh_token=f"refresh-{name}-0123456789" if refresh else None,
                               expires_at=now + lifetime))
    session.store.save(p)
    return p


class LightSession:
    """The AppSession parts profiles.py uses, without a sandbox (list/use/forget only)."""

    def __init__(self) -> None:
        from bonjoro_tui.store import TokenStore

        self.settings = load_settings().resolved_for_sandbox("http://127.0.0.1:8765")
        self.store = TokenStore(self.settings.store_path)
        self.now = lambda: 1_800_000_000.0
        self.switched: list[str] = []

    def load_profile(self):
        return self.store.load(self.settings.profile)

    def switch_profile(self, name: str) -> None:
        from dataclasses import replace

        self.switched.append(name)
        self.settings = replace(self.settings, profile=name)


def test_list_use_and_forget_profiles_and_config_toml_keeps_the_users_lines():
    s = LightSession()
    _stored(s, "default")
    _stored(s, "work", target="https://www.bonjoro.com")
    _stored(s, "old", lifetime=-10, refresh=False)
    rows = {p.name: p for p in list_profiles(s)}
    assert list(rows) == ["default", "old", "work"]
    assert rows["default"].active and rows["default"].default and rows["default"].signed_in
    assert rows["default"].where == "the sandbox"
    assert rows["work"].where == "Bonjoro" and not rows["work"].on_this_target and not rows["work"].signed_in
    assert rows["old"].expired and not rows["old"].signed_in
    assert "access-" not in repr(list_profiles(s))  # a summary never holds a token

    config = s.settings.config_dir / "config.toml"
    config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config.write_text('# my settings\nscope = "read"  # keep me\n\n[keymap]\nrefresh = "ctrl+r"\n')
    os.chmod(config, 0o600)
    use_profile(s, "old")
    assert s.switched == ["old"]
    text = config.read_text()
    assert "# my settings" in text and "# keep me" in text and 'refresh = "ctrl+r"' in text
    assert 'profile = "old"' in text and stat.S_IMODE(config.stat().st_mode) == 0o600
    assert load_settings().profile == "old"  # the next run uses it
    rows = {p.name: p for p in list_profiles(s)}
    assert rows["old"].active and rows["old"].default and not rows["default"].default

    with pytest.raises(ProfileError):
        use_profile(s, "nobody")
    with pytest.raises(ProfileError):
        use_profile(s, "../x")


async def test_remove_without_revoking_forgets_only_that_profile():
    s = LightSession()
    _stored(s, "default")
    _stored(s, "work")
    result = await remove_profile(s, "work", revoke=False)
    assert result.deleted and s.store.names() == ["default"]
    with pytest.raises(ProfileError):
        await remove_profile(s, "work", revoke=False)


@pytest.mark.integration
async def test_remove_with_revoke_revokes_at_the_sandbox_an_inactive_and_the_active_profile():
    session = open_session(load_settings(), sandbox_options={"auto_approve": True})
    try:
        # Two real sign-ins (client credentials): "ci", then "default" (switch_profile between).
        session.switch_profile("ci")
        await SignIn(session).run(SignInMethod.CLIENT_CREDENTIALS)
        session.switch_profile("default")
        assert session.client.settings.profile == "default"  # the client was built again for it
        await SignIn(session).run(SignInMethod.CLIENT_CREDENTIALS)
        before = session.sandbox.state.stats()["revoke_requests"]
        result = await remove_profile(session, "ci", revoke=True)
        assert result.revoked and result.deleted and session.store.names() == ["default"]
        assert session.sandbox.state.stats()["revoke_requests"] > before
        result = await remove_profile(session, "default", revoke=True)
        assert result.deleted and session.store.names() == []
    finally:
        await session.aclose()


def test_remember_refuses_other_keys_a_linked_config_and_a_config_dir_others_can_write(tmp_path):
    s = LightSession()
    with pytest.raises(PreferenceError):
        remember(s.settings, "token_url", "https://evil.example")
    path = remember(s.settings, "theme", "nord")  # creates the dir 0700 and the file 0600
    assert path.read_text() == 'theme = "nord"\n' and preferences.read(s.settings, "theme") == "nord"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    real = tmp_path / "elsewhere.toml"
    real.write_text('theme = "x"\n')
    path.unlink()
    path.symlink_to(real)
    with pytest.raises(PreferenceError) as err:
        remember(s.settings, "theme", "dracula")
    assert "symbolic link" in str(err.value) and real.read_text() == 'theme = "x"\n'
    path.unlink()
    os.chmod(path.parent, 0o777)
    try:
        with pytest.raises(PreferenceError):
            remember(s.settings, "theme", "dracula")
        assert not path.exists()
    finally:
        os.chmod(path.parent, 0o700)


def test_a_dotenv_cannot_choose_where_a_preference_is_written(isolated_environment, tmp_path):
    planted = tmp_path / "work" / "evil-config"
    (tmp_path / "work" / ".env").write_text(f"BONJORO_TUI_CONFIG_DIR={planted}\n")  # the working directory's
    settings = load_settings()
    path = remember(settings, "theme", "nord")
    assert path == isolated_environment / "config" / "config.toml" and path.read_text() == 'theme = "nord"\n'
    assert not planted.exists()
