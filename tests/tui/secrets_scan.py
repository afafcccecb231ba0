"""Looking for secrets in what the dashboard shows (SVG snapshots and screenshots) and keeps (the
explorer's history file, ``history.json`` in the data dir)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from bonjoro_tui import locations

#: The sandbox's fixed credentials (see docs/SANDBOX.md): never to be shown.
FIXED_SECRETS = ("sandbox-secret", "sandbox-api-key")
#: Any whole JWT (header.payload.) — access tokens are JWTs; only a masked prefix may show.
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
WINDOW = 12


def svg_text(svg: str) -> str:
    """The characters an SVG screenshot shows, rows joined (tags dropped, entities decoded)."""
    parts = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape("".join(parts)).replace("\xa0", " ")


def issued_secrets(session) -> list[str]:
    """Every token the store holds for any profile right now."""
    found: list[str] = []
    try:
        for name in session.store.names():
            profile = session.store.load(name)
            if profile is not None:
                found += [t for t in (profile.tokens.access_token, profile.tokens.refresh_token) if t]
    except Exception:
        pass
    return found


def assert_no_secrets(svg: str, secrets: list[str] = ()) -> None:
    _assert_clean(svg, svg_text(svg), secrets)


def history_text(data_dir: Path) -> str:
    """The history file of a data dir and any copy of it moved aside ("" when there is none)."""
    return "".join(p.read_text("utf-8", "replace") for p in sorted(Path(data_dir).glob(locations.HISTORY_FILE + "*"))
                   if p.is_file())


def assert_history_has_no_secrets(data_dir: Path, secrets: list[str] = ()) -> None:
    """The history file holds no sandbox credential, no whole JWT and no 12 characters of a token."""
    text = history_text(data_dir)
    _assert_clean(text, text, secrets)


def _assert_clean(raw: str, text: str, secrets: list[str] = ()) -> None:
    flat = re.sub(r"\s+", "", text)  # a secret wrapped over two rows is still found
    for secret in FIXED_SECRETS:
        assert secret not in raw and secret not in text and secret not in flat, f"{secret!r} is visible"
    assert not JWT_RE.search(flat), "a JWT is visible"
    for secret in secrets:
        for i in range(0, max(1, len(secret) - WINDOW + 1)):
            window = secret[i : i + WINDOW]
            if len(window) == WINDOW and window in flat:
                raise AssertionError(f"12 characters of an issued token are visible: {window!r}")
