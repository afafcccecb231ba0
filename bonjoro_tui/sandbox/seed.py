"""Deterministic seeded data for the sandbox's API v2, shaped after Bonjoro's published schemas.

A fixed random seed gives the same team, profiles, campaigns, templates and greets on every
run and machine. Greets are a pure function of their index, so the large-response knob
(``greet_count`` up to 100,000) costs nothing until asked for. API links are stored as paths
(``/api/v2/...``) and made absolute for the origin a request came to (see ``absolutize``).
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from typing import Any

SEED = "bonjoro-sandbox/v1"
#: Seeded timestamps count back from this instant (Bonjoro's format: ``Y-m-d H:i:s``).
BASE_TIME = datetime(2026, 1, 15, 9, 30, 0)
MEDIA = "https://media.sandbox.bonjoro.invalid"

FIRST = ["Ava", "Noah", "Mia", "Leo", "Zoe", "Ethan", "Isla", "Omar", "Priya", "Kenji", "Lucia", "Tomas",
         "Amara", "Felix", "Hana", "Mateo", "Nora", "Ravi", "Sofia", "Yusuf"]
LAST = ["Garcia", "Okafor", "Schmidt", "Tanaka", "Rossi", "Nguyen", "Dubois", "Kowalski", "Haddad", "Silva",
        "Andersen", "Moreau", "Patel", "Kim", "Novak", "Costa", "Murphy", "Yilmaz", "Larsen", "Fischer"]
COMPANIES = [("Acme Corp", "acme.example"), ("Globex", "globex.example"), ("Initech", "initech.example"),
             ("Umbrella Labs", "umbrella.example"), ("Hooli", "hooli.example"), (None, "mail.example")]
TITLES = ["Founder", "Head of Growth", "Customer Success Lead", "Engineer", "Marketing Manager", None]
PLACES = [("Sydney", "Australia"), ("London", "United Kingdom"), ("Austin", "United States"),
          ("Berlin", "Germany"), ("Toronto", "Canada"), (None, None)]
TEAM = [("Alex", "Sandbox", "Team owner. Records every welcome video herself."),
        ("Jordan", "Reyes", "Customer success"), ("Sam", "Whitaker", "Sales"),
        ("Priya", "Raman", "Onboarding"), ("Chris", "Oyelaran", "Support"), ("Mei", "Lindqvist", "Marketing")]
CAMPAIGNS = [("Task List", "task-list", "Default", True, None, False),
             ("New signups", "new-signups", "Welcome", False, "Welcome every new trial user", False),
             ("Trial ending", "trial-ending", "Default", False, "Convert trials in their last 3 days", False),
             ("Win-back", "win-back", "Default", False, None, True),
             ("Webinar follow-up", "webinar-follow-up", "Default", False, "Thank attendees", False)]
TEMPLATES = ["Magic", "Warm welcome", "Thanks for signing up", "Trial check-in", "Renewal thanks",
             "Webinar thanks", "We miss you", "Birthday"]


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _uuid(rng: random.Random) -> str:
    """``str(uuid.UUID(int=rng.getrandbits(128), version=4))``, without importing ``uuid`` (which
    imports ``platform`` on Linux: a few ms of every sandbox start)."""
    value = rng.getrandbits(128)
    value = (value & ~(0xC000 << 48) | 0x8000 << 48) & ~(0xF000 << 64) | 4 << 76  # RFC 4122 variant, version 4
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def absolutize(value: Any, origin: str) -> Any:
    """A copy with every ``*_url`` path (``/api/v2/...``) made absolute for ``origin``."""
    if isinstance(value, dict):
        return {
            k: origin + v if k.endswith("_url") and isinstance(v, str) and v.startswith("/") else absolutize(v, origin)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [absolutize(v, origin) for v in value]
    return value


class SeedData:
    """The team and its users at once; the profiles, templates and campaigns (drawn next from the
    same random sequence) on first use — a sandbox started for ``GET /me`` needs only the users."""

    def __init__(self) -> None:
        rng = random.Random(SEED)
        self.team_id = _uuid(rng)
        self.users = [self._user(rng, first, last, bio) for first, last, bio in TEAM]
        self._after_users = rng.getstate()
        self._rest: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]] | None = None
        self._rest_lock = threading.Lock()
        self.created_greets: list[dict[str, Any]] = []  # POST /greets, newest first
        self._generated: list[dict[str, Any]] = []
        self._greet_index: dict[str, int] = {}

    def _the_rest(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        with self._rest_lock:
            if self._rest is None:
                rng = random.Random()
                rng.setstate(self._after_users)
                profiles = [self._profile(rng, i) for i in range(60)]
                templates = [self._template(rng, i, name) for i, name in enumerate(TEMPLATES)]
                campaigns = [self._campaign(rng, i, *spec) for i, spec in enumerate(CAMPAIGNS)]
                self._rest = (profiles, templates, campaigns)
            return self._rest

    @property
    def profiles(self) -> list[dict[str, Any]]:
        return self._the_rest()[0]

    @property
    def templates(self) -> list[dict[str, Any]]:
        return self._the_rest()[1]

    @property
    def campaigns(self) -> list[dict[str, Any]]:
        return self._the_rest()[2]

    @property
    def me(self) -> dict[str, Any]:
        """The user who signs in to the sandbox."""
        return self.users[0]

    def user(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self.users if u["id"] == user_id), None)

    def profile(self, key: str) -> dict[str, Any] | None:
        """A profile by id or (case-insensitive) email."""
        key_l = key.lower()
        return next((p for p in self.profiles if p["id"] == key or p["email"].lower() == key_l), None)

    def template(self, template_id: str) -> dict[str, Any] | None:
        return next((t for t in self.templates if t["id"] == template_id), None)

    def campaign(self, campaign_uuid: str) -> dict[str, Any] | None:
        return next((c for c in self.campaigns if c["uuid"] == campaign_uuid), None)

    def greets(self, count: int) -> list[dict[str, Any]]:
        """Created greets first, then the first ``count`` seeded ones (newest first)."""
        while len(self._generated) < count:
            greet = self._greet(len(self._generated))
            self._greet_index[greet["id"]] = len(self._generated)
            self._generated.append(greet)
        return self.created_greets + self._generated[:count]

    def greet_by_id(self, greet_id: str, count: int) -> dict[str, Any] | None:
        """One of the first ``count`` seeded greets, by id (a dict lookup, never a scan)."""
        self.greets(count)
        index = self._greet_index.get(greet_id)
        return self._generated[index] if index is not None and index < count else None

    # -- builders --------------------------------------------------------------------------

    def _user(self, rng: random.Random, first: str, last: str, bio: str) -> dict[str, Any]:
        user_id = _uuid(rng)
        return {
            "id": user_id,
            "name": f"{first} {last}",
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{last.lower()}@sandbox.bonjoro.invalid",
            "bio": bio,
            "image": f"{MEDIA}/avatars/{user_id}.png",
            "self_url": f"/api/v2/users/{user_id}",
            "team_url": f"/api/v2/teams/{self.team_id}",
        }

    def _profile(self, rng: random.Random, index: int) -> dict[str, Any]:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, domain = rng.choice(COMPANIES)
        city, country = rng.choice(PLACES)
        created = BASE_TIME - timedelta(days=index, minutes=rng.randrange(1440))
        profile_id = _uuid(rng)
        return {
            "id": profile_id,
            "email": f"{first.lower()}.{last.lower()}{index}@{domain}",
            "name": f"{first} {last}",
            "first_name": first,
            "last_name": last,
            "image": f"{MEDIA}/profiles/{profile_id}.png",
            "work": {"current": company, "title": rng.choice(TITLES) if company else None},
            "self_url": f"/api/v2/profiles/{profile_id}",
            "attributes_url": f"/api/v2/profiles/{profile_id}/attributes",
            "events_url": f"/api/v2/profiles/{profile_id}/events",
            "unsubscribed": rng.random() < 0.05,
            "demographic": {
                "location": city,
                "country": country,
                "age": rng.choice(["25-34", "35-44", "45-54", None]),
                "sex": None,
            },
            "created_at": ts(created),
            "updated_at": ts(created + timedelta(hours=rng.randrange(48))),
        }

    def _media(self, rng: random.Random, name: str, tags: str, created: datetime) -> dict[str, Any]:
        media_id = _uuid(rng)
        return {"id": media_id, "type": "Media", "name": name, "tags": tags, "url": f"{MEDIA}/media/{media_id}/{name}",
                "created_at": ts(created), "updated_at": ts(created)}

    def _template(self, rng: random.Random, index: int, name: str) -> dict[str, Any]:
        created = BASE_TIME - timedelta(days=200 - 7 * index)
        when = {"created_at": ts(created), "updated_at": ts(created + timedelta(days=index))}
        return {
            "id": _uuid(rng),
            "name": name,
            "is_greet_shareable": index % 3 != 2,
            "theme": {"id": _uuid(rng), "primary_color": rng.choice(["#fc5a00", "#2d6cdf", "#1a936f"]),
                      "secondary_color": "#ffffff", **when},
            "landing_page": {
                "background": self._media(rng, "background.png", "background image", created),
                "background_type": "Media",
                "logo": self._media(rng, "logo.png", "logo", created),
                "cta": {"id": _uuid(rng), "text": "Book a call", "url": "https://example.com/book",
                        "is_displayed": index % 2 == 0, **when},
            },
            "state": "demo" if index == 0 else "open",
            "email_template": {
                "layout": "html" if index % 2 == 0 else "plain",
                "subject_line": f"{name} — a personal video for you",
                "message_template": "Hi {first_name|there}, I recorded a message for you, check it out!",
            },
            "creator": self.users[index % len(self.users)],
            "stats": {"total": rng.randrange(500), "percentage_replies": rng.randrange(30),
                      "percentage_views": rng.randrange(40, 95), "percentage_reactions": rng.randrange(20),
                      "percentage_clicks": rng.randrange(15), "percentage_opens": rng.randrange(50, 99)},
            **when,
        }

    def _campaign(self, rng: random.Random, index: int, name: str, slug: str, kind: str, is_default: bool,
                  goal: str | None, archived: bool) -> dict[str, Any]:
        return {
            "id": index + 1,
            "uuid": _uuid(rng),
            "slug": slug,
            "name": name,
            "goal": goal,
            "type": kind,
            "is_default": is_default,
            "is_private": index == 3,
            "archived_at": ts(BASE_TIME - timedelta(days=30)) if archived else None,
            "creator": self.users[0],
            "users": self.users[: 2 + index % (len(self.users) - 1)],
        }

    def _greet(self, index: int) -> dict[str, Any]:
        rng = random.Random(f"{SEED}/greet/{index}")
        created = BASE_TIME - timedelta(hours=3 * index, minutes=rng.randrange(180))
        profiles = [{k: v for k, v in p.items() if k not in ("created_at", "updated_at")}
                    for p in rng.sample(self.profiles, 1 if rng.random() < 0.8 else 2)]
        status = rng.choices(["open", "sent", "closed"], weights=[5, 4, 1])[0]
        return self.build_greet(
            greet_id=_uuid(rng),
            created=created,
            updated=created + timedelta(minutes=rng.randrange(600)),
            assignee=rng.choice(self.users),
            profiles=profiles,
            template=rng.choice(self.templates),
            status=status,
            link_id=_uuid(rng),
            event_id=_uuid(rng),
            note=rng.choice([None, "New signup", "Upgraded to Pro", "Asked about pricing"]),
            campaign=rng.choice(self.campaigns),
        )

    @staticmethod
    def build_greet(*, greet_id: str, created: datetime, updated: datetime, assignee: dict, profiles: list,
                    template: dict, status: str, link_id: str, event_id: str, note: str | None,
                    campaign: dict | None) -> dict[str, Any]:
        return {
            "id": greet_id,
            "assignee": assignee,
            "link_id": link_id,
            "event": {"message": "New profile added" if status == "open" else "Video sent",
                      "occured_at": ts(updated), "id": event_id, "type": "GreetEvent", "source": "User"},
            "status": status,
            "draft": False,
            "thumb_url": f"{MEDIA}/greets/{greet_id}/thumb.png",
            "record_url": f"/api/v2/greets/{greet_id}/upload-url",
            "uploads_url": f"/api/v2/greets/{greet_id}/uploads",
            "self_url": f"/api/v2/greets/{greet_id}",
            "attributes_url": f"/api/v2/greets/{greet_id}/attributes",
            "events_url": f"/api/v2/greets/{greet_id}/events",
            "profiles": profiles,
            "message_template": template,
            "note": note,
            "campaign_id": campaign["uuid"] if campaign else None,
            "created_at": ts(created),
            "updated_at": ts(updated),
        }
