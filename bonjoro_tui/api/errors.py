"""The API client's errors (re-exported by ``api/client.py``); importing them loads no httpx."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bonjoro_tui.errors import BonjoroError

if TYPE_CHECKING:
    from bonjoro_tui.api.client import ApiResponse, LogoutResult

LOGIN_HINT = "run `bonjoro-tui login`"


def login_command(profile: str | None = None) -> str:
    """The sign-in command for ``profile`` (``--profile NAME`` unless it is the default one)."""
    if not profile or profile == "default":
        return "bonjoro-tui login"
    return f"bonjoro-tui --profile {profile} login"


def for_profile(text: str, profile: str | None) -> str:
    """``text`` with its ``bonjoro-tui login`` advice naming ``profile`` (a command line copied from
    it signs in that profile, not the default one)."""
    command = login_command(profile)
    return text if command == "bonjoro-tui login" else text.replace("`bonjoro-tui login`", f"`{command}`")


def without_cli_advice(text: str) -> str:
    """``text`` without the command-line advice the core's messages end with ("; run
    `bonjoro-tui login` to sign in again"), for a front end that says what to do its own way."""
    import re

    return re.sub(r"[;,]\s*run `bonjoro-tui[^`]*`(?: to sign in (?:again|there)| for a new token)?"
                  r"(?: \(or pick another --profile\))?", "", text).rstrip()


class ClientError(BonjoroError):
    """Base of the API client's errors; the message is one line fit for the user."""


class NotSignedIn(ClientError):
    """No usable tokens for this profile and target."""


class WrongTarget(NotSignedIn):
    """The stored profile was issued by another server: its token is never sent here."""


class Misdirected(ClientError):
    """A request would carry a profile's credentials to an origin it was not signed in with
    (bonjoro_tui.trust, rule 1); nothing was sent."""

    hint = (
        "check that setting (`bonjoro-tui paths` lists the .env and config file in use); "
        "to use that server on purpose, sign in there"
    )


class ClientMismatch(ClientError):
    """A refresh or revocation would have to present another client than the one the profile's
    tokens were issued to; nothing was sent."""


class SignInAgain(NotSignedIn):
    """The refresh token was refused (invalid_grant); the profile is now signed out."""


class RefreshFailed(ClientError):
    """A refresh could not be completed (network, server error); the old tokens are kept."""


class ApiError(ClientError):
    """An API call failed (unreachable, refused, an answer we cannot use)."""

    def __init__(self, message: str, status: int | None = None, response: "ApiResponse | None" = None) -> None:
        super().__init__(message)
        self.status = status
        self.response = response


class RevocationFailed(ClientError):
    """Logout could not revoke tokens that are still valid at the server; they are kept."""

    def __init__(self, message: str, result: "LogoutResult") -> None:
        # The commands name the profile: a bare `bonjoro-tui logout` acts on the active one,
        # which need not be this one (`profiles rm other`, `--profile other logout`).
        import shlex

        logout = f"bonjoro-tui --profile {shlex.quote(result.profile)} logout"
        super().__init__(message, hint=f"try `{logout}` again later, or `{logout} --forget` to "
                         "remove them here anyway (they stay valid at the server until they expire)")
        self.result = result
