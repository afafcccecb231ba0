"""Everything the sandbox remembers: signing key, codes, refresh families, knobs, faults, stats.

``SandboxState`` is shared by the ASGI app (in uvicorn's thread) and by whoever started the
sandbox (tests, the TUI): every method takes a lock. With a ``state_file`` the durable part
(key, codes, families, revocations, knobs, faults, the user's bio) lives in that JSON file and
is re-read when another process changed it; without one it lives in memory.
Rate-limit windows, consent pages in progress, created records and stats are per process.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from bonjoro_tui.sandbox.grants import GrantsMixin
from bonjoro_tui.sandbox.seed import SeedData
from bonjoro_tui.sandbox.statefile import StateFile
from bonjoro_tui.sandbox.world import check_stored

log = logging.getLogger("bonjoro_tui.sandbox")

STATE_VERSION = 1
#: Largest page size of ``GET /greets`` (the large-response knob's former limit too).
GREETS_MAX = 5000
#: Largest ``greet_count``: 100k seeded greets (~8 s to build and ~270 MB, on first use) for the
#: data-size benchmarks (bench/bench_data.py); a page is still at most GREETS_MAX.
GREET_COUNT_MAX = 100_000

DEFAULT_KNOBS: dict[str, Any] = {
    "access_ttl": 3600,  # seconds an access token lives
    "refresh_ttl": 30 * 24 * 3600,  # seconds a refresh token lives (each rotation starts afresh)
    "code_ttl": 60,  # seconds an authorization code lives
    "latency": 0.0,  # seconds added before every response (not /_sandbox/)
    "rate_limit": 600,  # API requests per token per minute (Bonjoro's X-RateLimit-Limit)
    "greet_count": 50,  # seeded greets (raise it for large responses)
    "auto_approve": False,  # skip the consent page
    # Behave as an older Laravel Passport would (what live Bonjoro most likely is): no GET /me
    # (Bonjoro publishes none), and a dead refresh token answered 401 invalid_request "The
    # refresh token is invalid." instead of 400 invalid_grant.
    "passport": False,
    "clock_offset": 0.0,  # seconds added to the real clock (see advance_clock)
    # Every successful API answer departs from the published schema (a documented field left
    # out, a string sent as a number), marked by an x-sandbox-off-schema header: for rehearsing
    # the explorer's contract check.
    "off_schema": False,
}
_KNOB_RANGES: dict[str, tuple[type, float, float]] = {
    "access_ttl": (int, 1, 10 * 365 * 24 * 3600),
    "refresh_ttl": (int, 1, 10 * 365 * 24 * 3600),
    "code_ttl": (int, 1, 3600),
    "latency": (float, 0, 30),
    "rate_limit": (int, 1, 1_000_000),
    "greet_count": (int, 0, GREET_COUNT_MAX),
    "clock_offset": (float, -1e9, 1e9),
}
FAULT_STATUSES = (401, 429, 500, 503)
FAULT_SCOPES = ("token", "api", "any")
PENDING_TTL = 600.0  # a consent page must be answered within 10 minutes


class KnobError(ValueError):
    """A knob name or value the sandbox does not accept."""


def _check_knob(name: str, value: Any) -> Any:
    if name in ("auto_approve", "passport", "off_schema"):
        if not isinstance(value, bool):
            raise KnobError(f"{name} must be true or false")
        return value
    if name not in _KNOB_RANGES:
        raise KnobError(f"unknown knob {name!r} (known: {', '.join(DEFAULT_KNOBS)})")
    kind, low, high = _KNOB_RANGES[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        raise KnobError(f"{name} must be a{'n integer' if kind is int else ' number'}")
    if not (low <= value <= high) or (isinstance(value, float) and math.isnan(value)):
        raise KnobError(f"{name} must be between {low:g} and {high:g}")
    return kind(value)


def _need(record: Any, *keys: str) -> None:
    missing = [k for k in keys if k not in record]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")


class SandboxState(GrantsMixin):
    def __init__(
        self,
        state_file: str | Path | None = None,
        *,
        now: Callable[[], float] = time.time,
        access_ttl: int | None = None,
        auto_approve: bool | None = None,
        latency: float | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._file = StateFile(Path(state_file)) if state_file else None
        self._clock = now
        self._dirty = False
        self._doc: dict[str, Any] = self._fresh_doc()
        self._index: dict[str, str] = {}  # refresh-token digest -> family id
        self._pending: dict[str, tuple[float, dict[str, Any]]] = {}
        self._rate: dict[str, tuple[float, int]] = {}
        self.seed = SeedData()
        self.reset_stats()
        overrides = {"access_ttl": access_ttl, "auto_approve": auto_approve, "latency": latency}
        self._baseline = dict(DEFAULT_KNOBS)
        self._baseline.update({k: _check_knob(k, v) for k, v in overrides.items() if v is not None})
        forced = {k: self._baseline[k] for k, v in overrides.items() if v is not None}
        with self._transaction():
            # Written only when this start changes something: a fresh document (no file yet, or an
            # unusable one set aside) or a start-up knob the file does not hold. A start that finds
            # its state as it left it (every one-shot command: issue 16) rewrites nothing.
            knobs = self._doc["knobs"]
            if any(knobs.get(k) != v or type(knobs.get(k)) is not type(v) for k, v in forced.items()) or (
                self._file is not None and not self._file.seen
            ):
                knobs.update(forced)
                self._dirty = True

    # -- storage ---------------------------------------------------------------------------

    @property
    def state_file(self) -> Path | None:
        return self._file.path if self._file else None

    @staticmethod
    def _fresh_doc() -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "signing_key": secrets.token_hex(32),
            "generation": 0,
            "knobs": dict(DEFAULT_KNOBS),
            "faults": [],
            "codes": {},
            "families": {},
            "revoked_jtis": {},
            "bio": None,
            "world": {},
        }

    def _load(self, data: dict[str, Any] | None) -> None:
        """Adopt a stored document; one of an unexpected shape is set aside, never half-used."""
        doc = self._fresh_doc()
        index: dict[str, str] = {}
        if data is not None:
            try:
                doc, index = self._checked(data)
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                if self._file is not None:
                    self._file.set_aside(f"unexpected shape: {type(exc).__name__} {exc}")
                self._dirty = True
        self._doc, self._index = doc, index

    @staticmethod
    def _checked(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        if data.get("version") != STATE_VERSION or not isinstance(data.get("signing_key"), str):
            raise ValueError("unknown version")
        bytes.fromhex(data["signing_key"])
        for key in ("codes", "families", "revoked_jtis", "knobs"):
            if not isinstance(data.get(key), dict):
                raise ValueError(key)
        if not isinstance(data.get("faults"), list) or not isinstance(data.get("generation"), int):
            raise ValueError("faults/generation")
        for fault in data["faults"]:
            if fault["scope"] not in FAULT_SCOPES or fault["status"] not in FAULT_STATUSES or fault["remaining"] < 1:
                raise ValueError("fault")
        for code in data["codes"].values():
            _need(code, "client_id", "redirect_uri", "challenge", "scope", "user_id", "used", "family")
            float(code["expires_at"])
        index: dict[str, str] = {}
        for family_id, fam in data["families"].items():
            _need(fam, "client_id", "user_id", "scope", "revoked", "revoked_at", "revoked_reason", "used")
            float(fam["current_expires_at"])
            for digest in [fam["current"], *fam["used"]]:
                index[str(digest)] = family_id
        for exp in data["revoked_jtis"].values():
            float(exp)
        if "world" in data:  # what the API created, changed and deleted (sandbox/world.py)
            check_stored(data["world"])
        knobs = dict(DEFAULT_KNOBS)
        knobs.update({k: _check_knob(k, v) for k, v in data["knobs"].items() if k in DEFAULT_KNOBS})
        doc = SandboxState._fresh_doc()
        doc.update(data, knobs=knobs)
        return doc, index

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """Hold the lock (and the file lock); reload if another process wrote; save if changed."""
        with self._lock:
            if self._depth:  # nested: the outer transaction loads and saves
                yield
                return
            self._depth += 1
            try:
                with self._outer_transaction():
                    yield
            finally:
                self._depth -= 1

    @contextlib.contextmanager
    def _outer_transaction(self) -> Iterator[None]:
        if self._file is None:
            try:
                yield
            finally:
                if self._dirty:
                    self._prune()
                    self._dirty = False
            return
        with self._file.locked():
            if self._file.changed():
                self._load(self._file.read())
            self._dirty = False
            try:
                yield  # a GrantError raised inside still saves what it changed (a spent code)
            finally:
                if self._dirty:
                    self._prune()
                    self._file.write(self._doc)
                    self._dirty = False

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """One read-modify-write of the state for everything done inside (an API request that
        changes several records is saved once, and no other process sees it half done)."""
        return self._transaction()

    # -- clock and knobs -------------------------------------------------------------------

    def now(self) -> float:
        """The sandbox's clock: the injected clock plus the ``clock_offset`` knob."""
        return self._clock() + self._doc["knobs"]["clock_offset"]

    @property
    def knobs(self) -> dict[str, Any]:
        with self._transaction():
            return dict(self._doc["knobs"])

    def set_knobs(self, **changes: Any) -> dict[str, Any]:
        """Change knobs (all or none); returns the knobs now in force. Raises ``KnobError``."""
        checked = {name: _check_knob(name, value) for name, value in changes.items()}
        with self._transaction():
            self._doc["knobs"].update(checked)
            self._dirty = True
            return dict(self._doc["knobs"])

    def advance_clock(self, seconds: float) -> float:
        """Move the sandbox's clock forward (codes and tokens expire as if time had passed)."""
        with self._transaction():
            offset = _check_knob("clock_offset", self._doc["knobs"]["clock_offset"] + float(seconds))
            self._doc["knobs"]["clock_offset"] = offset
            self._dirty = True
            return offset

    def reset(self) -> dict[str, Any]:
        """Knobs back to how the sandbox was started, no pending faults, real time."""
        with self._transaction():
            self._doc["knobs"] = dict(self._baseline)
            self._doc["faults"] = []
            self._dirty = True
            self._rate.clear()
            return dict(self._doc["knobs"])

    # -- faults ----------------------------------------------------------------------------

    def fail_next(self, count: object, status: object, scope: object = "any") -> list[dict[str, Any]]:
        """Answer the next ``count`` requests in ``scope`` ("token", "api", "any") with ``status``.

        Each argument is checked here (a KnobError): the admin endpoint passes what a JSON body
        held, ``None`` for a missing status.
        """
        if status not in FAULT_STATUSES:
            raise KnobError(f"status must be one of {', '.join(map(str, FAULT_STATUSES))}")
        if scope not in FAULT_SCOPES:
            raise KnobError(f"scope must be one of {', '.join(FAULT_SCOPES)}")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10_000:
            raise KnobError("count must be an integer between 1 and 10000")
        with self._transaction():
            self._doc["faults"].append({"scope": scope, "status": status, "remaining": count})
            self._dirty = True
            return [dict(f) for f in self._doc["faults"]]

    @property
    def faults(self) -> list[dict[str, Any]]:
        with self._transaction():
            return [dict(f) for f in self._doc["faults"]]

    def clear_faults(self) -> None:
        with self._transaction():
            self._doc["faults"] = []
            self._dirty = True

    def take_fault(self, scope: str) -> int | None:
        """The status to answer this request with, if a pending fault covers ``scope``."""
        with self._transaction():
            for fault in self._doc["faults"]:
                if fault["scope"] in ("any", scope):
                    fault["remaining"] -= 1
                    if fault["remaining"] <= 0:
                        self._doc["faults"].remove(fault)
                    self._dirty = True
                    return int(fault["status"])
            return None

    # -- rate limit ------------------------------------------------------------------------

    def hit_rate_limit(self, key: str) -> tuple[int, int, int | None]:
        """Count one API request for ``key``: (limit, remaining, retry_after or None if allowed)."""
        with self._lock:
            limit = int(self._doc["knobs"]["rate_limit"])
            now = self.now()
            start, count = self._rate.get(key, (now, 0))
            if now - start >= 60 or now < start:
                start, count = now, 0
            if count >= limit:
                return limit, 0, max(1, math.ceil(start + 60 - now))
            self._rate[key] = (start, count + 1)
            return limit, limit - count - 1, None

    # -- stats -----------------------------------------------------------------------------

    def reset_stats(self) -> None:
        with self._lock:
            self._stats: dict[str, Any] = {
                "token_requests": {},
                "token_errors": {},
                "authorize_requests": 0,
                "revoke_requests": 0,
                "api_requests": 0,
            }

    def count(self, what: str, grant_type: str | None = None) -> None:
        with self._lock:
            if grant_type is None:
                self._stats[what] += 1
            else:
                bucket = self._stats[what]
                bucket[grant_type] = bucket.get(grant_type, 0) + 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {k: dict(v) if isinstance(v, dict) else v for k, v in self._stats.items()}

    # -- consent pages in progress ---------------------------------------------------------

    def park_request(self, request: dict[str, Any]) -> str:
        with self._lock:
            now = self.now()
            for key in [k for k, (exp, _) in self._pending.items() if exp <= now]:
                del self._pending[key]
            request_id = secrets.token_urlsafe(24)
            self._pending[request_id] = (now + PENDING_TTL, request)
            return request_id

    def claim_request(self, request_id: str) -> dict[str, Any] | None:
        """The parked authorization request, once (a consent form cannot be submitted twice)."""
        with self._lock:
            entry = self._pending.pop(request_id, None)
            if entry is None or entry[0] <= self.now():
                return None
            return entry[1]

    # -- the signed-in user's bio (POST /me) -------------------------------------------------

    def user_bio(self) -> str | None:
        with self._transaction():
            return self._doc.get("bio")

    def set_user_bio(self, bio: str) -> None:
        with self._transaction():
            self._doc["bio"] = bio
            self._dirty = True
