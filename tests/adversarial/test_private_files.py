"""Files open only what they mean to (issue 11, part A), on the real file system.

A local attacker (or a careless script) plants a symbolic link where bonjoro-tui keeps a file —
``tokens.toml``, its lock, a temp or quarantine name, ``sandbox/state.json``, its lock,
``sandbox/port``, ``bonjoro-tui.log`` — pointing at a file outside. Whatever bonjoro-tui then
does, the file outside keeps its content, mode and mtime, nothing is created at a dangling
link's target, and the user is told which path to remove (the port file, only a preference, is
skipped silently — never followed). A data, sandbox or log directory that others can write to,
or that another user owns, is refused with what to do; under ``umask 000`` everything created
is 0700 (directories) or 0600 (files). Each class is also driven through the real
``bonjoro-tui`` command line. The rule is in bonjoro_tui/files.py.

These tests run as root here: root bypasses permission checks, so every assertion is on the
code's own checks (owner, mode, O_NOFOLLOW), never on the kernel refusing root.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from adversarial import figures, registry
from bonjoro_tui import files
from bonjoro_tui.plumbing.debug import LOG_FILE_NAME, open_debug_log
from bonjoro_tui.files import UnsafePathError
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.sandbox.state import SandboxState
from bonjoro_tui.account.sandbox import read_port as _read_port
from bonjoro_tui.account.sandbox import write_port as _write_port
from bonjoro_tui.account.session import open_session
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoreCorruptError, StoredProfile, StoreUnsafeError, StoreWriteError, TokenStore
from bonjoro_tui.tokens import TokenSet

T0 = 1_800_000_000.0
CLI = Path(sys.executable).with_name("bonjoro-tui")  # .venv/bin/bonjoro-tui
NOBODY = 65534
PLANTED = "files: links planted in place of our files"
FOLLOWED = "files: planted links followed (target read, written, created or chmod'ed)"
REFUSED = "files: unsafe directories and files refused with what to do"
WRONG_MODE = "files: created under umask 000 or 277 with a mode other than 0700/0600"
CLI_RUNS = "files: bonjoro-tui command lines run against planted paths"


def profile(n: int = 1) -> StoredProfile:
    return StoredProfile("default", "sandbox", "code", "sandbox-public",
                         TokenSet(f"at-private-files-{n}-" + "a" * 24, T0, refresh_token=f"rt-{n}-" + "r" * 24,
                                  expires_at=T0 + 3600))


# --------------------------------------------------------------------------- helpers


class Victim:
    """A file outside bonjoro-tui's directories that a planted link points at."""

    CONTENT = b"precious: not bonjoro-tui's file\n"

    def __init__(self, root: Path, name: str = "victim", exists: bool = True) -> None:
        outside = root / "outside"
        outside.mkdir(exist_ok=True)
        self.path = outside / name
        if exists:
            self.path.write_bytes(self.CONTENT)
            os.chmod(self.path, 0o644)
            os.utime(self.path, ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
        self.before = self.state()

    def state(self):
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return None
        return (self.path.read_bytes(), stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_size, st.st_uid)

    def untouched(self) -> bool:
        return self.state() == self.before


def plant(link: Path, victim: Victim) -> Path:
    """A symbolic link at ``link`` (its directory made private first) to the victim."""
    files.private_dir(link.parent)
    os.symlink(victim.path, link)
    figures.add(PLANTED)
    return link


def check(victim: Victim, link: Path | None = None) -> None:
    """The victim is as it was and the planted link still is a link (nothing replaced it)."""
    followed = not victim.untouched()
    figures.add(FOLLOWED, int(followed))
    assert not followed, f"{victim.path} changed: {victim.before} -> {victim.state()}"
    if link is not None:
        assert os.path.islink(link) and os.readlink(link) == str(victim.path)


def says_remove(exc: BaseException, path: Path) -> str:
    text = registry.message(exc)
    assert str(path) in text and "symbolic link" in text and "remove it" in text, text
    figures.add(REFUSED)
    return text


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def cli(*args: str, env: dict | None = None, stdin: str = "", umask: int | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(CLI), *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env=env or dict(os.environ), preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)
    registry.output(f"cli {' '.join(args)} stdout", proc.stdout)
    registry.output(f"cli {' '.join(args)} stderr", proc.stderr)
    figures.add(CLI_RUNS)
    return proc


@pytest.fixture
def dirs(isolated_environment):
    """The isolated data, config and log directories (tests/conftest.py), none created yet."""
    s = load_settings()
    return s.data_dir, s.config_dir, s.log_dir


# --------------------------------------------------------------------------- the token store


@pytest.mark.parametrize("op", ["load", "save", "delete"])
def test_a_link_in_place_of_tokens_toml_is_refused_never_followed(tmp_path, dirs, op):
    data_dir = dirs[0]
    victim = Victim(tmp_path)
    link = plant(data_dir / "tokens.toml", victim)
    store = TokenStore(link)
    with pytest.raises(StoreUnsafeError) as info:
        {"load": lambda: store.load("default"), "save": lambda: store.save(profile()),
         "delete": lambda: store.delete("default")}[op]()
    says_remove(info.value, link)
    check(victim, link)
    assert not list(data_dir.glob(".tokens.toml.*.tmp"))


def test_a_link_to_nothing_in_place_of_tokens_toml_creates_nothing(tmp_path, dirs):
    victim = Victim(tmp_path, "would-be-created", exists=False)
    link = plant(dirs[0] / "tokens.toml", victim)
    with pytest.raises(StoreUnsafeError) as info:
        TokenStore(link).save(profile())
    says_remove(info.value, link)
    check(victim, link)


@pytest.mark.parametrize("exists", [True, False], ids=["to-a-file", "dangling"])
def test_a_link_in_place_of_the_lock_is_refused_never_followed(tmp_path, dirs, exists):
    data_dir = dirs[0]
    store = TokenStore(data_dir / "tokens.toml")
    store.save(profile(1))
    before = store.path.read_bytes()
    store.lock_path.unlink()
    victim = Victim(tmp_path, exists=exists)
    link = plant(store.lock_path, victim)
    for attempt in (lambda: store.save(profile(2)), lambda: store.locked().__enter__()):
        with pytest.raises(StoreUnsafeError) as info:
            attempt()
        says_remove(info.value, link)
    check(victim, link)  # not created, locked, truncated or chmod'ed 0600
    assert store.path.read_bytes() == before
    assert store.load("default").tokens.access_token == profile(1).tokens.access_token  # reads need no lock


def test_links_planted_under_temp_names_are_never_written_through(tmp_path, dirs, monkeypatch):
    data_dir = dirs[0]
    store = TokenStore(data_dir / "tokens.toml")
    store.save(profile(1))
    # Links under the temp-file pattern: removed as stale temp files (as links), never written through.
    victims = [Victim(tmp_path, f"victim-{i}") for i in range(3)]
    links = [plant(data_dir / f".tokens.toml.{name}.tmp", v)
             for name, v in zip(["000000000000", "predicted", "ffffffffffff"], victims)]
    store.save(profile(2))
    for v in victims:
        check(v)
    assert not any(os.path.lexists(p) for p in links)
    # A name predicted exactly (planted between the clean-up and the open): O_EXCL, no follow.
    victim = Victim(tmp_path, "predicted-victim")
    predicted = data_dir / ".tokens.toml.5eed5eed5eed.tmp"

    def planted_then_named(path):
        plant(predicted, victim)
        return predicted

    monkeypatch.setattr(files, "temp_name", planted_then_named)
    with pytest.raises(StoreWriteError, match="previous file is unchanged"):
        store.save(profile(3))
    monkeypatch.undo()
    check(victim, predicted)
    assert store.load("default").tokens.access_token == profile(2).tokens.access_token


@pytest.mark.parametrize("planted", ["link-to-a-file", "dangling-link", "regular-file"])
@pytest.mark.parametrize("links", ["hard-links", "no-hard-links"])
def test_the_quarantine_cannot_be_redirected_by_a_planted_name(tmp_path, dirs, monkeypatch, planted, links):
    data_dir = dirs[0]
    store = TokenStore(data_dir / "tokens.toml", now=lambda: T0)
    files.private_dir(data_dir)
    store.path.write_bytes(b"corrupt = = =")
    name = data_dir / "tokens.toml.corrupt-20270115T080000"  # the name T0 gives
    victim = Victim(tmp_path, exists=planted != "dangling-link")
    if planted == "regular-file":
        name.write_bytes(b"an earlier quarantined file")
    else:
        plant(name, victim)
    if links == "no-hard-links":  # a file system without link(2): reserve the name, then rename
        def no_link(*a, **k):
            raise OSError(errno.EPERM, "Operation not permitted")
        monkeypatch.setattr(os, "link", no_link)
    with pytest.raises(StoreCorruptError) as info:
        store.load("default")
    registry.message(info.value)
    moved = info.value.quarantined_to
    assert moved == name.with_name(name.name + "-2")
    assert moved.read_bytes() == b"corrupt = = =" and not os.path.islink(moved)
    assert not os.path.lexists(store.path)
    if planted == "regular-file":
        assert name.read_bytes() == b"an earlier quarantined file"
    else:
        check(victim, name)


def test_a_fifo_in_place_of_tokens_toml_is_refused_at_once(dirs):
    data_dir = files.private_dir(dirs[0])
    os.mkfifo(data_dir / "tokens.toml", 0o600)
    with pytest.raises(StoreUnsafeError, match="not a regular file"):  # O_NONBLOCK: no hang
        TokenStore(data_dir / "tokens.toml").load("default")


def test_a_token_file_of_another_user_is_refused(dirs):
    store = TokenStore(dirs[0] / "tokens.toml")
    store.save(profile())
    os.chown(store.path, NOBODY, NOBODY)  # root could read it: the code's own check refuses
    with pytest.raises(StoreUnsafeError) as info:
        store.load("default")
    text = registry.message(info.value)
    assert str(store.path) in text and "belongs to another user" in text and "move it away" in text
    figures.add(REFUSED)


def test_cli_status_and_logout_with_a_link_in_place_of_tokens_toml(tmp_path, dirs):
    victim = Victim(tmp_path)
    link = plant(dirs[0] / "tokens.toml", victim)
    for args in (["status"], ["status", "--json"], ["logout"]):
        proc = cli(*args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert f"the token store {link} is a symbolic link" in proc.stderr and "remove it" in proc.stderr
    paths = cli("paths")  # paths touches nothing: it only says where things are
    assert paths.returncode == 0 and str(link) in paths.stdout
    check(victim, link)


# --------------------------------------------------------------------------- the sandbox state


@pytest.mark.parametrize("which", ["state.json", "state.json.lock"])
def test_a_link_in_place_of_the_sandbox_state_is_refused(tmp_path, dirs, which):
    sandbox_dir = dirs[0] / "sandbox"
    victim = Victim(tmp_path)
    link = plant(sandbox_dir / which, victim)
    with pytest.raises(UnsafePathError) as info:
        SandboxState(sandbox_dir / "state.json")
    says_remove(info.value, link)
    check(victim, link)
    assert not list(sandbox_dir.glob(".state.json.*"))


def test_a_link_planted_after_start_is_refused_at_the_next_change(tmp_path, dirs):
    sandbox_dir = dirs[0] / "sandbox"
    state = SandboxState(sandbox_dir / "state.json")
    (sandbox_dir / "state.json").unlink()
    victim = Victim(tmp_path)
    link = plant(sandbox_dir / "state.json", victim)
    with pytest.raises(UnsafePathError) as info:
        state.advance_clock(5)
    says_remove(info.value, link)
    check(victim, link)


def test_sandbox_state_temp_links_are_removed_and_set_aside_names_skipped(tmp_path, dirs, monkeypatch):
    import time

    sandbox_dir = files.private_dir(dirs[0] / "sandbox")
    path = sandbox_dir / "state.json"
    stale = Victim(tmp_path, "stale")
    stale_link = plant(sandbox_dir / ".state.json.0123456789ab.tmp", stale)
    path.write_bytes(b"[1, 2]")  # valid JSON, not an object: set aside
    real_gmtime, fixed = time.gmtime, time.gmtime(T0)  # 2027-01-15T08:00:00Z
    monkeypatch.setattr(time, "gmtime", lambda *a: real_gmtime(*a) if a else fixed)
    aside = Victim(tmp_path, "aside")
    aside_link = plant(sandbox_dir / "state.json.corrupt-20270115T080000", aside)
    SandboxState(path)
    check(stale)
    check(aside, aside_link)
    assert not os.path.lexists(stale_link)
    assert (sandbox_dir / "state.json.corrupt-20270115T080000-2").read_bytes() == b"[1, 2]"
    assert mode(path) == 0o600 and not os.path.islink(path)


def test_cli_with_a_link_in_place_of_the_sandbox_state(tmp_path, dirs):
    victim = Victim(tmp_path)
    link = plant(dirs[0] / "sandbox" / "state.json", victim)
    proc = cli("refresh")
    assert proc.returncode == 1, proc.stderr
    assert f"the sandbox state file {link} is a symbolic link" in proc.stderr and "remove it" in proc.stderr
    check(victim, link)


# --------------------------------------------------------------------------- the sandbox port


def test_a_link_in_place_of_the_port_file_is_skipped_never_followed(tmp_path, dirs):
    sandbox_dir = dirs[0] / "sandbox"
    victim = Victim(tmp_path)
    victim.path.write_bytes(b"8443\n")  # a "port" the link would make us use
    os.utime(victim.path, ns=(1_500_000_000_000_000_000,) * 2)
    victim.before = victim.state()
    link = plant(sandbox_dir / "port", victim)
    assert _read_port(link) is None
    _write_port(link, 40000)
    check(victim, link)
    session = open_session(load_settings())  # the sandbox starts on any port; the link stays as it was
    try:
        assert session.sandbox.port != 8443
    finally:
        session.close()
    check(victim, link)


def test_the_port_file_is_0600_whatever_it_was(dirs):
    port = files.private_dir(dirs[0] / "sandbox") / "port"
    port.write_text("1\n")
    os.chmod(port, 0o666)
    _write_port(port, 41234)
    assert _read_port(port) == 41234 and mode(port) == 0o600


def test_cli_with_a_link_in_place_of_the_port_file(tmp_path, dirs):
    victim = Victim(tmp_path)
    link = plant(dirs[0] / "sandbox" / "port", victim)
    proc = cli("refresh")
    assert proc.returncode == 4 and "not signed in" in proc.stderr, proc.stderr  # it ran; the link was skipped
    check(victim, link)


# --------------------------------------------------------------------------- the debug log


@pytest.mark.parametrize("exists", [True, False], ids=["to-a-file", "dangling"])
def test_a_link_in_place_of_the_debug_log_is_refused_never_appended_to(tmp_path, dirs, exists):
    log_dir = dirs[2]
    victim = Victim(tmp_path, exists=exists)
    link = plant(log_dir / LOG_FILE_NAME, victim)
    with pytest.raises(UnsafePathError) as info:
        open_debug_log(log_dir, secrets=["s3cr3t-" + "x" * 20])
    says_remove(info.value, link)
    check(victim, link)  # not appended to, not chmod'ed 0600


def test_cli_debug_with_a_link_in_place_of_the_log(tmp_path, dirs):
    victim = Victim(tmp_path)
    link = plant(dirs[2] / LOG_FILE_NAME, victim)
    for args in (["--debug", "refresh"], ["--debug", "status"], ["api", "GET", "/me", "--debug"]):
        proc = cli(*args)
        if args[1] == "status":  # status reads the store only: no HTTP, no log opened
            assert proc.returncode == 4, proc.stderr
            continue
        assert proc.returncode == 1, (args, proc.stderr)
        assert f"the debug log {link} is a symbolic link" in proc.stderr and "remove it" in proc.stderr
    check(victim, link)


def test_an_existing_log_is_made_0600(dirs):
    log_dir = files.private_dir(dirs[2])
    (log_dir / LOG_FILE_NAME).write_text("old\n")
    os.chmod(log_dir / LOG_FILE_NAME, 0o644)
    open_debug_log(log_dir).close()
    assert mode(log_dir / LOG_FILE_NAME) == 0o600
    assert (log_dir / LOG_FILE_NAME).read_text() == "old\n"  # appended to, not truncated


# --------------------------------------------------------------------------- directories


UNSAFE = {
    "world-writable 0777": (0o777, None, "chmod 700"),
    "group-writable 0770": (0o770, None, "chmod 700"),
    "sticky 1777": (0o1777, None, "chmod 700"),
    "another user's 0700": (0o700, NOBODY, "belongs to another user"),
}


def make_dir(path: Path, perm: int, owner: int | None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, perm)
    if owner is not None:
        os.chown(path, owner, owner)


@pytest.mark.parametrize("case", list(UNSAFE))
def test_an_unsafe_data_dir_is_refused_with_what_to_do(dirs, case):
    perm, owner, advice = UNSAFE[case]
    data_dir = dirs[0]
    make_dir(data_dir, perm, owner)
    store = TokenStore(data_dir / "tokens.toml")
    for attempt in (lambda: store.load("default"), lambda: store.save(profile()), lambda: store.names()):
        with pytest.raises(StoreUnsafeError) as info:
            attempt()
        text = registry.message(info.value)
        assert str(data_dir) in text and advice in text, text
    figures.add(REFUSED)
    assert os.listdir(data_dir) == []  # not even a lock file was created in it
    assert mode(data_dir) == perm  # not "fixed" behind the user's back
    with pytest.raises(UnsafePathError, match=advice):
        open_session(load_settings())  # the sandbox does not start in it either
    assert os.listdir(data_dir) == []


@pytest.mark.parametrize("case", list(UNSAFE))
def test_cli_with_an_unsafe_data_dir(dirs, case):
    perm, owner, advice = UNSAFE[case]
    make_dir(dirs[0], perm, owner)
    for args in (["status"], ["refresh"], ["login", "--method", "api-key"]):
        proc = cli(*args, stdin="not-a-real-key-but-long-enough\n")
        assert proc.returncode == 1, (args, proc.stderr)
        assert str(dirs[0]) in proc.stderr and advice in proc.stderr, proc.stderr
    assert os.listdir(dirs[0]) == []
    figures.add(REFUSED)


@pytest.mark.parametrize("which", ["sandbox", "log"])
@pytest.mark.parametrize("case", ["world-writable 0777", "another user's 0700"])
def test_an_unsafe_sandbox_or_log_dir_is_refused(dirs, which, case):
    perm, owner, advice = UNSAFE[case]
    data_dir, _, log_dir = dirs
    target = data_dir / "sandbox" if which == "sandbox" else log_dir
    files.private_dir(data_dir)
    make_dir(target, perm, owner)
    args = ["refresh"] if which == "sandbox" else ["--debug", "refresh"]
    proc = cli(*args)
    assert proc.returncode == 1 and str(target) in proc.stderr and advice in proc.stderr, proc.stderr
    assert os.listdir(target) == []
    figures.add(REFUSED)


def test_a_readable_data_dir_of_ours_is_tightened(dirs):
    make_dir(dirs[0], 0o755, None)
    TokenStore(dirs[0] / "tokens.toml").save(profile())
    assert mode(dirs[0]) == 0o700


def test_a_data_dir_reached_through_a_link_is_checked_where_it_leads(tmp_path, dirs):
    data_dir = dirs[0]
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    real = tmp_path / "elsewhere" / "data"
    make_dir(real, 0o777, None)
    os.symlink(real, data_dir)
    with pytest.raises(StoreUnsafeError, match="chmod 700"):
        TokenStore(data_dir / "tokens.toml").save(profile())
    os.chmod(real, 0o700)
    TokenStore(data_dir / "tokens.toml").save(profile())  # a private directory behind a link is fine
    assert (real / "tokens.toml").exists() and mode(real / "tokens.toml") == 0o600


def test_a_dangling_link_in_place_of_the_data_dir_is_refused(tmp_path, dirs):
    dirs[0].parent.mkdir(parents=True, exist_ok=True)
    os.symlink(tmp_path / "nowhere", dirs[0])
    with pytest.raises(StoreUnsafeError, match="symbolic link to nothing"):
        TokenStore(dirs[0] / "tokens.toml").save(profile())
    assert not (tmp_path / "nowhere").exists()


def _walk_modes(*roots: Path) -> dict[str, int]:
    out = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            out[dirpath] = mode(Path(dirpath))
            for name in filenames:
                out[os.path.join(dirpath, name)] = mode(Path(dirpath) / name)
    return out


def _wrong(modes: dict[str, int]) -> list[str]:
    return [f"{p}: {m:04o}" for p, m in modes.items() if m != (0o700 if os.path.isdir(p) else 0o600)]


@pytest.mark.parametrize("umask", [0o000, 0o277], ids=["umask-000", "umask-277"])
def test_umask_000_everything_created_is_0700_or_0600(tmp_path, monkeypatch, umask):
    """000 would leave 0777/0666 if we trusted the umask; 277 would leave 0500/0400 (only root
    could go on) if we trusted mkdir/open's mode: both are corrected explicitly."""
    base = tmp_path / "fresh"  # data, sandbox and log dirs with parents to create
    monkeypatch.setenv("BONJORO_TUI_DATA_DIR", str(base / "a" / "b" / "data"))
    monkeypatch.setenv("BONJORO_TUI_LOG_DIR", str(base / "state" / "log"))
    base.mkdir()
    old = os.umask(umask)
    try:
        session = open_session(load_settings({"debug": True}))
        try:
            session.store.save(profile())
            session.store.path.write_bytes(b"corrupt = = =")  # through Python: 0666 under umask 0 ...
            with pytest.raises(StoreCorruptError):
                session.store.load("default")  # ... tightened on read, then moved aside
            session.store.save(profile(2))
            files.remove_stale_temps(session.store.path)
        finally:
            session.close()
    finally:
        os.umask(old)
    modes = _walk_modes(base / "a", base / "state")
    names = {os.path.basename(p) for p in modes}
    assert {"a", "b", "data", "sandbox", "state", "log", "tokens.toml", "tokens.toml.lock", "state.json",
            "state.json.lock", "port", LOG_FILE_NAME} <= names, names
    assert any(n.startswith("tokens.toml.corrupt-") for n in names)
    wrong = _wrong(modes)
    figures.add(WRONG_MODE, len(wrong))
    assert not wrong


def test_cli_under_umask_000_creates_only_0700_dirs_and_0600_files(tmp_path):
    from bonjoro_tui.sandbox.clients import API_KEY

    base = tmp_path / "fresh-cli"
    base.mkdir()
    env = {**os.environ, "BONJORO_TUI_DATA_DIR": str(base / "share" / "bonjoro-tui"),
           "BONJORO_TUI_LOG_DIR": str(base / "state" / "bonjoro-tui" / "log")}
    registry.secret(API_KEY)
    runs = [cli("--debug", "login", "--method", "api-key", stdin=API_KEY + "\n", env=env, umask=0),
            cli("--debug", "refresh", env=env, umask=0),
            cli("status", env=env, umask=0)]
    assert [r.returncode for r in runs[::2]] == [0, 0], [r.stderr for r in runs]
    modes = _walk_modes(base / "share", base / "state")
    names = {os.path.basename(p) for p in modes}
    assert {"tokens.toml", "tokens.toml.lock", "state.json", "state.json.lock", "port", LOG_FILE_NAME} <= names
    wrong = _wrong(modes)
    figures.add(WRONG_MODE, len(wrong))
    assert not wrong
    registry.harvest_tree(base, "cli")


def test_the_core_file_module_imports_no_textual():
    proc = subprocess.run([sys.executable, "-c", "import sys, bonjoro_tui.files; "
                           "assert not [m for m in sys.modules if m.startswith('textual')]"], capture_output=True)
    assert proc.returncode == 0, proc.stderr


def test_a_state_file_the_user_names_is_checked_where_it_is_never_chmod_ed(tmp_path):
    shared = tmp_path / "shared"
    make_dir(shared, 0o1777, None)  # a /tmp-like directory
    proc = cli("sandbox", "--state-file", str(shared / "sandbox.json"))
    assert proc.returncode == 1, proc.stderr
    assert f"the sandbox state directory {shared} is writable by" in proc.stderr
    assert "a directory of your own" in proc.stderr and "chmod 700" not in proc.stderr
    assert os.listdir(shared) == [] and mode(shared) == 0o1777
    figures.add(REFUSED)
    home_like = tmp_path / "home-like"
    make_dir(home_like, 0o755, None)  # the user's own directory, readable by others: fine, left as it is
    SandboxState(home_like / "sandbox.json")
    assert mode(home_like) == 0o755 and mode(home_like / "sandbox.json") == 0o600
