"""Killed processes, full disks and read-only directories (issue 5, part 3).

A forked child saves fresh token pairs in a loop while the parent SIGKILLs it at random moments
(≥ 500 times); after every kill the store parses, holds one consistent pair (the last one the
child saw saved, or the one it was writing), and is still 0600. Then the refresh path of the
API client meets a full disk and a read-only data directory: a clear error, the file unchanged;
or, for the dashboard's client (keep_unsaved), the rotated tokens kept in memory and saved later.
"""

from __future__ import annotations

import errno
import os
import random
import resource
import signal
import stat
import time

import httpx
import pytest

from adversarial import figures, registry
from bonjoro_tui.api.client import BonjoroClient, RefreshFailed
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, StoreError, StoreWriteError, TokenStore
from bonjoro_tui.tokens import TokenSet
from support import redirect_browser

T0 = 1_800_000_000.0


def pair(generation: int) -> TokenSet:
    """Access and refresh token of one generation: each names the generation and the other."""
    nonce = os.urandom(6).hex()
    return TokenSet(f"access-{generation}-{nonce}", T0 + generation, refresh_token=f"refresh-{generation}-{nonce}",
                    expires_at=T0 + generation + 3600)


def profile(generation: int) -> StoredProfile:
    return StoredProfile("default", "sandbox", "code", "sandbox-public", pair(generation))


def _child(path, start: int, report_fd: int) -> None:
    """Save generation after generation; report each one once save() has returned."""
    try:
        store = TokenStore(path)
        g = start
        os.write(report_fd, b"S")  # started: the parent's random delay counts from here
        while True:
            g += 1
            store.save(profile(g))
            os.write(report_fd, g.to_bytes(4, "big"))
    finally:
        os._exit(0)


def test_sigkill_during_saves_never_loses_or_tears_the_tokens(tmp_path, scale):
    path = tmp_path / "data" / "tokens.toml"
    store = TokenStore(path)
    store.save(profile(0))
    kills = 500 * scale
    rng = random.Random(0x5EED)
    started_at = time.perf_counter()
    for _ in range(20):
        store.save(profile(0))
    # Kill moments are spread over a few saves' time, so a loaded machine still kills mid-save.
    window = max(0.006, 3 * (time.perf_counter() - started_at) / 20)
    store.save(profile(0))
    lost = torn = bad_mode = 0
    generation = 0
    for _ in range(kills):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(r)
            _child(path, generation, w)
        os.close(w)
        started = os.read(r, 1)
        time.sleep(rng.uniform(0, window))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        reported = b""
        while chunk := os.read(r, 4096):
            reported += chunk
        os.close(r)
        assert started == b"S"
        confirmed = int.from_bytes(reported[-4:], "big") if reported else generation
        current = store.load("default")  # a torn file would be quarantined and raise here
        access, refresh = current.tokens.access_token, current.tokens.refresh_token
        g, nonce = access.split("-")[1:]
        if refresh != f"refresh-{g}-{nonce}" or current.tokens.obtained_at != T0 + int(g):
            torn += 1
        if int(g) < confirmed:  # a save that had returned was undone
            lost += 1
        if stat.S_IMODE(os.stat(path).st_mode) != 0o600:
            bad_mode += 1
        generation = int(g)
    assert (torn, lost, bad_mode) == (0, 0, 0)
    assert not list(path.parent.glob("*.corrupt-*"))
    store.save(profile(generation + 1))  # the next save removes any orphaned temp file
    assert not list(path.parent.glob(".tokens.toml.*.tmp"))
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert generation > kills // 20  # the child really was saving between kills
    figures.add("killed processes: SIGKILLs during saves survived", kills)
    figures.add("killed processes: tokens lost or torn", lost + torn)
    figures.put("killed processes: generations saved in between", generation)


def test_a_real_write_limit_in_a_child_leaves_the_file_intact(tmp_path):
    """RLIMIT_FSIZE: the kernel refuses the write (EFBIG) half-way through the temp file."""
    path = tmp_path / "data" / "tokens.toml"
    store = TokenStore(path)
    store.save(profile(1))
    before = path.read_bytes()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
            TokenStore(path).save(profile(2))
            os.write(w, b"saved")
        except StoreWriteError as exc:
            os.write(w, str(exc).encode())
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    message = b""
    while chunk := os.read(r, 4096):
        message += chunk
    os.close(r)
    assert message.decode().startswith(f"could not save tokens to {path}: File too large; the previous file is unchanged")
    assert path.read_bytes() == before
    assert not list(path.parent.glob(".tokens.toml.*.tmp"))


# --------------------------------------------------------------------------- through the refresh path


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(auto_approve=True) as server:
        yield server


async def signed_in(sandbox, http):
    from bonjoro_tui.auth.login import CodeLogin

    settings = load_settings().resolved_for_sandbox(sandbox.url)
    store = TokenStore(settings.store_path)
    p = await CodeLogin(settings, store, http).run(open_browser=redirect_browser(), timeout=20)
    registry.secret(p.tokens.access_token, p.tokens.refresh_token)
    return settings, store, p


def _under(path, root) -> bool:
    return str(path).startswith(str(root))


class Disk:
    """While ``full``, every fsync of a file under the data directory fails with ENOSPC."""

    def __init__(self, monkeypatch, data_dir) -> None:
        self.full = True
        real_fsync = os.fsync

        def fsync(fd):
            if self.full and _under(os.readlink(f"/proc/self/fd/{fd}"), data_dir):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_fsync(fd)

        # Not monkeypatch.undo() to free it: that would also undo the test's isolated data dir.
        monkeypatch.setattr(os, "fsync", fsync)


