"""bonjoro-tui's own files and directories: private, and never reached through a symbolic link.

Every file the project creates, writes or reads in its own directories goes through this module:
the token store (``tokens.toml``, its temp files ``.tokens.toml.<random>.tmp``, its lock
``tokens.toml.lock`` and its quarantined copies ``tokens.toml.corrupt-…``), the sandbox state
(``sandbox/state.json``, its temp files, its lock ``state.json.lock``, its set-aside copies), the
remembered sandbox port (``sandbox/port``), the running sandbox's announcement
(``sandbox/running.json`` and its lock) and the ``--debug`` log (``bonjoro-tui.log``).

The rule
========

Directories
    *Ours* are the data directory, ``data_dir/sandbox``, the log directory (and the config
    directory, which bonjoro-tui only reads). :func:`private_dir` creates a missing one — and
    every missing parent on the way — with ``os.mkdir(…, 0o700)`` followed by ``os.chmod(…,
    0o700)``, so it is 0700 whatever the umask. Parents that already existed (``~/.local/share``)
    are not ours: they are neither checked nor changed.

    An existing directory of ours must be a directory owned by the effective user and
    writable by no one else. One that is group- or world-writable, or owned by another user,
    is **refused** (:class:`UnsafePathError`, saying what to do: ``chmod 700 DIR``, or move it
    away): someone else may already have planted files or links in it, and tightening the
    mode would not remove them. One that is only *readable* by others (say 0755, owned by us)
    is tightened to 0700 — except a directory the user named for a single file (the parent of
    ``bonjoro-tui sandbox --state-file``), which is checked but never chmod'ed (``tighten=False``).

    A symbolic link in place of a directory is followed (data directories are moved to other
    disks that way), and the directory it leads to must pass the same checks.

Files
    Opened with ``O_NOFOLLOW`` (reads too): a symbolic link in place of one of our files is
    refused with an error naming it ("… is a symbolic link …; remove it"), never followed, so
    the file it points at is neither read, truncated, appended to, locked nor chmod'ed. Also
    ``O_NONBLOCK`` until the descriptor is known to be a regular file (a FIFO planted in place of
    a file cannot hang us), then it must be a regular file owned by us. Files are created 0600
    and a file opened for writing is ``fchmod``'ed to 0600 whatever the umask; one only read is
    tightened to 0600 when looser. ``O_TRUNC`` is applied (``ftruncate``) only once those checks
    have passed.

    Replacement is atomic (:func:`write_private_atomic`): a temp file with an unpredictable name,
    created ``O_CREAT | O_EXCL | O_NOFOLLOW`` in the same directory, fsync'ed, ``os.replace``'d
    over the file (which must not be a symbolic link), then the directory fsync'ed.

Quarantine
    :func:`move_aside` moves a corrupt file to ``NAME.SUFFIX`` (then ``NAME.SUFFIX-2``, ``-3`` …)
    with ``os.link`` + ``os.unlink``: ``link`` fails with ``EEXIST`` on *any* existing name,
    a symbolic link (dangling or not) included, and never follows it, so a name planted in
    advance is skipped, not overwritten and not followed. (``os.rename`` would silently replace
    whatever was there.) On a file system without hard links the free name is first reserved
    with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and then replaced by ``os.rename``.

Residual risk: the checks are on the path, not on an open directory descriptor, so a parent that
is *not* ours but is writable by another user (say ``BONJORO_TUI_DATA_DIR=/tmp/x`` without the
sticky bit) could have our directory swapped between check and use. The per-file checks (no
link, a regular file, owned by us) still hold on whatever is opened.

This module is part of the headless core: it imports nothing beyond the standard library and the
one error base (``bonjoro_tui.errors``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from pathlib import Path

from bonjoro_tui.errors import BonjoroError

__all__ = [
    "UnsafePathError",
    "check_private_dir",
    "fsync_dir",
    "move_aside",
    "open_private",
    "private_dir",
    "read_private",
    "remove_stale_temps",
    "temp_name",
    "write_private_atomic",
]

DIR_MODE = 0o700
FILE_MODE = 0o600
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR
#: link(2) errors meaning "no hard links on this file system" (then: reserve the name, rename).
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}


class UnsafePathError(OSError, BonjoroError):
    """A path of ours is not safe to use; ``str()`` says which, why, and what to do.

    An :class:`OSError` (errno ``ELOOP`` for a symbolic link, ``EPERM`` for a wrong owner or
    mode, ``ENOTDIR``/``EINVAL`` for the wrong kind of file), so code that treats file-system
    failures as such still does; callers that show errors use the message as it is.
    """

    def __init__(self, path: str | os.PathLike[str], message: str, code: int = errno.EPERM) -> None:
        OSError.__init__(self, code, message, os.fspath(path))  # errno, strerror, filename
        self.path = Path(path)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # pragma: no cover - picklable across processes, like OSError
        return (type(self), (self.path, self.message, self.errno))


def _q(path: str | os.PathLike[str]) -> str:
    import shlex  # only an error message needs it

    return shlex.quote(os.fspath(path))


def _user(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _mode(st: os.stat_result) -> str:
    return f"{stat.S_IMODE(st.st_mode):04o}"


# --------------------------------------------------------------------------- directories


def check_private_dir(
    path: str | os.PathLike[str], *, label: str = "directory", tighten: bool = True, advice: str | None = None
) -> bool:
    """Check an existing directory of ours; False when it does not exist (nothing is created).

    Refuses (:class:`UnsafePathError`) something that is not a directory, a directory owned by
    another user, and one writable by group or others. With ``tighten`` a directory readable by
    others is chmod'ed 0700. ``advice`` replaces the default "what to do" of a refusal (for a
    directory the user named, "chmod 700 /tmp" would be the wrong advice).
    """
    try:
        st = os.stat(path)  # a link to a directory is followed: the directory is what is checked
    except FileNotFoundError:
        if os.path.islink(path):
            raise UnsafePathError(
                path, f"the {label} {path} is a symbolic link to nothing; remove it (rm {_q(path)}) and run again",
                errno.ELOOP,
            ) from None
        return False
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError(
            path, f"the {label} {path} is not a directory; move it away or choose another directory", errno.ENOTDIR
        )
    me = os.geteuid()
    if st.st_uid != me:
        raise UnsafePathError(
            path,
            f"the {label} {path} belongs to another user ({_user(st.st_uid)}; you are {_user(me)}), who may have "
            "put files in it; "
            + (advice or f"move it away (mv {_q(path)} {_q(os.fspath(path) + '.suspect')}) and run again"),
        )
    if st.st_mode & 0o022:
        who = {0o020: "its group", 0o002: "everyone", 0o022: "its group and everyone"}[st.st_mode & 0o022]
        raise UnsafePathError(
            path,
            f"the {label} {path} is writable by {who} (mode {_mode(st)}), so someone else may have put files or "
            "links in it; " + (advice or f"check what is in it, then run `chmod 700 {_q(path)}`"),
        )
    if tighten and st.st_mode & 0o077:
        os.chmod(path, DIR_MODE)
    return True


def private_dir(
    path: str | os.PathLike[str], *, label: str = "directory", tighten: bool = True, advice: str | None = None
) -> Path:
    """``path`` as a directory of ours: created 0700 (with any missing parents, each 0700) or checked.

    See the module docstring for the rule and :func:`check_private_dir` for ``tighten`` and
    ``advice``; raises :class:`UnsafePathError` or ``OSError``.
    """
    path = Path(path)
    if check_private_dir(path, label=label, tighten=tighten, advice=advice):
        return path
    missing: list[Path] = []
    p = path
    while not os.path.lexists(p):
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile (another process of ours): checked below if it is the one
        os.chmod(d, DIR_MODE)  # the umask may have removed bits from 0700; nothing can add any
    if not check_private_dir(path, label=label, tighten=tighten, advice=advice):
        raise UnsafePathError(path, f"the {label} {path} vanished while it was being created; run again", errno.ENOENT)
    return path


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Best-effort fsync of a directory (a rename in it is durable once this returns)."""
    with contextlib.suppress(OSError):
        dfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# --------------------------------------------------------------------------- files


