"""Looking for secrets in what the dashboard shows (SVG snapshots and screenshots)."""

from __future__ import annotations

import html
import re

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
    raw = svg
    text = svg_text(svg)
    flat = re.sub(r"\s+", "", text)  # a secret wrapped over two rows is still found
    for secret in FIXED_SECRETS:
        assert secret not in raw and secret not in text and secret not in flat, f"{secret!r} is visible"
    assert not JWT_RE.search(flat), "a JWT is visible"
    for secret in secrets:
        for i in range(0, max(1, len(secret) - WINDOW + 1)):
            window = secret[i : i + WINDOW]
            if len(window) == WINDOW and window in flat:
                raise AssertionError(f"12 characters of an issued token are visible: {window!r}")
