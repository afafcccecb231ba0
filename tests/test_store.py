"""TokenStore: format, permissions, atomicity, quarantine of corrupt files, locking."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, strategies as st
from hypothesis import settings as hsettings

from bonjoro_tui.store import (
    StoreCorruptError,
    StoredProfile,
    StoreVersionError,
    StoreWriteError,
    TokenStore,
)
from bonjoro_tui.tokens import TokenSet

T0 = 1_800_000_000.0


def profile(name="default", access="at-" + "a" * 40, refresh="rt-" + "r" * 40, **kw) -> StoredProfile:
    return StoredProfile(
        name=name,
        target="sandbox",
        method=kw.pop("method", "code"),
        client_id="sandbox-public",
        tokens=TokenSet(
            access_token=access,
            obtained_at=T0,
            refresh_token=refresh,
            scope="read write",
            expires_at=kw.pop("expires_at", T0 + 3600),
        ),
        **kw,
    )


@pytest.fixture
def store(tmp_path) -> TokenStore:
    return TokenStore(tmp_path / "data" / "tokens.toml", now=lambda: T0)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip_and_file_format(store):
    p = profile(last_refresh_at=T0 + 5, last_refresh_result="ok")
    store.save(p)
    assert store.load("default") == p
    assert store.load("other") is None
    assert store.names() == ["default"]
    doc = tomllib.loads(store.path.read_text())
    assert doc["version"] == 1
    table = doc["profiles"]["default"]
    assert table["obtained_at"] == "2027-01-15T08:00:00Z"
    assert table["expires_at"] == "2027-01-15T09:00:00Z"
    assert table["method"] == "code" and table["target"] == "sandbox"
    assert table["last_refresh_result"] == "ok"


def test_api_key_profile_has_no_expiry_and_no_refresh(store):
    p = profile(method="api_key", refresh=None, expires_at=None)
    store.save(p)
    assert store.load("default") == p
    table = tomllib.loads(store.path.read_text())["profiles"]["default"]
    assert "expires_at" not in table and "refresh_token" not in table


def test_modes_are_0600_in_0700_dir(store):
    store.save(profile())
    assert mode(store.path) == 0o600
    assert mode(store.path.parent) == 0o700


def test_looser_modes_are_tightened(store):
    store.path.parent.mkdir(parents=True)
    os.chmod(store.path.parent, 0o755)
    store.save(profile())
    os.chmod(store.path, 0o644)
    assert mode(store.path.parent) == 0o700
    assert store.load("default") is not None
    assert mode(store.path) == 0o600
    store.save(profile(name="second"))
    assert mode(store.path.parent) == 0o700 and mode(store.path) == 0o600


def test_delete_and_update(store):
    store.save(profile("a"))
    store.save(profile("b"))
    assert store.delete("a") is True
    assert store.delete("a") is False
    assert store.names() == ["b"]

    def bump(current):
        assert current is not None
        return StoredProfile(**{**current.__dict__, "last_refresh_result": "invalid_grant"})

    assert store.update("b", bump).last_refresh_result == "invalid_grant"
    assert store.load("b").last_refresh_result == "invalid_grant"
    assert store.update("b", lambda cur: None) is None
    assert store.names() == []


def test_locked_is_reentrant_around_read_modify_write(store):
    store.save(profile())
    with store.locked():
        current = store.load("default")
        store.save(profile(access="at-new-" + "x" * 30))
        with store.locked():
            assert store.load("default").tokens.access_token.startswith("at-new-")
    assert current.tokens.access_token.startswith("at-a")


def no_temp_files(store) -> bool:
    return not [p for p in store.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_failed_replace_leaves_previous_file_intact(store, monkeypatch):
    store.save(profile())
    before = store.path.read_bytes()

    def boom(src, dst):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(StoreWriteError, match="previous file is unchanged"):
        store.save(profile(access="at-new-" + "n" * 30))
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert no_temp_files(store)
    assert store.load("default").tokens.access_token.startswith("at-a")


def test_process_killed_before_rename_leaves_previous_file_intact(store):
    store.save(profile())
    before = store.path.read_bytes()
    script = textwrap.dedent(
        f"""
        import os
        from bonjoro_tui.store import TokenStore
        from bonjoro_tui.tokens import TokenSet
        import tests.test_store as t
        os.replace = lambda src, dst: os.kill(os.getpid(), 9)
        TokenStore(t.Path({str(store.path)!r})).save(t.profile(access="at-never-saved"))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent, capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()
    assert store.path.read_bytes() == before
    assert store.load("default").tokens.access_token.startswith("at-a")
    assert not no_temp_files(store)  # the dead writer's temp file is still there...
    store.save(profile(name="next"))
    assert no_temp_files(store)  # ...until the next save clears it under the lock
    assert store.names() == ["default", "next"]


