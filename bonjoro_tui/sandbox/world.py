"""The sandbox's one world of API records: seeded collections plus what the API changed.

Every collection has a deterministic *base* (the seed: ``seed.SeedData`` for users, profiles,
greets, campaigns and message templates; records generated from the published schemas for the
others, see ``engine``) and an *overlay* kept in the state document (``doc["world"]``): records
created, updated (the whole record) or deleted (``None``) through the API. So with a state file
what the API changed survives a restart and is seen by another sandbox sharing the file, while
the seed itself is never stored. Reads are by id through dicts (never a scan of a list), the
order of a listing is: created records newest first, then the base in its own order.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    from bonjoro_tui.sandbox.state import SandboxState

#: Bounds on what a client can make the sandbox keep: records created in one collection, the
#: size of one stored record (JSON), and all the bytes stored by this process.
OVERLAY_MAX = 20_000
RECORD_MAX = 64 * 1024
STORED_MAX = 64 * 1024 * 1024


class CollectionFull(Exception):
    pass


class EngineError(Exception):
    """An answer in Bonjoro's error shape ``{"error": {"message", "status_code"}}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Collection:
    """One resource family: ``base()`` gives the seeded records in order, ``base_get`` one by id."""

    def __init__(self, world: World, name: str, base: Callable[[], list[dict[str, Any]]],
                 base_get: Callable[[str], dict[str, Any] | None] | None = None,
                 base_key: Callable[[], Any] | None = None) -> None:
        self.world = world
        self.name = name
        self._base = base
        self._base_index: dict[str, dict[str, Any]] | None = None
        self._base_get = base_get
        #: What the base depends on besides the seed (the greets: the greet_count knob).
        self._base_key = base_key or (lambda: None)
        # The listing, kept while nothing it is made of changed (issue 16: a page read near the
        # end of 100k greets was three copies of the whole collection): the state document it
        # was built from (a reload from the file is a new one), this process's writes, the base.
        self._version = 0
        self._listing: list[dict[str, Any]] | None = None
        self._listing_key: tuple[Any, ...] = ()
        self._memo: dict[Any, Any] = {}
        self._base_positions: tuple[Any, dict[str, int]] | None = None

    # -- the overlay in the state document ------------------------------------------------

    def _overlay(self) -> dict[str, Any]:
        doc = self.world.state._doc
        world = doc.setdefault("world", {})
        entry = world.get(self.name)
        if entry is None:
            entry = world[self.name] = {"changed": {}, "created": []}
        return entry

    def _base_lookup(self, key: str) -> dict[str, Any] | None:
        if self._base_get is not None:
            return self._base_get(key)
        if self._base_index is None:
            self._base_index = {str(r["id"]): r for r in self._base()}
        return self._base_index.get(key)

    # -- reads ------------------------------------------------------------------------------

    def get(self, key: Any) -> dict[str, Any] | None:
        key = str(key)
        with self.world.state._transaction():
            changed = self._overlay()["changed"]
            if key in changed:
                return changed[key]
            record = self._base_lookup(key)
            if record is not None and str(record["id"]) != key and str(record["id"]) in changed:
                return changed[str(record["id"])]  # found by another key (a campaign's uuid)
            return record

    def all(self) -> list[dict[str, Any]]:
        """Every record in listing order. The list is shared until the collection changes: callers
        read it (filter into a new list, slice), never modify it."""
        with self.world.state._transaction():
            doc = self.world.state._doc
            key = (self._version, self._base_key())
            if self._listing is not None and self._listing_key[0] is doc and self._listing_key[1:] == key:
                return self._listing
            entry = self._overlay()
            changed = entry["changed"]
            created = [changed[k] for k in reversed(entry["created"]) if changed.get(k) is not None]
            base = self._base()
            if not changed:
                listing = created + list(base)
            else:
                # The base with the changed records put in their places (and the deleted taken
                # out): a copy and one dict lookup per change, not a pass over every record.
                seeded = list(base)
                positions = self._positions(base, key[1])
                doomed = []
                for record_key, record in changed.items():
                    at = positions.get(record_key)
                    if at is None:
                        continue  # a created record (listed from entry["created"])
                    if record is None:
                        doomed.append(at)
                    else:
                        seeded[at] = record
                for at in sorted(doomed, reverse=True):
                    del seeded[at]
                listing = created + seeded
            self._listing, self._listing_key, self._memo = listing, (doc, *key), {}
            return listing

    def _positions(self, base: list[dict[str, Any]], base_key: Any) -> dict[str, int]:
        """Where each base record is in ``base`` (built once per base: the seed never changes)."""
        if self._base_positions is None or self._base_positions[0] != (base_key, len(base)):
            self._base_positions = ((base_key, len(base)), {str(r["id"]): i for i, r in enumerate(base)})
        return self._base_positions[1]

    def memo(self, key: Any, compute: Callable[[list[dict[str, Any]]], Any]) -> Any:
        """``compute(self.all())``, kept with the listing (a filtered search: every page of the
        same filter is then a slice); dropped when the collection changes. At most 16 kept."""
        items = self.all()
        if key not in self._memo:
            if len(self._memo) >= 16:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = compute(items)
        return self._memo[key]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.all())

    # -- writes -----------------------------------------------------------------------------

    def put(self, record: dict[str, Any], *, created: bool = False) -> dict[str, Any]:
        """Store ``record`` (created through the API, or a new version of one)."""
        key = str(record["id"])
        size = len(json.dumps(record, separators=(",", ":")))
        if size > RECORD_MAX:
            raise EngineError(400, f"The record may not be larger than {RECORD_MAX // 1024} KiB of JSON.")
        if self.world.stored + size > STORED_MAX:
            raise EngineError(400, "The sandbox keeps no more changes: restart it with a fresh state file.")
        self.world.stored += size
        with self.world.state._transaction():
            entry = self._overlay()
            if created:
                if len(entry["created"]) >= OVERLAY_MAX:
                    raise CollectionFull(self.name)
                entry["created"].append(key)
            entry["changed"][key] = record
            self.world.state._dirty = True
            self._version += 1
        return record

    def delete(self, key: Any) -> dict[str, Any] | None:
        """Remove a record; returns it (None when there was none)."""
        key = str(key)
        with self.world.state._transaction():
            record = self.get(key)
            if record is None:
                return None
            entry = self._overlay()
            if key in entry["created"]:
                entry["created"].remove(key)
                del entry["changed"][key]
            else:
                entry["changed"][key] = None
            self.world.state._dirty = True
            self._version += 1
            return record


