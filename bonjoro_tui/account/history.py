"""The explorer's history and saved requests, kept across runs in the data dir.

``history.json`` (:data:`bonjoro_tui.locations.HISTORY_FILE`) holds the last
:data:`HISTORY_LIMIT` requests and every *saved* (named) request, up to :data:`SAVED_LIMIT`:

```json
{"version": 1, "entries": [{"method": "GET", "path": "/greets", "params": {"status": "open"},
  "body": null, "at": 1800000000.0, "status": 200, "elapsed": 0.012, "size": 5120,
  "content": "{\\"data\\": …}", "truncated": false, "headers": {"content-type": "…"},
  "request_headers": {"Accept": "application/json", "Authorization": "Bearer …(masked)"},
  "retries": [[429, 1.0]], "error": null, "name": "open greets"}]}
```

What is never written (:func:`sanitize`, applied to every entry before it is kept):

- a credential header (``Authorization``, ``Cookie``, ``X-Api-Key`` …): its value is replaced by
  :data:`MASKED` (the Bearer scheme is kept, so the history still says a token was sent);
- a query parameter, path query or body field whose name looks like a credential
  (``access_token``, ``refresh_token``, ``client_secret``, ``password``, ``api_key``, ``token``,
  ``code`` … see :func:`looks_like_credential`), at any depth of a JSON body: masked;
- a response body beyond :data:`BODY_LIMIT` (64 kB; the rest is dropped and ``truncated`` set),
  and any body at all of an entry older than the newest :data:`BODIES_BUDGET` (2 MB) of them;
- in what remains, every secret the caller names (the signed-in tokens, the client secret) in any
  spelling, every value of a credential-named field and every whole JWT (``redact.Redactor``).

Written with :mod:`bonjoro_tui.files` (0600 in a 0700 dir, no symbolic link followed, atomic
replace). A file that cannot be read as a history is moved aside to
``history.json.corrupt-YYYYmmddTHHMMSS`` and reported (:attr:`History.problem`), never fatal; one
written by a newer version is left untouched and not written this run. Two dashboards running at
once: the last to write wins (the history is a convenience, not a record).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from bonjoro_tui import files, locations
from bonjoro_tui.redact import Redactor

FORMAT_VERSION = 1
#: Requests kept (the oldest unnamed one goes first).
HISTORY_LIMIT = 200
#: Saved (named) requests kept, apart from the history's limit.
SAVED_LIMIT = 200
#: Bytes of one response body kept.
BODY_LIMIT = 64 * 1024
#: Bytes of response bodies kept over all entries; older entries keep their line, not their body.
BODIES_BUDGET = 2 * 1024 * 1024
#: Bytes of one request body kept (a bigger one is replaced by a note).
REQUEST_BODY_LIMIT = 64 * 1024
#: What stands in for a value that is never written.
MASKED = "…(masked)"

_CREDENTIAL_WORDS = ("token", "secret", "password", "passwd", "api_key", "apikey", "authorization", "cookie",
                     "code_verifier", "private_key", "credential", "session")
_CREDENTIAL_NAMES = frozenset({"code", "auth_code", "authorization_code", "key", "x_api_key", "auth", "pin"})
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


def looks_like_credential(name: str) -> bool:
    """Whether a header, parameter or field of this name may hold a credential."""
    norm = name.strip().lower().replace("-", "_")
    return norm in _CREDENTIAL_NAMES or any(word in norm for word in _CREDENTIAL_WORDS)


@dataclass
class Entry:
    """One request and its answer, as the history keeps it (already sanitized)."""

    method: str
    path: str
    params: dict[str, str]
    body: Any
    at: float
    status: int | None = None
    elapsed: float = 0.0
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    retries: list[tuple[int, float]] = field(default_factory=list)
    #: The response body's size as received (``content`` may be cut, see ``truncated``).
    size: int = 0
    truncated: bool = False
    #: A saved request's name (None: plain history).
    name: str | None = None

    def text(self) -> str:
        """What a search looks in: method, path, query, status, name."""
        query = urlencode(self.params) if self.params else ""
        return " ".join(str(p) for p in (self.method, self.path, query, self.status or "error", self.name or "")).lower()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["content"] = self.content.decode("utf-8", "replace")
        data["retries"] = [list(r) for r in self.retries]
        return data

    @classmethod
    def from_json(cls, data: Any) -> "Entry":
        if not isinstance(data, dict) or not isinstance(data.get("method"), str) or not isinstance(data.get("path"), str):
            raise ValueError("an entry without a method and a path")
        params = data.get("params") or {}
        headers = data.get("headers") or {}
        sent = data.get("request_headers") or {}
        if not all(isinstance(d, dict) for d in (params, headers, sent)):
            raise ValueError("an entry whose params or headers are not tables")
        retries = [(int(r[0]), float(r[1])) for r in data.get("retries") or []
                   if isinstance(r, list) and len(r) == 2]
        status = data.get("status")
        name = data.get("name")
        return cls(
            method=data["method"], path=data["path"], params={str(k): str(v) for k, v in params.items()},
            body=data.get("body"), at=float(data.get("at") or 0.0),
            status=int(status) if isinstance(status, int) and not isinstance(status, bool) else None,
            elapsed=float(data.get("elapsed") or 0.0),
            content=str(data.get("content") or "").encode("utf-8"),
            headers={str(k): str(v) for k, v in headers.items()},
            error=str(data["error"]) if data.get("error") is not None else None,
            request_headers={str(k): str(v) for k, v in sent.items()}, retries=retries,
            size=int(data.get("size") or 0), truncated=bool(data.get("truncated")),
            name=str(name) if isinstance(name, str) and name else None,
        )


# ---- what is never kept --------------------------------------------------------------------------


def _mask_tree(value: Any, depth: int = 0) -> Any:
    """A JSON value with every credential-named field's value masked, at any depth."""
    if depth > 64:
        return MASKED
    if isinstance(value, dict):
        return {k: (MASKED if looks_like_credential(str(k)) and v not in (None, "") else _mask_tree(v, depth + 1))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_tree(v, depth + 1) for v in value]
    return value


