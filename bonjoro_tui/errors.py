"""The one base of every error bonjoro-tui shows a user.

``str(exc)`` is one line saying what happened — no secret in it, server text already cleaned;
``hint`` says what to do next (may be empty). The front ends render any :class:`BonjoroError`
the same way, and the dashboard tells the kinds apart with ``isinstance`` (``tui/errors.py``).
The error classes live in light modules (``auth/errors.py``, ``api/errors.py``, ``store.py``,
``settings.py``, ``files.py``, ``tokens.py``) so matching them imports no HTTP stack.
"""

from __future__ import annotations


class BonjoroError(Exception):
    hint: str = ""

    def __init__(self, message: str = "", hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint
