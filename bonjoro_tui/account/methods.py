"""The ways to sign in: one enum, used by the core's store, the CLI's flags and the dashboard.

Adding a method: a member here (its stored value, CLI name and label), a branch in
:meth:`bonjoro_tui.account.signin.SignIn.run` calling the core's grant, and one widget on the
login screen (see docs/DESIGN.md, "Where does my change go").
"""

from __future__ import annotations

import enum


class SignInMethod(str, enum.Enum):
    """The value is what the token store keeps (``method = "code"``); a ``str`` enum, so a
    stored string compares equal to its member."""

    CODE = "code"
    CLIENT_CREDENTIALS = "client_credentials"
    API_KEY = "api_key"

    @property
    def cli_name(self) -> str:
        """The ``--method`` spelling: ``code``, ``client-credentials``, ``api-key``."""
        return self.value.replace("_", "-")

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def refreshable(self) -> bool:
        """An API key never expires and cannot be refreshed; the OAuth grants can."""
        return self is not SignInMethod.API_KEY

    @classmethod
    def from_cli(cls, name: str) -> "SignInMethod":
        return cls(name.replace("-", "_"))

    def __str__(self) -> str:  # f"{method}" is the stored value, as with the plain strings before
        return self.value


_LABELS = {
    SignInMethod.CODE: "Authorization code + PKCE",
    SignInMethod.CLIENT_CREDENTIALS: "Client credentials",
    SignInMethod.API_KEY: "API key",
}

CLI_NAMES = tuple(m.cli_name for m in SignInMethod)


def method_label(method: str | None) -> str:
    """A stored method's label ("—" for none; an unknown one as it is)."""
    if method is None:
        return "—"
    try:
        return SignInMethod(method).label
    except ValueError:
        return method