def _mask_params(params: dict[str, str]) -> dict[str, str]:
    return {k: (MASKED if looks_like_credential(k) and v else v) for k, v in params.items()}


def _mask_path(path: str) -> str:
    """A typed path or URL without user info and with credential query values masked."""
    parts = urlsplit(path)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query:
        query = urlencode([(k, MASKED if looks_like_credential(k) and v else v)
                           for k, v in parse_qsl(query, keep_blank_values=True)], safe="…()")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _mask_headers(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        if looks_like_credential(name) or name.lower() in ("set-cookie", "proxy-authorization"):
            scheme = value.split(" ", 1)[0] if " " in value.strip() else ""
            value = f"{scheme} {MASKED}" if scheme.lower() in ("bearer", "basic") else MASKED
        out[name] = value
    return out


def _scrub_text(text: str, redactor: Redactor) -> str:
    """Unstructured text (a response body, an error): known secrets, credential fields, JWTs."""
    return _JWT.sub(MASKED, redactor(text))


def scrub_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Display text with every credential field's value, every given secret and every JWT masked
    (the explorer's Raw tab; the same rules as the history's bodies)."""
    return _scrub_text(text, Redactor(secrets))


def _scrub_value(text: str, secrets: list[str]) -> str:
    """A value already masked by name (a param, a header, a JSON string): known secrets and JWTs
    (the redactor's field rules would mask our own marks again)."""
    for secret in secrets:
        for spelling in {secret, json.dumps(secret, ensure_ascii=False)[1:-1], quote(secret, safe=""),
                         quote_plus(secret, safe="")}:
            text = text.replace(spelling, MASKED)
    return _JWT.sub(MASKED, text)


def sanitize(entry: Entry, secrets: Iterable[str | None] = ()) -> Entry:
    """A copy of ``entry`` fit to be written (see the module docstring): credentials masked,
    bodies capped, every known secret and JWT replaced."""
    known = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
    redactor = Redactor(known)
    body = _mask_tree(entry.body)
    try:
        dumped = json.dumps(body, ensure_ascii=False)
    except (TypeError, ValueError):
        body, dumped = None, "null"
    if len(dumped) > REQUEST_BODY_LIMIT:
        body = f"(a request body of {len(dumped)} bytes is not kept)"
    elif body is not None:
        try:
            body = json.loads(_scrub_value(dumped, known))
        except ValueError:
            body = MASKED
    size = entry.size or len(entry.content)
    content = entry.content[:BODY_LIMIT]
    truncated = entry.truncated or len(entry.content) > BODY_LIMIT
    text = _scrub_text(content.decode("utf-8", "replace"), redactor)
    return Entry(
        method=entry.method, path=_scrub_value(_mask_path(entry.path), known),
        params={k: _scrub_value(v, known) for k, v in _mask_params(dict(entry.params)).items()},
        body=body, at=entry.at, status=entry.status, elapsed=entry.elapsed, content=text.encode("utf-8"),
        headers={k: _scrub_value(v, known) for k, v in _mask_headers(dict(entry.headers)).items()},
        error=_scrub_text(entry.error, redactor) if entry.error else None,
        request_headers={k: _scrub_value(v, known) for k, v in _mask_headers(dict(entry.request_headers)).items()},
        retries=list(entry.retries), size=size, truncated=truncated, name=entry.name,
    )


# ---- the file ------------------------------------------------------------------------------------


class History:
    """The entries of ``history.json`` (oldest first), read once and written after each change.

    ``load()`` and ``write()`` touch the disk (call them off the event loop); everything else is
    in memory. ``secrets()`` names what must never be written (called at each ``add``).
    """

    def __init__(self, data_dir: Path, *, secrets: Callable[[], Iterable[str | None]] = tuple,
                 now: Callable[[], float] = time.time) -> None:
        self.path = locations.history_file(data_dir)
        self.data_dir = data_dir
        self.entries: list[Entry] = []
        self.secrets = secrets
        self._now = now
        #: Why the file was not used, for the user (a corrupt file moved aside, a newer version).
        self.problem: str | None = None
        self.quarantined_to: Path | None = None
        self.writable = True

    def load(self) -> list[Entry]:
        """Read the file (a missing one is an empty history). Never raises for its content: a file
        that is not a history is moved aside and :attr:`problem` says so."""
        try:
            raw = files.read_private(self.path, label="history file")
        except OSError as exc:  # a link in its place, someone else's file …: not used, not written over
            self.problem, self.writable = f"the history file was not read: {exc}", False
            return self.entries
        if raw is None:
            return self.entries
        try:
            doc = json.loads(raw.decode("utf-8"))
            if not isinstance(doc, dict) or not isinstance(doc.get("version"), int):
                raise ValueError("not a history (no version)")
            if doc["version"] > FORMAT_VERSION:
                self.writable = False
                self.problem = (f"{self.path} was written by a newer bonjoro-tui (version {doc['version']}); it is "
                                "left untouched and this run's history is not kept")
                return self.entries
            entries = doc.get("entries")
            if not isinstance(entries, list):
                raise ValueError("no list of entries")
            self.entries = [Entry.from_json(e) for e in entries]
        except (ValueError, TypeError, KeyError, UnicodeDecodeError, RecursionError) as exc:
            self._quarantine(exc)
        return self.entries

    def _quarantine(self, why: BaseException) -> None:
        stamp = datetime.fromtimestamp(self._now(), timezone.utc).strftime("%Y%m%dT%H%M%S")
        try:
            self.quarantined_to = files.move_aside(self.path, f"corrupt-{stamp}")
        except OSError as exc:
            self.writable = False
            self.problem = f"the history file {self.path} could not be read ({why}) nor moved aside ({exc})"
            return
        self.entries = []
        self.problem = (f"the history file could not be read ({type(why).__name__}: {str(why)[:80]}); it was moved "
                        f"to {self.quarantined_to} and a new history begins")

    def add(self, entry: Entry) -> Entry:
        """Keep ``entry`` (sanitized; returns the kept copy), dropping the oldest beyond the limits."""
        kept = sanitize(entry, self.secrets())
        self.entries.append(kept)
        self._trim()
        return kept

    def rename(self, entry: Entry, name: str | None) -> None:
        """Save ``entry`` under ``name`` (a saved request), or make it plain history again (None/"")."""
        entry.name = (name or "").strip()[:80] or None
        self._trim()

    def remove(self, entry: Entry) -> None:
        if entry in self.entries:
            self.entries.remove(entry)

    def clear(self, *, keep_saved: bool = True) -> None:
        self.entries = [e for e in self.entries if keep_saved and e.name]

    @property
    def saved(self) -> list[Entry]:
        """The named entries, newest first."""
        return [e for e in reversed(self.entries) if e.name]

    def search(self, needle: str = "", *, saved_only: bool = False) -> list[Entry]:
        """Entries (newest first) whose method, path, query, status or name hold every word of ``needle``."""
        words = needle.lower().split()
        return [e for e in reversed(self.entries)
                if (not saved_only or e.name) and all(w in e.text() for w in words)]

    def _trim(self) -> None:
        plain = [e for e in self.entries if not e.name]
        named = [e for e in self.entries if e.name]
        drop = set(map(id, plain[:-HISTORY_LIMIT] if len(plain) > HISTORY_LIMIT else []))
        drop |= set(map(id, named[:-SAVED_LIMIT] if len(named) > SAVED_LIMIT else []))
        self.entries = [e for e in self.entries if id(e) not in drop]
        budget = BODIES_BUDGET
        for e in reversed(self.entries):  # the newest keep their bodies
            if len(e.content) > budget:
                e.content, e.truncated = b"", True
            budget -= len(e.content)

    def dumps(self, entries: list[Entry] | None = None) -> bytes:
        """The file's bytes. ``entries``: a snapshot of :attr:`entries` taken on the event loop, so
        that the encoding (~20 ms for a full history) can run in a thread; each entry is encoded
        by its own call, so the thread lets go of the GIL between entries."""
        chosen = self.entries if entries is None else entries
        encoded = ",".join(json.dumps(e.to_json(), ensure_ascii=False, separators=(",", ":")) for e in chosen)
        return f'{{"version":{json.dumps(FORMAT_VERSION)},"entries":[{encoded}]}}'.encode("utf-8")

    def write(self, data: bytes | None = None) -> None:
        """Replace the file atomically (0600, 0700 dir). Raises ``OSError`` (disk full, unsafe path);
        does nothing when the file must be left alone (a newer version, an unsafe file)."""
        if not self.writable:
            return
        files.private_dir(self.data_dir, label="data directory")
        files.write_private_atomic(self.path, data if data is not None else self.dumps(), label="history file")