async def test_disk_full_during_the_refresh_save(sandbox, monkeypatch):
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        settings, store, p = await signed_in(sandbox, http)
        before = store.path.read_bytes()
        data_dir = store.path.parent
        disk = Disk(monkeypatch, data_dir)
        client = BonjoroClient(settings, store, http=http)  # a one-shot command's client: no keep_unsaved
        with pytest.raises(RefreshFailed) as error:
            await client.refresh_now()
        disk.full = False
    msg = registry.message(error.value)
    assert msg == (f"got new tokens but could not save them: could not save tokens to {store.path}: "
                   "the disk is full; the previous file is unchanged")
    assert store.path.read_bytes() == before
    assert not list(data_dir.glob(".tokens.toml.*.tmp"))
    figures.add("disk full / read-only: saves refused with the file intact", 1)


async def test_disk_full_after_rotation_keeps_the_new_tokens_for_the_dashboard(sandbox, monkeypatch):
    """keep_unsaved (the TUI): the rotated tokens are used from memory and saved once the disk takes them."""
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        settings, store, p = await signed_in(sandbox, http)
        before = store.path.read_bytes()
        events = []
        client = BonjoroClient(settings, store, http=http, keep_unsaved=True, on_refresh=events.append)
        disk = Disk(monkeypatch, store.path.parent)

        held = await client.refresh_now()
        registry.secret(held.tokens.access_token, held.tokens.refresh_token)
        assert held.tokens.refresh_token != p.tokens.refresh_token  # rotated: the one on disk is spent
        assert events[-1].ok and not events[-1].saved
        assert registry.message(events[-1].detail) == (
            f"could not save tokens to {store.path}: the disk is full; the previous file is unchanged")
        assert store.path.read_bytes() == before and not list(store.path.parent.glob(".tokens.toml.*.tmp"))
        assert client.auth.unsaved == held and held.last_refresh_result == "ok, but not saved (kept in memory)"

        # The held refresh token is the live one: refreshing again works. (The spent one on disk
        # would be refused as reuse, and the sandbox would revoke the whole family.)
        again = await client.refresh_now()
        registry.secret(again.tokens.access_token, again.tokens.refresh_token)
        assert not events[-1].saved and store.path.read_bytes() == before
        assert (await client.me())["email"]  # requests go out with the held access token

        disk.full = False  # the disk has room again: the next use of the profile saves
        assert (await client.me())["email"]
        assert events[-1].reason == "saved" and events[-1].saved
        assert client.auth.unsaved is None
        stored = store.load(settings.profile)
        assert stored.tokens.refresh_token == again.tokens.refresh_token and stored.last_refresh_result == "ok"
        assert (await client.refresh_now()).tokens.refresh_token != again.tokens.refresh_token
    figures.add("disk full after rotation: new tokens kept in memory, saved when it has room", 1)


async def held_in_memory(sandbox, http, monkeypatch):
    """Signed in, refreshed while the disk was full (tokens held by the client), disk free again."""
    settings, store, _ = await signed_in(sandbox, http)
    client = BonjoroClient(settings, store, http=http, keep_unsaved=True)
    disk = Disk(monkeypatch, store.path.parent)
    held = await client.refresh_now()
    registry.secret(held.tokens.access_token, held.tokens.refresh_token)
    disk.full = False
    assert client.auth.unsaved == held
    return settings, store, client, held


async def test_held_tokens_give_way_to_a_store_that_changed_meanwhile(sandbox, monkeypatch):
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        settings, store, client, held = await held_in_memory(sandbox, http, monkeypatch)
        # Another process signs in again and saves its own tokens: the store wins over what we held.
        _, _, other = await signed_in(sandbox, http)
        assert client.auth.load_profile().tokens.access_token == other.tokens.access_token
        assert client.auth.unsaved is None
        assert TokenStore(store.path).load(settings.profile).tokens.refresh_token == other.tokens.refresh_token


async def test_logout_revokes_the_tokens_held_in_memory(sandbox, monkeypatch):
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        settings, store, client, held = await held_in_memory(sandbox, http, monkeypatch)
        result = await client.logout_detailed()
        assert result.revoked_all and result.deleted
        assert store.load(settings.profile) is None and client.auth.unsaved is None
        # The held refresh token is dead at the server now: it cannot be used to refresh.
        refused = await http.post(settings.token_url, json={
            "grant_type": "refresh_token", "refresh_token": held.tokens.refresh_token, "client_id": settings.client_id})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


async def test_read_only_data_dir_during_the_refresh(sandbox, monkeypatch):
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        settings, store, p = await signed_in(sandbox, http)
        before = store.path.read_bytes()
        data_dir = store.path.parent
        sandbox.state.reset_stats()
        real_open, real_replace, real_unlink = os.open, os.replace, os.unlink
        writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC

        def ro_open(path, flags, *a, **k):
            if flags & writes and _under(os.path.abspath(path), data_dir):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return real_open(path, flags, *a, **k)

        def ro(real):
            def refuse(src, *a, **k):
                if _under(os.path.abspath(src), data_dir):
                    raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(src))
                return real(src, *a, **k)
            return refuse

        monkeypatch.setattr(os, "open", ro_open)
        monkeypatch.setattr(os, "replace", ro(real_replace))
        monkeypatch.setattr(os, "unlink", ro(real_unlink))
        client = BonjoroClient(settings, store, http=http)
        with pytest.raises(StoreError) as error:
            await client.refresh_now()
        monkeypatch.undo()
    msg = registry.message(error.value)
    assert msg == f"cannot lock the token store {store.path}: the file system is read-only"
    assert store.path.read_bytes() == before
    # Refused before the token request: the refresh token was not spent on tokens that could not be kept.
    assert sandbox.state.stats()["token_requests"] == {}
    figures.add("disk full / read-only: saves refused with the file intact", 1)
