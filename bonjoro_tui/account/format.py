"""Times, durations and sizes as both front ends show them (pure functions)."""

from __future__ import annotations

from datetime import datetime, timezone


def iso(epoch: float | None) -> str | None:
    """``2026-11-27T20:00:00Z`` (for JSON and the command line), None for None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def clock_time(epoch: float | None) -> str:
    """``2026-11-27 20:00:00 UTC`` (UTC, so every machine shows the same text)."""
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float) -> str:
    """In a sentence: ``59m 32s``, ``1h``, ``1d 1h 1m 1s``, ``0s`` (zero parts left out)."""
    seconds = max(0, int(seconds))
    parts = []
    for unit, size_ in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size_:
            parts.append(f"{seconds // size_}{unit}")
            seconds %= size_
    if seconds or not parts:
        parts.append(f"{seconds}s")
    return " ".join(parts)


def countdown(seconds: float | None) -> str:
    """For a live countdown, fixed width per unit so it does not jitter as it ticks:
    ``1h 02m 03s``, ``4m 05s``, ``9s``, ``1d 01h 01m``; no sign (callers say 'ago'); ``never``."""
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