class World:
    """The collections of one sandbox (built on its first API request): the five the seed holds
    here; those the definition adds are made by the engine on first use."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.collections: dict[str, Collection] = {}
        self.stored = 0  # bytes of records this process stored (bounded by STORED_MAX)
        seed = state.seed
        self.collection("users", lambda: seed.users)
        self.collection("profiles", lambda: seed.profiles)
        self.collection("campaigns", lambda: seed.campaigns, self._campaign_base)
        self.collection("message-templates", lambda: seed.templates)
        self.collection("greets", self._greets_base, self._greet_base_get, base_key=self._greet_count)

    def _greet_count(self) -> int:
        return int(self.state.knobs["greet_count"])

    def _greets_base(self) -> list[dict[str, Any]]:
        """The seeded greets the ``greet_count`` knob asks for (built on first use, by index)."""
        return self.state.seed.greets(self._greet_count())[len(self.state.seed.created_greets):]

    def _greet_base_get(self, key: str) -> dict[str, Any] | None:
        return self.state.seed.greet_by_id(key, self._greet_count())

    def _campaign_base(self, key: str) -> dict[str, Any] | None:
        """A seeded campaign by its integer id or its uuid (both are published)."""
        seed = self.state.seed
        return next((c for c in seed.campaigns if str(c["id"]) == key or c["uuid"] == key), None)

    def collection(self, name: str, base: Callable[[], list[dict[str, Any]]] | None = None,
                   base_get: Callable[[str], dict[str, Any] | None] | None = None,
                   base_key: Callable[[], Any] | None = None) -> Collection:
        found = self.collections.get(name)
        if found is None:
            found = self.collections[name] = Collection(self, name, base or list, base_get, base_key)
        return found


def state_world(state: SandboxState) -> World:
    """The world of a sandbox (one per ``SandboxState``, made on its first API request)."""
    world = getattr(state, "_world", None)
    if world is None:
        world = World(state)
        state._world = world  # type: ignore[attr-defined]
    return world


def check_stored(data: Any) -> None:
    """Raise ValueError unless ``data`` is a ``doc["world"]`` of the shape this module writes."""
    if not isinstance(data, dict):
        raise ValueError("world")
    for name, entry in data.items():
        if not isinstance(name, str) or not isinstance(entry, dict):
            raise ValueError("world entry")
        changed, created = entry.get("changed"), entry.get("created")
        if not isinstance(changed, dict) or not isinstance(created, list):
            raise ValueError("world entry shape")
        if any(not isinstance(r, dict) or "id" not in r for r in changed.values() if r is not None):
            raise ValueError("world record")
        if any(not isinstance(k, str) or not isinstance(changed.get(k), dict) for k in created):
            raise ValueError("world created")
