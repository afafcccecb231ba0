"""Masking of secrets for every place a human or a log can see them."""

from __future__ import annotations

import re
from typing import Iterable, Match

MASK = "…"

#: Private-use code points stand in for known secrets while the field rules run (see Redactor).
_PUA_FIRST, _PUA_LAST = 0xE000, 0xF8FF
_PUA_CLASS = "\ue000-\uf8ff"


def mask(secret: str | None, keep: int = 6) -> str:
    """Show at most a short prefix of a secret: ``eyJhbG…(812 chars)``.

    Short secrets show even less (a quarter of their length), so a masked value never
    reveals enough to be guessed.
    """
    if not secret:
        return "(none)"
    keep = min(keep, len(secret) // 4)
    return f"{secret[:keep]}{MASK}({len(secret)} chars)"


def _variants(secret: str) -> set[str]:
    """The secret as it appears in the texts we log: raw, JSON-escaped, Python-repr-escaped,
    percent-encoded (path/query and form style). RFC 6749 allows any of %x20-7E in a token, so
    ``"``, ``\\``, ``&``, ``=``, ``%``, space … change its spelling in a body."""
    import json
    from urllib.parse import quote, quote_plus

    spellings = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }
    # A server that quotes our request back inside a JSON string (an error_description holding
    # the body we sent) escapes it again: up to three levels of JSON string escaping.
    level = spellings
    for _ in range(2):
        level = {json.dumps(s, ensure_ascii=False)[1:-1] for s in level} - spellings
        spellings |= level
    return spellings


class Redactor:
    """Replaces every known secret value in a text with its mask.

    Also redacts the values of well-known sensitive fields in JSON bodies, form bodies,
    query strings and headers, whatever their value, so a secret the redactor was never
    told about (a fresh token in a response) is hidden as well.

    Order: known secrets first, longest first (in each spelling a body may give them, see
    :func:`_variants`), so a token holding ``,``, a space, a quote or ``}`` is masked whole,
    whatever surrounds it. They are replaced by placeholders (private-use characters found
    neither in the text nor in any secret) while the field and credential-header rules run —
    a field whose value holds a placeholder is masked as one value — and the placeholders
    become masks at the end, so no value is masked twice. A quoted field value (JSON, a
    Python repr) is masked up to its closing quote, escapes honoured, so an unknown token
    with spaces or commas in it leaves no tail; an unquoted one ends at ``&``, whitespace,
    ``,`` or ``}`` (form bodies and query strings percent-encode those).
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
        r"""(?P<key>(?<![\w-])["']?(?:%s)["']?\s*[:=]\s*)"""
        r"""(?:"(?P<dq>(?:[^"\\\n]|\\.)*)(?P<dq_end>"?)"""
        r"""|'(?P<sq>(?:[^'\\\n]|\\.)*)(?P<sq_end>'?)"""
        r"""|(?P<bare>[^"'&\s,}]+))""" % "|".join(SENSITIVE_FIELDS),
        re.IGNORECASE,
    )
    _auth_re = re.compile(
        r"(?P<key>\b(?:Bearer|Basic)\s+)(?P<value>[A-Za-z0-9._~+/=%s-]+)" % _PUA_CLASS, re.IGNORECASE
    )

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        self._spellings: list[str] = []  # every variant of every secret, longest first
        self._chars: set[str] = set()  # the characters of all spellings (placeholders avoid them)
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 4 or secret in self._secrets:
            return
        self._secrets.add(secret)
        new = _variants(secret) - set(self._spellings)
        self._spellings = sorted([*self._spellings, *new], key=lambda s: (-len(s), s))
        for s in new:
            self._chars.update(s)

    def _placeholder_alphabet(self, text: str) -> str | None:
        """12 private-use characters absent from the text and from every secret: an opening
        mark, a closing mark and ten digits. None in the absurd case there are not enough."""
        found = []
        for cp in range(_PUA_FIRST, _PUA_LAST + 1):
            ch = chr(cp)
            if ch not in self._chars and ch not in text:
                found.append(ch)
                if len(found) == 12:
                    return "".join(found)
        return None

    def __call__(self, text: str) -> str:
        present = [s for s in self._spellings if s in text]
        alphabet = self._placeholder_alphabet(text) if present else None
        originals: dict[str, str] = {}
        if alphabet is not None:
            opening, closing, digits = alphabet[0], alphabet[1], alphabet[2:]
            for s in present:  # longest first: a secret inside a longer one goes with it
                if s in text:
                    ph = opening + "".join(digits[int(d)] for d in str(len(originals))) + closing
                    originals[ph] = s
                    text = text.replace(s, ph)
            ph_re = re.compile(f"{re.escape(opening)}[{re.escape(digits)}]+{re.escape(closing)}")

            def restore(value: str) -> str:
                return ph_re.sub(lambda m: originals[m.group()], value)
        else:
            for s in present:  # no placeholders to be had: mask in place (never happens in practice)
                text = text.replace(s, mask(s))

            def restore(value: str) -> str:
                return value

        def field(m: Match[str]) -> str:
            for group, quote in (("dq", '"'), ("sq", "'")):
                value = m.group(group)
                if value is not None:
                    if not value:
                        return m.group(0)
                    return f"{m['key']}{quote}{mask(restore(value))}{m[group + '_end']}"
            return m["key"] + mask(restore(m["bare"]))

        text = self._auth_re.sub(lambda m: m["key"] + mask(restore(m["value"])), text)
        text = self._field_re.sub(field, text)
        if originals:
            text = ph_re.sub(lambda m: mask(originals[m.group()]), text)
        return text