def test_disk_full_is_a_clear_error_and_loses_nothing(store, monkeypatch):
    store.save(profile())
    before = store.path.read_bytes()
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StoreWriteError) as info:
        store.save(profile(access="at-new-" + "n" * 30))
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert "disk is full" in str(info.value) and str(store.path) in str(info.value)
    assert store.path.read_bytes() == before
    assert no_temp_files(store)


def test_read_only_directory_is_a_clear_error(store, monkeypatch):
    store.save(profile())
    before = store.path.read_bytes()
    real_open = os.open

    def ro_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and str(path).endswith(".tmp"):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", ro_open)
    with pytest.raises(StoreWriteError, match="read-only"):
        store.save(profile(access="at-new-" + "n" * 30))
    monkeypatch.undo()
    assert store.path.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [
        b"this is = = not toml",
        b"\xff\xfe garbage",
        b'version = 1\nprofiles = "nope"\n',
        b'version = 1\n[profiles.default]\nmethod = "code"\n',  # no access_token
        b'[profiles.default]\naccess_token = "x"\n',  # no version
        b'version = 1\n[profiles.default]\ntarget="s"\nmethod="code"\naccess_token="x"\nobtained_at="yesterday"\n',
    ],
)
def test_corrupt_file_is_moved_aside_and_reported(store, content):
    store.path.parent.mkdir(parents=True, mode=0o700)
    store.path.write_bytes(content)
    with pytest.raises(StoreCorruptError) as info:
        store.load("default")
    moved = info.value.quarantined_to
    assert moved.name == "tokens.toml.corrupt-20270115T080000"
    assert str(moved) in str(info.value)
    assert moved.read_bytes() == content  # nothing lost
    assert not store.path.exists()
    assert store.load("default") is None
    store.save(profile())  # a subsequent save writes a fresh file
    assert store.load("default") is not None
    assert moved.read_bytes() == content


def test_second_quarantine_never_overwrites_the_first(store):
    store.path.parent.mkdir(parents=True, mode=0o700)
    store.path.write_bytes(b"first = = bad")
    with pytest.raises(StoreCorruptError) as first:
        store.names()
    store.path.write_bytes(b"second = = bad")
    with pytest.raises(StoreCorruptError) as second:
        store.names()
    assert first.value.quarantined_to != second.value.quarantined_to
    assert first.value.quarantined_to.read_bytes() == b"first = = bad"
    assert second.value.quarantined_to.read_bytes() == b"second = = bad"


def test_save_over_corrupt_file_quarantines_it_first(store):
    store.path.parent.mkdir(parents=True, mode=0o700)
    store.path.write_bytes(b"garbage = = =")
    store.save(profile())
    assert store.load("default") is not None
    quarantined = list(store.path.parent.glob("tokens.toml.corrupt-*"))
    assert [p.read_bytes() for p in quarantined] == [b"garbage = = ="]
    assert store.last_quarantined == quarantined[0]


