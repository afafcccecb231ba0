"""What to tell the user about an exception from the core: what happened and what to do.

Matched with ``isinstance`` against the core's error classes, which live in light modules
(``auth/errors.py``, ``api/errors.py``, ``store.py``, ``files.py``, ``tokens.py``; all
:class:`~bonjoro_tui.errors.BonjoroError`), so this module loads no HTTP stack.

An exception's text and hint often quote the server (an ``error_description``, an API error
message, a callback's ``error``): both halves of the answer are escaped with
:func:`~bonjoro_tui.safetext.safe_text`, so no control character reaches a screen from here.
They are still plain strings, not markup: show them with ``tui.text.plain`` / ``rich_plain``
or ``notify(..., markup=False)``.
"""

from __future__ import annotations

import sys
from typing import Callable

import re

from bonjoro_tui.api.errors import ApiError, NotSignedIn, RefreshFailed, SignInAgain, without_cli_advice
from bonjoro_tui.auth.errors import ApiKeyRejected, LoginCancelled, OAuthError, TokenEndpointError
from bonjoro_tui.files import UnsafePathError
from bonjoro_tui.safetext import safe_text
from bonjoro_tui.store import StoreCorruptError, StoreUnsafeError
from bonjoro_tui.tokens import TokenResponseError


def _default_key(binding_id: str) -> str:
    return {"login": "l", "refresh": "r"}.get(binding_id, binding_id)


def explain(
    exc: BaseException, *, target: str = "the server", key: Callable[[str], str] = _default_key
) -> tuple[str, str]:
    """``(what happened, what to do)`` for an exception raised by the core or by httpx; ``key``
    gives the active key of a binding id (the user may have remapped them). Both are escaped
    display text (see the module's docstring)."""
    what, todo = _explain(exc, target=target, key=key)
    return safe_text(what), safe_text(todo)


def _explain(exc: BaseException, *, target: str, key: Callable[[str], str]) -> tuple[str, str]:
    login, refresh = key("login"), key("refresh")
    # The core's messages end with the command line's advice ("run `bonjoro-tui login`"): the
    # dashboard says what to do its own way (a key), so that advice is dropped here.
    text = without_cli_advice(str(exc)) or type(exc).__name__
    hint = getattr(exc, "hint", None)
    if isinstance(exc, (UnsafePathError, StoreUnsafeError)):
        # The message names the path, what is wrong and what to do (bonjoro_tui/files.py).
        return (text, hint or "Nothing was read from or written to that path. Fix it as said, then try again.")
    if isinstance(exc, StoreCorruptError):
        where = getattr(exc, "quarantined_to", None)
        return (
            f"The token store could not be read; it was moved aside to {where}.",
            f"Nothing was overwritten. Sign in again ({login}); inspect or delete the old file at leisure.",
        )
    if isinstance(exc, SignInAgain):
        # "the refresh token was refused (DETAIL); profile 'x' is signed out": DETAIL is the
        # server's and may hold parentheses of its own, so it is not put in parentheses again.
        refused = _REFUSED.match(text)
        if refused is not None:
            detail, rest = refused.group(1).strip(), refused.group(2)
            text = f"the server refused the refresh token: {detail}. {_capital(rest)}"
        return (f"The session ended: {text.rstrip('.')}.", hint or f"Sign in again (press {login}).")
    if isinstance(exc, RefreshFailed):
        # The client's message may already say so ("the refresh failed: …"): said once.
        what = _capital(text) if text.lower().startswith(("the refresh failed", "refresh failed")) else (
            f"The refresh failed: {text}")
        return (what, hint or f"Your previous tokens are kept; try again later ({refresh}).")
    if isinstance(exc, NotSignedIn):
        return ("Not signed in.", hint or f"Press {login} to sign in.")
    if isinstance(exc, ApiKeyRejected):
        return (text[:1].upper() + text[1:] + ".", "Check the key and try again; your previous sign-in is unchanged.")
    if isinstance(exc, LoginCancelled):
        return ("Sign-in cancelled.", f"Press enter or {login} to start again.")
    if isinstance(exc, TokenResponseError):
        return (f"The token endpoint sent a malformed response: {text}", hint or "Nothing was saved; try again later.")
    httpx = sys.modules.get("httpx")  # not imported yet: the error cannot be one of its exceptions
    if httpx is not None and isinstance(exc, httpx.TimeoutException):
        return (f"{target} did not answer in time.", "Check the network or the server, then try again.")
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return (
            f"Cannot reach {target}: {text}",
            "Check your network connection (or that the sandbox is running), then try again.",
        )
    if isinstance(exc, TokenEndpointError):
        return (f"The token endpoint failed: {text}", hint or "Nothing was saved; your previous tokens are kept. Try again later.")
    if isinstance(exc, OAuthError):
        return (f"The server refused: {text}", hint or "Check the client settings, then sign in again.")
    if isinstance(exc, ApiError) and "could not reach" in text:
        return (text[:1].upper() + text[1:], "Check your network connection (or that the sandbox is running), then try again.")
    if isinstance(exc, ApiError):
        return (f"The API call failed: {text}", hint or "Check the request and try again.")
    if hint:
        return (text, hint)
    return (f"{type(exc).__name__}: {text}", "Try again; run with --debug for a redacted log of the exchange.")


_REFUSED = re.compile(r"the refresh token was refused \((.*)\); (profile .* is signed out)$", re.DOTALL)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