def _refuse_link(path: str | os.PathLike[str], label: str) -> UnsafePathError:
    return UnsafePathError(
        path,
        f"the {label} {path} is a symbolic link, which bonjoro-tui does not follow in its own directories; "
        f"remove it (rm {_q(path)}) and run again",
        errno.ELOOP,
    )


def _refuse_kind(path: str | os.PathLike[str], label: str) -> UnsafePathError:
    return UnsafePathError(
        path, f"the {label} {path} is not a regular file; remove it (rm {_q(path)}) and run again", errno.EINVAL
    )


def _refuse_owner(path: str | os.PathLike[str], label: str, uid: int) -> UnsafePathError:
    return UnsafePathError(
        path,
        f"the {label} {path} belongs to another user ({_user(uid)}); bonjoro-tui uses only files of its own: "
        f"move it away (mv {_q(path)} {_q(os.fspath(path) + '.suspect')}) and run again",
    )


def open_private(path: str | os.PathLike[str], flags: int, *, label: str = "file") -> int:
    """``os.open`` for a file of ours; returns the descriptor.

    Adds ``O_NOFOLLOW | O_CLOEXEC`` (and ``O_NONBLOCK`` until the checks pass); creates 0600;
    refuses a symbolic link, anything but a regular file and a file owned by another user
    (:class:`UnsafePathError`); fchmods a file opened for writing to 0600 (one opened only for
    reading: when looser); applies ``O_TRUNC`` only after the checks. ``FileNotFoundError``,
    ``FileExistsError`` (with ``O_EXCL``) and other ``OSError`` pass through.
    """
    writing = bool(flags & _WRITE_FLAGS)
    truncate = bool(flags & os.O_TRUNC)
    open_flags = (flags & ~os.O_TRUNC) | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, open_flags, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP and os.path.islink(path):
            raise _refuse_link(path, label) from None
        if exc.errno == errno.ENXIO:  # a FIFO without a reader, a socket, a device without a driver
            raise _refuse_kind(path, label) from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse_kind(path, label)
        if st.st_uid != os.geteuid():
            raise _refuse_owner(path, label, st.st_uid)
        if writing and stat.S_IMODE(st.st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
        elif not writing and st.st_mode & 0o077:
            with contextlib.suppress(OSError):  # a read-only file system: reading is still fine
                os.fchmod(fd, FILE_MODE)
        if not flags & os.O_NONBLOCK:
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        if truncate:
            os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_private(path: str | os.PathLike[str], *, label: str = "file") -> bytes | None:
    """The bytes of a file of ours (see :func:`open_private`), or None when there is none."""
    try:
        fd = open_private(path, os.O_RDONLY, label=label)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as f:
        return f.read()


def temp_name(path: str | os.PathLike[str]) -> Path:
    """A fresh, unpredictable temp name next to ``path``: ``.NAME.<12 hex>.tmp``."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")


def _is_temp_of(name: str, path: Path) -> bool:
    prefix = f".{path.name}."
    return name.startswith(prefix) and name.endswith(".tmp") and len(name) > len(prefix) + len(".tmp")


def remove_stale_temps(path: str | os.PathLike[str]) -> None:
    """Remove temp files of ``path`` left by a writer that died before its rename.

    Call it only while holding the lock that every writer of ``path`` holds: then no temp
    file is in use, and any one found is an orphan. A symbolic link of that name is removed
    as a link (``unlink`` never follows); what it points at is untouched.
    """
    path = Path(path)
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        if _is_temp_of(entry.name, path):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _check_replaceable(path: Path, label: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise _refuse_link(path, label)
    if not stat.S_ISREG(st.st_mode):
        raise _refuse_kind(path, label)
    if st.st_uid != os.geteuid():
        raise _refuse_owner(path, label, st.st_uid)


def write_private_atomic(path: str | os.PathLike[str], data: bytes, *, label: str = "file") -> None:
    """Replace ``path`` with ``data`` atomically: a crash leaves the old file or the new one.

    The temp file is 0600, created ``O_EXCL | O_NOFOLLOW`` under an unpredictable name; it is
    fsync'ed, ``os.replace``'d over ``path`` (refused when ``path`` is a symbolic link or not a
    regular file of ours) and the directory fsync'ed. On failure the temp file is removed and the
    old file is untouched; the ``OSError`` is raised.
    """
    path = Path(path)
    _check_replaceable(path, label)
    tmp = temp_name(path)
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, label=f"temp file of the {label}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def move_aside(path: str | os.PathLike[str], suffix: str, *, attempts: int = 1000) -> Path:
    """Move ``path`` to ``NAME.SUFFIX`` (or ``NAME.SUFFIX-2``, ``-3`` …), never replacing anything.

    A name that exists — a file, a directory, a symbolic link, dangling or not — is skipped,
    never overwritten or followed. Returns the new path; ``FileNotFoundError`` when ``path`` is
    gone, ``OSError`` when it cannot be moved.
    """
    path = Path(path)
    for n in range(1, attempts + 1):
        target = path.with_name(f"{path.name}.{suffix}" + (f"-{n}" if n > 1 else ""))
        try:
            os.link(path, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            if not _reserve_and_rename(path, target):
                continue
            return target
        try:
            os.unlink(path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(target)
            raise
        fsync_dir(path.parent)
        return target
    raise FileExistsError(errno.EEXIST, f"no free name to move {path} aside ({attempts} taken)", os.fspath(path))


def _reserve_and_rename(path: Path, target: Path) -> bool:
    """No hard links here: claim ``target`` with O_EXCL (a name that exists is not ours), then rename onto it."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    try:
        os.rename(path, target)  # replaces only the empty placeholder we just made
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise
    fsync_dir(path.parent)
    return True
