"""The account's status: what ``bonjoro-tui status`` prints and the dashboard's status screen shows.

One description, :class:`AccountStatus`, made by :func:`describe` from the settings and the stored
profile; it never holds a token, at most a mask. ``to_json()`` is the ``status --json`` document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bonjoro_tui.account.format import iso
from bonjoro_tui.redact import mask
from bonjoro_tui.settings import SANDBOX, Settings
from bonjoro_tui.trust import blocked_reason, logout_blocked_reason

if TYPE_CHECKING:
    from bonjoro_tui.store import StoredProfile


@dataclass(frozen=True)
class AccountStatus:
    profile: str
    is_sandbox: bool
    target_id: str
    base_url: str | None
    api_base: str | None
    store: str
    signed_in: bool
    reason: str | None = None  # why not signed in
    signed_in_to: str | None = None  # the target a profile of another server belongs to
    method: str | None = None
    client_id: str | None = None
    client_secret_masked: str | None = None  # None: a public client (no secret)
    token_type: str | None = None
    scope: str | None = None
    access_token_masked: str | None = None
    obtained_at: float | None = None
    expires_at: float | None = None
    expires_in: int | None = None
    has_refresh_token: bool = False
    last_refresh_at: float | None = None
    last_refresh_result: str | None = None
    #: Signed in, but these settings would send the credentials elsewhere: every request is refused
    #: (bonjoro_tui.trust) — why, and what to do.
    blocked: str | None = None
    #: Why logout would be refused (the revocation endpoint moved elsewhere); requests still go.
    logout_blocked: str | None = None

    @property
    def target(self) -> str:
        return "sandbox" if self.is_sandbox else "live"

    @property
    def where(self) -> str:
        """"built-in sandbox at http://…" (or "… (not running; …)") or "live (https://…)"."""
        if not self.is_sandbox:
            return f"live ({self.base_url})"
        if self.base_url:
            return f"built-in sandbox at {self.base_url}"
        return "built-in sandbox (not running; starts with the next command)"

    @property
    def expired(self) -> bool:
        return self.expires_in is not None and self.expires_in <= 0

    def to_json(self) -> dict[str, Any]:
        """The ``status --json`` document (its keys are a scripting interface: keep them)."""
        info: dict[str, Any] = {
            "signed_in": self.signed_in,
            "profile": self.profile,
            "target": self.target,
            "target_id": self.target_id,
            "base_url": self.base_url,
            "api_base": self.api_base,
            "store": self.store,
        }
        if self.method is None:
            info["reason"] = self.reason
            return info
        info.update(
            {
                "method": self.method,
                "client_id": self.client_id,
                "token_type": self.token_type,
                "scope": self.scope,
                "access_token_masked": self.access_token_masked,
                "obtained_at": iso(self.obtained_at),
                "expires_at": iso(self.expires_at),
                "expires_in": self.expires_in,
                "expired": self.expired,
                "has_refresh_token": self.has_refresh_token,
                "last_refresh_at": iso(self.last_refresh_at),
                "last_refresh_result": self.last_refresh_result,
            }
        )
        if self.reason is not None:
            info["reason"] = self.reason
            info["signed_in_to"] = self.signed_in_to
        if self.blocked is not None:
            info["blocked"] = self.blocked
        if self.logout_blocked is not None:
            info["logout_blocked"] = self.logout_blocked
        return info


def with_running_sandbox(settings: Settings) -> Settings:
    """For the built-in sandbox not yet resolved: the settings resolved against the sandbox already
    running for this data directory (its announcement, proved: ``account.sandbox.find_running``),
    so ``status`` can name its URL. Starts nothing and creates nothing; unchanged when none runs."""
    if settings.target != SANDBOX or settings.base_url:
        return settings
    from bonjoro_tui import locations
    from bonjoro_tui.account.sandbox import find_running

    running = find_running(locations.sandbox_announce_file(settings.data_dir))
    return settings if running is None else settings.resolved_for_sandbox(running.url)


def describe(settings: Settings, profile: "StoredProfile | None", now: float) -> AccountStatus:
    """The status of ``settings.profile`` given what is stored for it (None: nothing)."""
    base = AccountStatus(
        profile=settings.profile,
        # The built-in sandbox only: a recognised one (settings.recognised_sandbox) is still "live" here,
        # so the machine-readable target means the same with or without a probe of the server.
        is_sandbox=settings.target == SANDBOX,
        target_id=settings.target_id,
        base_url=settings.base_url,
        api_base=settings.api_base,
        store=str(settings.store_path),
        signed_in=False,
        client_id=settings.client_id,
        client_secret_masked=mask(settings.client_secret) if settings.client_secret else None,
    )
    if profile is None:
        return _replace(base, reason="no tokens stored for this profile")
    t = profile.tokens
    expires_in = t.expires_in(now)
    # The client the tokens were issued to, and its secret as these settings know it.
    client = settings.with_client(profile.client_id)
    other = profile.target != settings.target_id
    return _replace(
        base,
        signed_in=not other,
        reason=f"the stored tokens were issued by {profile.target}, not {settings.target_id}" if other else None,
        signed_in_to=profile.target if other else None,
        method=profile.method,
        client_id=profile.client_id,
        client_secret_masked=mask(client.client_secret) if client.client_secret else None,
        token_type=t.token_type,
        scope=t.scope,
        access_token_masked=mask(t.access_token),
        obtained_at=t.obtained_at,
        expires_at=t.expires_at,
        expires_in=None if expires_in is None else int(expires_in),
        has_refresh_token=t.refresh_token is not None,
        last_refresh_at=profile.last_refresh_at,
        last_refresh_result=profile.last_refresh_result,
        blocked=blocked_reason(settings, profile),
        logout_blocked=logout_blocked_reason(settings, profile),
    )


def _replace(status: AccountStatus, **changes: Any) -> AccountStatus:
    from dataclasses import replace

    return replace(status, **changes)
