"""Formatting of times, durations and sizes for the screens (pure functions, no textual)."""

from __future__ import annotations

from datetime import datetime, timezone


def clock_time(epoch: float | None) -> str:
    """``2026-11-27 20:00:00 UTC`` (UTC, so every machine shows the same text)."""
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    """``1h 02m 03s``, ``4m 05s``, ``9s``; negative durations get no sign (callers say 'ago')."""
    if seconds is None:
        return "never"
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def size(num_bytes: int) -> str:
    if num_bytes < 1024:
        return f"{num_bytes} B"
    if num_bytes < 1024 * 1024:
        return f"{num_bytes / 1024:.1f} KB"
    return f"{num_bytes / (1024 * 1024):.1f} MB"


METHOD_NAMES = {
    "code": "Authorization code + PKCE",
    "client_credentials": "Client credentials",
    "api_key": "API key",
}


def method_name(method: str | None) -> str:
    if method is None:
        return "—"
    return METHOD_NAMES.get(method, method)
