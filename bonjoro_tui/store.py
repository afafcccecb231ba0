"""The token store: one TOML file of profiles, private, written atomically under a lock.

Format (``data_dir/tokens.toml``)::

    version = 1

    [profiles.default]
    target = "sandbox"                 # Settings.target_id the tokens belong to
    method = "code"                    # "code" | "client_credentials" | "api_key"
    client_id = "sandbox-public"
    token_type = "Bearer"
    access_token = "…"
    refresh_token = "…"                # optional
    scope = "…"                        # optional
    obtained_at = "2026-11-27T19:55:00Z"   # when the token request was sent (UTC)
    expires_at = "2026-11-27T20:55:00Z"    # optional: absent for an API key
    last_refresh_at = "…"              # optional
    last_refresh_result = "ok"         # optional: "ok" or a short reason
    api_origin = "sandbox"             # optional: the API origin signed in with (bonjoro_tui.trust)
    revoke_origin = "sandbox"          # optional: the revocation endpoint's origin signed in with

The directory is 0700 and the file 0600, whatever the umask; every file here is opened
without following a symbolic link, and a directory writable by others or owned by another
user is refused (the rule, and its one implementation: :mod:`bonjoro_tui.files`; refusals
raise :class:`StoreUnsafeError`). Saves write a temp file (0600) in the same directory,
fsync it, ``os.replace`` it over the old file and fsync the directory, so a crash leaves
either the old or the new file, never a torn one. A ``fcntl.flock`` on ``tokens.toml.lock``
serialises writers across processes.

Read-modify-write (the API client refreshing a token) goes under :meth:`TokenStore.locked`,
which is re-entrant within a thread, so ``load``/``save`` can be called inside it::

    with store.locked():
        current = store.load(name)       # re-read: another process may have refreshed
        ...refresh if still needed...
        store.save(updated)

or, for a pure function of the stored profile, :meth:`TokenStore.update`.

A file that does not parse or has the wrong shape is renamed to
``tokens.toml.corrupt-YYYYmmddTHHMMSS`` (``-2``, ``-3`` … when that name is taken: a name
planted there in advance is skipped, never overwritten or followed) and reported with
:class:`StoreCorruptError`; the next save writes a fresh file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import threading
import time
import tomllib
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from bonjoro_tui.errors import BonjoroError
from bonjoro_tui import files
from bonjoro_tui.files import UnsafePathError
from bonjoro_tui.redact import mask
from bonjoro_tui.tokens import TokenSet

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
METHODS = ("code", "client_credentials", "api_key")


class StoreError(BonjoroError):
    """Base class of token store errors; the message is fit for the user."""


class StoreCorruptError(StoreError):
    """The store file could not be read; it was moved to ``quarantined_to``."""

    def __init__(self, message: str, quarantined_to: Path) -> None:
        super().__init__(message)
        self.quarantined_to = quarantined_to


class StoreWriteError(StoreError):
    """Saving failed (disk full, read-only, permissions); the previous file is intact."""


class StoreVersionError(StoreError):
    """The file was written by a newer bonjoro-tui; left untouched."""


class StoreUnsafeError(StoreError):
    """A path of the store is not safe to use (a symbolic link, a directory others can write,
    another user's file); nothing was read or changed. The message names it and what to do."""


@dataclass
class StoredProfile:
    name: str
    target: str
    method: str
    client_id: str | None
    tokens: TokenSet
    last_refresh_at: float | None = None
    last_refresh_result: str | None = None
    #: The origins this profile's credentials may go to besides ``target`` (the token endpoint's):
    #: recorded at sign-in, checked before every request (bonjoro_tui.trust). None: saved by an
    #: older version, or no such endpoint at sign-in.
    api_origin: str | None = None
    revoke_origin: str | None = None

    def __repr__(self) -> str:  # tokens masked: a profile may end up in a traceback or log
        t = self.tokens
        return (
            f"StoredProfile(name={self.name!r}, target={self.target!r}, method={self.method!r}, "
            f"client_id={self.client_id!r}, access_token={mask(t.access_token)!r}, "
            f"refresh_token={mask(t.refresh_token)!r}, expires_at={t.expires_at!r}, "
            f"last_refresh_result={self.last_refresh_result!r})"
        )


# --------------------------------------------------------------------------- (de)serialisation


def _to_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def _from_iso(value: str) -> float:
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _profile_to_table(p: StoredProfile) -> dict[str, Any]:
    t = p.tokens
    table: dict[str, Any] = {
        "target": p.target,
        "method": p.method,
        "client_id": p.client_id,
        "token_type": t.token_type,
        "access_token": t.access_token,
        "refresh_token": t.refresh_token,
        "scope": t.scope,
        "obtained_at": _to_iso(t.obtained_at),
        "expires_at": _to_iso(t.expires_at) if t.expires_at is not None else None,
        "last_refresh_at": _to_iso(p.last_refresh_at) if p.last_refresh_at is not None else None,
        "last_refresh_result": p.last_refresh_result,
        "api_origin": p.api_origin,
        "revoke_origin": p.revoke_origin,
    }
    return {k: v for k, v in table.items() if v is not None}  # TOML has no null


class _Shape(ValueError):
    pass


def _table_to_profile(name: str, table: Any) -> StoredProfile:
    if not isinstance(table, dict):
        raise _Shape(f"profile {name!r} is not a table")

    def s(key: str, required: bool = False) -> str | None:
        v = table.get(key)
        if v is None and not required:
            return None
        if not isinstance(v, str) or (required and not v):
            raise _Shape(f"profile {name!r}: {key} is missing or not a string")
        return v

    def ts(key: str, required: bool = False) -> float | None:
        v = s(key, required)
        if v is None:
            return None
        try:
            return _from_iso(v)
        except ValueError:
            raise _Shape(f"profile {name!r}: {key} is not an ISO 8601 time") from None

    method = s("method", True)
    if method not in METHODS:
        raise _Shape(f"profile {name!r}: unknown method {method!r}")
    tokens = TokenSet(
        access_token=s("access_token", True),  # type: ignore[arg-type]
        obtained_at=ts("obtained_at", True),  # type: ignore[arg-type]
        token_type=s("token_type") or "Bearer",
        refresh_token=s("refresh_token"),
        scope=s("scope"),
        expires_at=ts("expires_at"),
    )
    return StoredProfile(
        name=name,
        target=s("target", True),  # type: ignore[arg-type]
        method=method,
        client_id=s("client_id"),
        tokens=tokens,
        last_refresh_at=ts("last_refresh_at"),
        last_refresh_result=s("last_refresh_result"),
        api_origin=s("api_origin"),
        revoke_origin=s("revoke_origin"),
    )


def _parse(raw: bytes) -> dict[str, StoredProfile]:
    """Parse a whole file; raise _Shape/TOMLDecodeError/StoreVersionError."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Shape("the file is not UTF-8 text") from None
    data = tomllib.loads(text)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _Shape("no version number")
    if version > FORMAT_VERSION:
        raise StoreVersionError(
            f"the token store was written by a newer bonjoro-tui (format {version}); "
            "upgrade bonjoro-tui or point BONJORO_TUI_DATA_DIR elsewhere"
        )
    if version < 1:
        raise _Shape(f"unknown format version {version}")
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise _Shape("profiles is not a table")
    return {name: _table_to_profile(name, table) for name, table in profiles.items()}


def _serialise(profiles: dict[str, StoredProfile]) -> bytes:
    import tomli_w  # only a save needs it: not imported before the TUI's first frame

    doc = {"version": FORMAT_VERSION, "profiles": {n: _profile_to_table(p) for n, p in sorted(profiles.items())}}
    return tomli_w.dumps(doc).encode("utf-8")


# --------------------------------------------------------------------------- locking


class _PathLock:
    """A cross-process flock plus an in-process RLock, re-entrant within a thread."""

    def __init__(self, lock_path: Path) -> None:
        self.lock_path = lock_path
        self.rlock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None

    def acquire(self) -> None:
        self.rlock.acquire()
        try:
            if self.depth == 0:
                fd = files.open_private(self.lock_path, os.O_RDWR | os.O_CREAT, label="token store lock")
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except BaseException:
                    os.close(fd)
                    raise
                self.fd = fd
            self.depth += 1
        except BaseException:
            self.rlock.release()
            raise

    def release(self) -> None:
        try:
            self.depth -= 1
            if self.depth == 0 and self.fd is not None:
                fd, self.fd = self.fd, None
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)
        finally:
            self.rlock.release()


_locks: dict[str, _PathLock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> _PathLock:
    # The directory is resolved, never the lock file itself: a link planted in its place must
    # be refused when opened, not followed here to a file elsewhere.
    key = str(path.parent.resolve() / path.name)
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = _PathLock(Path(key))
        return lock


# --------------------------------------------------------------------------- the store


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is exceeded"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


class TokenStore:
    def __init__(self, path: Path, *, now: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._now = now
        #: Set when a save found the file corrupt and moved it aside before writing.
        self.last_quarantined: Path | None = None
        # The last file content parsed and its profiles. Keyed on the bytes themselves,
        # not on stat fields: inode numbers are reused and mtimes are coarse, so two quick
        # saves by another process could look alike; equal bytes parse to equal profiles.
        self._parsed: tuple[bytes, dict[str, StoredProfile]] | None = None

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    # -- directory and lock

    def _ensure_dir(self) -> None:
        d = self.path.parent
        try:
            files.private_dir(d, label="data directory")
        except UnsafePathError as exc:
            raise StoreUnsafeError(str(exc)) from None
        except OSError as exc:
            raise StoreWriteError(f"cannot prepare the token directory {d}: {_describe(exc)}") from None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cross-process lock (re-entrant within a thread)."""
        self._ensure_dir()
        lock = _lock_for(self.lock_path)
        try:
            lock.acquire()
        except UnsafePathError as exc:
            raise StoreUnsafeError(str(exc)) from None
        except OSError as exc:
            raise StoreWriteError(f"cannot lock the token store {self.path}: {_describe(exc)}") from None
        try:
            yield
        finally:
            lock.release()

    # -- reading

    def _read_raw(self) -> bytes | None:
        """The file's bytes (None: no file), read without following a link, from a safe directory."""
        try:
            if not files.check_private_dir(self.path.parent, label="data directory"):
                return None
            return files.read_private(self.path, label="token store")
        except UnsafePathError as exc:
            raise StoreUnsafeError(str(exc)) from None
        except OSError as exc:
            raise StoreError(f"cannot read the token store {self.path}: {_describe(exc)}") from None

    def _parse_cached(self, raw: bytes) -> dict[str, StoredProfile]:
        """``_parse(raw)``, skipping the TOML parse when the file's bytes are unchanged.

        Every call reads the file afresh (so a save by another process is always seen); only
        the parse of identical bytes is reused. Callers get their own dict and profile
        objects, so changing what they got cannot change the cache.
        """
        cached = self._parsed
        if cached is not None and cached[0] == raw:
            profiles = cached[1]
        else:
            self._parsed = None
            profiles = _parse(raw)
            self._parsed = (raw, profiles)
        return {name: replace(p) for name, p in profiles.items()}

    def _read_all(self) -> dict[str, StoredProfile]:
        raw = self._read_raw()
        if raw is None:
            return {}
        try:
            return self._parse_cached(raw)
        except (tomllib.TOMLDecodeError, _Shape) as first:
            with self.locked():  # re-check under the lock: a writer may just have replaced it
                raw = self._read_raw()
                if raw is None:
                    return {}
                try:
                    return self._parse_cached(raw)
                except (tomllib.TOMLDecodeError, _Shape) as exc:
                    reason = str(exc) or str(first)
                    self._quarantine(reason)
        raise AssertionError("unreachable")  # pragma: no cover

    def _quarantine(self, reason: str) -> None:
        stamp = datetime.fromtimestamp(self._now(), timezone.utc).strftime("%Y%m%dT%H%M%S")
        try:
            # A fresh name: an earlier quarantined file, or anything planted under the name
            # (a link to a file elsewhere), is skipped, never overwritten or followed.
            target = files.move_aside(self.path, f"corrupt-{stamp}")
        except OSError as exc:
            raise StoreError(
                f"the token store {self.path} is unreadable ({reason}) and could not be moved aside: "
                f"{_describe(exc)}"
            ) from None
        raise StoreCorruptError(
            f"the token store {self.path} was unreadable ({reason}); it was moved to {target} "
            "and nothing was deleted. Sign in again to create a fresh store.",
            target,
        )

    def load(self, name: str) -> StoredProfile | None:
        return self._read_all().get(name)

    def names(self) -> list[str]:
        return sorted(self._read_all())

    # -- writing

    def _read_for_write(self) -> dict[str, StoredProfile]:
        try:
            return self._read_all()
        except StoreCorruptError as exc:
            # Not log.warning: logging's last-resort handler would print it over a TUI.
            log.info("%s", exc)
            self.last_quarantined = exc.quarantined_to
            return {}

    def _remove_stale_temp_files(self) -> None:
        """Temp files left by a writer that died before its rename.

        Only called under the lock, and a temp file only exists while its writer holds
        the lock, so any one found now is an orphan (it never replaced the real file).
        """
        files.remove_stale_temps(self.path)

    def _write_all(self, profiles: dict[str, StoredProfile]) -> None:
        data = _serialise(profiles)
        self._remove_stale_temp_files()
        try:
            files.write_private_atomic(self.path, data, label="token store")
        except UnsafePathError as exc:
            raise StoreUnsafeError(str(exc)) from None
        except OSError as exc:
            raise StoreWriteError(
                f"could not save tokens to {self.path}: {_describe(exc)}; the previous file is unchanged"
            ) from None
        # What we just wrote parses to these profiles: the next load of the same bytes
        # (typically our own, right after) need not parse it.
        self._parsed = (data, {name: replace(p) for name, p in profiles.items()})

    def save(self, profile: StoredProfile) -> None:
        with self.locked():
            profiles = self._read_for_write()
            profiles[profile.name] = profile
            self._write_all(profiles)

    def delete(self, name: str) -> bool:
        with self.locked():
            profiles = self._read_for_write()
            if name not in profiles:
                return False
            del profiles[name]
            self._write_all(profiles)
            return True

    def update(
        self, name: str, fn: Callable[[StoredProfile | None], StoredProfile | None]
    ) -> StoredProfile | None:
        """Read-modify-write one profile under the lock.

        ``fn`` gets the current profile (or None) and returns the new one, or None to
        delete it. Returns what was stored.
        """
        with self.locked():
            profiles = self._read_for_write()
            new = fn(profiles.get(name))
            if new is None:
                if profiles.pop(name, None) is not None:
                    self._write_all(profiles)
                return None
            if new.name != name:
                raise ValueError("update() must not rename the profile")
            profiles[name] = new
            self._write_all(profiles)
            return new