def test_newer_format_is_left_untouched(store):
    store.path.parent.mkdir(parents=True, mode=0o700)
    store.path.write_bytes(b"version = 2\n")
    with pytest.raises(StoreVersionError, match="newer"):
        store.load("default")
    with pytest.raises(StoreVersionError):
        store.save(profile())
    assert store.path.read_bytes() == b"version = 2\n"


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import tests.test_store as t
    from bonjoro_tui.store import TokenStore
    store = TokenStore(Path(sys.argv[1]))
    name = sys.argv[2]
    for i in range(60):
        store.save(t.profile(name=name, access=f"{name}-{i:03d}-" + "x" * 2000))
    """
)


def test_concurrent_processes_never_tear_the_file_or_lose_updates(store):
    store.save(profile(name="seed"))
    root = Path(__file__).parent.parent
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(store.path), name], cwd=root)
        for name in ("alpha", "beta")
    ]
    reads = 0
    while any(p.poll() is None for p in procs):
        tomllib.loads(store.path.read_text())  # a torn file would fail to parse
        reads += 1
    assert [p.wait() for p in procs] == [0, 0]
    assert reads > 0
    assert store.names() == ["alpha", "beta", "seed"]  # read-modify-write under the lock
    assert store.load("alpha").tokens.access_token.startswith("alpha-059-")
    assert store.load("beta").tokens.access_token.startswith("beta-059-")
    assert no_temp_files(store)


_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True) | _text,
    access=_text,
    refresh=st.none() | _text,
    scope=st.none() | _text,
    obtained=st.integers(0, 4_000_000_000),
    lifetime=st.none() | st.integers(1, 10**8),
)
def test_any_profile_round_trips(tmp_path, name, access, refresh, scope, obtained, lifetime):
    store = TokenStore(tmp_path / "prop" / "tokens.toml")
    p = StoredProfile(
        name=name,
        target="https://as.test",
        method="code",
        client_id=None,
        tokens=TokenSet(
            access_token=access,
            obtained_at=float(obtained),
            refresh_token=refresh,
            scope=scope,
            expires_at=None if lifetime is None else float(obtained + lifetime),
        ),
    )
    store.save(p)
    assert store.load(name) == p
    assert store.delete(name) is True


def test_profile_repr_masks_tokens():
    p = profile()
    assert p.tokens.access_token not in repr(p) and p.tokens.refresh_token not in repr(p)
    assert "default" in repr(p)


def test_unchanged_file_is_not_parsed_again_but_every_change_is_seen(store, monkeypatch):
    import bonjoro_tui.store as store_module

    parses = []
    real_loads = store_module.tomllib.loads
    monkeypatch.setattr(store_module.tomllib, "loads", lambda text: parses.append(1) or real_loads(text))
    store.save(profile(access="at-" + "1" * 40))
    parses.clear()
    first = store.load("default")
    assert store.load("default") == first and parses == []  # the save primed it; reads reuse it

    # Another process (another TokenStore) rotates the token: same length, so the same size,
    # and within the same mtime tick — the new token must still be handed out.
    TokenStore(store.path).save(profile(access="at-" + "2" * 40))
    assert store.load("default").tokens.access_token == "at-" + "2" * 40
    # Rewritten in place, same inode and size: seen too (the cache compares the bytes).
    raw = store.path.read_bytes()
    store.path.write_bytes(raw.replace(b"at-" + b"2" * 40, b"at-" + b"3" * 40))
    assert store.load("default").tokens.access_token == "at-" + "3" * 40


def test_changing_a_loaded_profile_does_not_change_the_next_load(store):
    store.save(profile())
    loaded = store.load("default")
    loaded.last_refresh_result = "changed by the caller"
    store._read_all().pop("default")
    again = store.load("default")
    assert again is not loaded and again.last_refresh_result is None


def test_a_save_primes_the_parse_and_another_process_still_wins(store, monkeypatch):
    import bonjoro_tui.store as store_module

    parses = []
    real_loads = store_module.tomllib.loads
    monkeypatch.setattr(store_module.tomllib, "loads", lambda text: parses.append(1) or real_loads(text))
    store.save(profile(access="at-" + "1" * 40))
    parses.clear()
    assert store.load("default") == profile(access="at-" + "1" * 40) and parses == []
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(f"""
            from pathlib import Path
            from bonjoro_tui.store import TokenStore
            s = TokenStore(Path({str(store.path)!r}))
            p = s.load("default")
            s.save(type(p)(**{{**p.__dict__, "tokens": p.tokens.__class__(**{{**p.tokens.__dict__, "access_token": "at-" + "9" * 40}})}}))
        """)],
        check=True,
    )
    assert store.load("default").tokens.access_token == "at-" + "9" * 40
