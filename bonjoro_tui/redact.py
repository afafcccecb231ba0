"""Masking of secrets for every place a human or a log can see them."""

from __future__ import annotations

import re
from typing import Iterable

MASK = "…"


def mask(secret: str | None, keep: int = 6) -> str:
    """Show at most a short prefix of a secret: ``eyJhbG…(812 chars)``.

    Short secrets show even less (a quarter of their length), so a masked value never
    reveals enough to be guessed.
    """
    if not secret:
        return "(none)"
    keep = min(keep, len(secret) // 4)
    return f"{secret[:keep]}{MASK}({len(secret)} chars)"


class Redactor:
    """Replaces every known secret value in a text with its mask.

    Also redacts the values of well-known sensitive fields in JSON bodies, form bodies,
    query strings and headers, whatever their value, so a secret the redactor was never
    told about (a fresh token in a response) is hidden as well.
    """

    SENSITIVE_FIELDS = (
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "code",
        "code_verifier",
        "password",
        "token",
        "api_key",
    )
    _field_re = re.compile(
        r"""(?P<key>(?<![\w-])["']?(?:%s)["']?\s*[:=]\s*["']?)(?P<value>[^"'&\s,}]+)"""
        % "|".join(SENSITIVE_FIELDS),
        re.IGNORECASE,
    )
    _auth_re = re.compile(r"(?P<key>\b(?:Bearer|Basic)\s+)(?P<value>[A-Za-z0-9._~+/=-]+)", re.IGNORECASE)

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        # Fields and credential headers first (whatever their value), then any known secret
        # that still stands elsewhere in the text; a value is never masked twice.
        text = self._auth_re.sub(lambda m: m["key"] + mask(m["value"]), text)
        text = self._field_re.sub(lambda m: m["key"] + mask(m["value"]), text)
        for s in sorted(self._secrets, key=len, reverse=True):
            if s in text:
                text = text.replace(s, mask(s))
        return text
