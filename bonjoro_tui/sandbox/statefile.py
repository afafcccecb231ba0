"""The sandbox's JSON state file: atomic writes, 0600 in a 0700 directory, a cross-process lock.

Two sandboxes (two running ``bonjoro-tui``) may share one state file: every change is a
read-modify-write under an ``fcntl`` lock, and a reader notices when another process wrote.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

log = logging.getLogger("bonjoro_tui.sandbox")


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) we last read or wrote

    def _ensure_dir(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self._ensure_dir()
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def changed(self) -> bool:
        """Whether the file differs from what this process last read or wrote."""
        return self._signature() != self._seen

    def read(self) -> dict[str, Any] | None:
        """The stored document, or None when there is none.

        A file that is not a JSON object is moved aside (``state.json.corrupt-<time>``) and
        reported in the log, never silently overwritten.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._seen = None
            return None
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:
            self.set_aside("it is not a JSON object")
            return None
        self._seen = self._signature()
        return data

    def set_aside(self, why: str) -> None:
        """Move an unusable file to ``<name>.corrupt-<time>`` (kept for inspection) and say so."""
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.time_ns()}")
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.path, aside)
            log.warning("sandbox state file %s is unusable (%s); moved it to %s and started afresh", self.path, why, aside)
        self._seen = None

    def write(self, data: dict[str, Any]) -> None:
        self._ensure_dir()
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, separators=(",", ":"), sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._seen = self._signature()
