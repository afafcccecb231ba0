"""The sandbox's JSON state file: atomic writes, 0600 in a 0700 directory, a cross-process lock.

Two sandboxes (two running ``bonjoro-tui``) may share one state file: every change is a
read-modify-write under an ``fcntl`` lock, and a reader notices when another process wrote.

The file, its temp files (``.state.json.<random>.tmp``), its lock (``state.json.lock``) and its
set-aside copies (``state.json.corrupt-…``) follow the rule of :mod:`bonjoro_tui.files`: never
opened through a symbolic link (one in their place is refused with
:class:`~bonjoro_tui.files.UnsafePathError`), 0600 whatever the umask, in a directory created
0700 and refused when others can write to it. The directory is checked but never chmod'ed here:
it may be one the user named (``bonjoro-tui sandbox --state-file``); ``data_dir/sandbox`` is
made private by the session.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Iterator

from bonjoro_tui import files

log = logging.getLogger("bonjoro_tui.sandbox")


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) we last read or wrote

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def _ensure_dir(self) -> None:
        files.private_dir(
            self.path.parent, label="sandbox state directory", tighten=False,
            advice="keep the state file in a directory of your own that only you can write to",
        )

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self._ensure_dir()
        fd = files.open_private(self.lock_path, os.O_RDWR | os.O_CREAT, label="sandbox state lock")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path, follow_symlinks=False)  # a link in its place is a change: read() refuses it
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    @property
    def seen(self) -> bool:
        """Whether the file holds what this process last read or wrote (not: none yet, or set aside)."""
        return self._seen is not None

    def changed(self) -> bool:
        """Whether the file differs from what this process last read or wrote."""
        return self._signature() != self._seen

    def read(self) -> dict[str, Any] | None:
        """The stored document, or None when there is none.

        A file that is not a JSON object is moved aside (``state.json.corrupt-<time>``) and
        reported in the log, never silently overwritten.
        """
        raw = files.read_private(self.path, label="sandbox state file")
        if raw is None:
            self._seen = None
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:  # UnicodeDecodeError included
            self.set_aside("it is not a JSON object")
            return None
        self._seen = self._signature()
        return data

    def set_aside(self, why: str) -> None:
        """Move an unusable file to ``<name>.corrupt-<time>`` (kept for inspection) and say so."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        with contextlib.suppress(FileNotFoundError):
            # A fresh name, never one that exists (an earlier copy, or a link planted there).
            aside = files.move_aside(self.path, f"corrupt-{stamp}")
            log.warning("sandbox state file %s is unusable (%s); moved it to %s and started afresh", self.path, why, aside)
        self._seen = None

    def write(self, data: dict[str, Any]) -> None:
        """Replace the file atomically; called under :meth:`locked` (which is why orphaned temp
        files of a writer that died can be removed first)."""
        self._ensure_dir()
        files.remove_stale_temps(self.path)
        raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")
        files.write_private_atomic(self.path, raw, label="sandbox state file")
        self._seen = self._signature()
