"""Where to connect, which client, which profile.

Precedence, highest first: command-line flags > environment > ``.env`` in the working
directory > ``config.toml`` in the user config dir > defaults.

``flags`` use the :class:`Settings` field names (``client_id``, ``callback_port``, …);
a flag whose value is ``None`` is "not given". Environment and ``.env`` use the
``BONJORO_*`` names (the seed's ``REDIRECT_URI`` is accepted too, below
``BONJORO_REDIRECT_URI``). ``config.toml`` uses the field names in lower case
(``client_id = "…"``) plus an optional ``[keymap]`` table for the TUI.

With no client configured and no base URL, the target is the local sandbox
(client id ``sandbox-public``; ``BONJORO_CLIENT_ID=sandbox-confidential`` or ``sandbox-public``
keeps it there too); its endpoints are filled in by
:meth:`Settings.resolved_for_sandbox` once the sandbox is listening.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import platformdirs

from bonjoro_tui import locations
from bonjoro_tui.errors import BonjoroError

SANDBOX = "sandbox"
LIVE = "live"
SANDBOX_PUBLIC_CLIENT = "sandbox-public"
#: The sandbox's published confidential client (public configuration, like a test fixture:
#: it works against the local sandbox only). Client credentials against the sandbox use it
#: when no secret is configured.
SANDBOX_CONFIDENTIAL_CLIENT = "sandbox-confidential"
SANDBOX_CONFIDENTIAL_SECRET = "sandbox-secret"
#: Client ids that keep the target on the built-in sandbox when no base/token URL is set.
SANDBOX_CLIENTS = (SANDBOX_PUBLIC_CLIENT, SANDBOX_CONFIDENTIAL_CLIENT)
APP_NAME = "bonjoro-tui"

LIVE_BASE_URL = "https://www.bonjoro.com"
#: The seed's authorize URL: Bonjoro publishes none.
LIVE_AUTHORIZE_URL = "https://app.bonjoro.com/oauth/authorize"
TOKEN_PATH = "/api/v2/oauth/2/token"
AUTHORIZE_PATH = "/oauth/authorize"
REVOKE_PATH = "/oauth/revoke"
API_PATH = "/api/v2"

TOKEN_FORMATS = ("json", "form")
#: How the client authenticates at the token and revocation endpoints (RFC 6749 §2.3.1, RFC 8414
#: ``token_endpoint_auth_methods_supported`` names): HTTP Basic, in the body, or not at all.
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_PROFILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

#: Settings key -> environment variable names, highest precedence first.
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "client_id": ("BONJORO_CLIENT_ID",),
    "client_secret": ("BONJORO_CLIENT_SECRET",),
    "redirect_uri": ("BONJORO_REDIRECT_URI", "REDIRECT_URI"),
    "base_url": ("BONJORO_BASE_URL",),
    "authorize_url": ("BONJORO_AUTHORIZE_URL",),
    "token_url": ("BONJORO_TOKEN_URL",),
    "revoke_url": ("BONJORO_REVOKE_URL",),
    "api_base": ("BONJORO_API_BASE",),
    "token_format": ("BONJORO_TOKEN_FORMAT",),
    "token_auth": ("BONJORO_TOKEN_AUTH",),
    "profile": ("BONJORO_PROFILE",),
    "scope": ("BONJORO_SCOPE",),
    "cc_scope": ("BONJORO_CC_SCOPE",),
    "authorize_params": ("BONJORO_AUTHORIZE_PARAMS",),
    "issuer": ("BONJORO_ISSUER",),
    "userinfo_url": ("BONJORO_USERINFO_URL",),
    "data_dir": ("BONJORO_TUI_DATA_DIR",),
    "config_dir": ("BONJORO_TUI_CONFIG_DIR",),
    "log_dir": ("BONJORO_TUI_LOG_DIR",),
    "debug": ("BONJORO_DEBUG",),
    "callback_port": ("BONJORO_CALLBACK_PORT",),
}
_URL_KEYS = ("redirect_uri", "base_url", "authorize_url", "token_url", "revoke_url", "api_base", "issuer",
             "userinfo_url")
#: The endpoints an issuer's metadata fills in (bonjoro_tui.auth.discovery) when they are not set.
DISCOVERED_KEYS = ("authorize_url", "token_url", "revoke_url", "userinfo_url")
#: Authorization request parameters bonjoro-tui sets itself: BONJORO_AUTHORIZE_PARAMS may not
#: name them (nor ``request`` / ``request_uri``, which would carry them in another form, RFC 9101/9126).
OWNED_AUTHORIZE_PARAMS = frozenset({
    "response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope",
    "request", "request_uri",
})
#: Flags whose command-line spelling differs from the settings key.
_FLAG_NAMES = {"callback_port": "--port"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(BonjoroError, ValueError):
    """A setting has a value we cannot use; the message names where it came from."""


@dataclass(frozen=True)
class Settings:
    profile: str
    target: str
    client_id: str | None
    client_secret: str | None = field(repr=False)  # never in a traceback or log
    redirect_uri: str | None
    base_url: str | None
    authorize_url: str | None
    token_url: str | None
    revoke_url: str | None
    api_base: str | None
    token_format: str  # "json" (Bonjoro's published token endpoint) or "form" (RFC 6749, every other server)
    data_dir: Path
    config_dir: Path
    log_dir: Path
    debug: bool
    callback_port: int | None
    scope: str | None = None
    #: The authorization server's issuer identifier (RFC 9207): when set, an ``iss`` on the
    #: redirect must equal it. The sandbox's is its origin; live Bonjoro publishes none.
    issuer: str | None = None
    keymap: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    #: Where some values came from, for messages: ``callback_port`` (the port in effect, which
    #: may be a redirect URI's) and ``redirect_uri`` -> "the --port option", "REDIRECT_URI in …".
    sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)
    #: Settings that were ignored, one line each (the CLI prints them on stderr, the TUI shows them).
    warnings: list[str] = field(default_factory=list, compare=False, hash=False)
    #: The keys whose value came from the working directory's ``.env`` — directly, or derived
    #: from a ``.env`` ``BONJORO_BASE_URL``. A ``.env`` is untrusted input (a cloned repository's):
    #: see :mod:`bonjoro_tui.trust` for what it may and may not decide.
    untrusted: frozenset[str] = field(default_factory=frozenset, compare=False, hash=False)
    #: How a client secret is presented: "client_secret_basic" (HTTP Basic, RFC 6749's MUST, the
    #: default for every server but Bonjoro's published endpoint), "client_secret_post" (in the
    #: body, as Bonjoro's definition shows) or "none".
    token_auth: str = "client_secret_post"
    #: Where the signed-in user's identity comes from when there is no API base of one's own
    #: (OpenID Connect userinfo): BONJORO_USERINFO_URL, or the issuer's ``userinfo_endpoint``.
    userinfo_url: str | None = None
    #: BONJORO_AUTHORIZE_PARAMS: extra (name, value) pairs for the authorization request, in order.
    authorize_params: tuple[tuple[str, str], ...] = ()
    #: BONJORO_CC_SCOPE: the scope asked for in a client-credentials grant (None: ``scope``).
    cc_scope: str | None = None
    #: The keys a flag, the environment, the .env or config.toml set (not derived, not defaults):
    #: what discovery must not replace.
    explicit: frozenset[str] = field(default_factory=frozenset, compare=False, hash=False)
    #: The metadata document the endpoints were discovered from (bonjoro_tui.auth.discovery);
    #: None until then, or when there is nothing to discover.
    metadata_url: str | None = None
    #: The issuer's metadata says every authorization response carries ``iss`` (RFC 9207 §2.4: a
    #: response without it must then be refused — it may be a mix-up attack).
    issuer_sends_iss: bool = False
    #: The dashboard's colour theme (config.toml ``theme = "nord"``, written by the dashboard when
    #: the user picks one: bonjoro_tui.account.preferences). None: Textual's default.
    theme: str | None = None
    #: The configured server (``BONJORO_BASE_URL`` on loopback, from a trusted source) said it is a
    #: sandbox (``GET /_sandbox/info``; ``account.sandbox.recognise``, run by ``open_session``). For
    #: what is shown and offered only (see :attr:`shows_sandbox`); ``target`` stays "live" and the
    #: tokens stay bound to the server's origin.
    recognised_sandbox: bool = False

    @property
    def shows_sandbox(self) -> bool:
        """The built-in sandbox, or a server recognised as one: the SANDBOX badge, the approve
        shortcut, "the sandbox" in sentences. Never a reason to send a credential anywhere
        (that is :attr:`target_id` and :mod:`bonjoro_tui.trust`)."""
        return self.target == SANDBOX or self.recognised_sandbox

    @property
    def needs_discovery(self) -> bool:
        """An issuer names a server that is not the built-in sandbox, and its metadata has not
        been read yet (``account.session.open_session`` does it, once per session)."""
        return self.issuer is not None and self.target != SANDBOX and self.metadata_url is None

    @property
    def is_sandbox(self) -> bool:
        return self.target == SANDBOX

    @property
    def target_id(self) -> str:
        """What stored tokens are tied to: "sandbox", or the origin of the token URL."""
        if self.target == SANDBOX:
            return SANDBOX
        url = self.token_url or self.base_url or ""
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else LIVE

    @property
    def store_path(self) -> Path:
        return locations.tokens_file(self.data_dir)

    def with_client(self, client_id: str | None) -> "Settings":
        """These settings for the client that obtained a stored profile.

        Tokens are bound to the client they were issued to: a refresh, a re-grant or a
        revocation must present that client, never the configured one. Against the sandbox, its
        two published clients are known (the confidential one with its published secret). For any
        other client we hold no secret (the configured secret is another client's): it is
        presented as a public client, with its id alone — see ``api.auth.oauth_for``, which
        refuses when that cannot work.
        """
        if not client_id or client_id == self.client_id:
            return self
        if self.is_sandbox and client_id == SANDBOX_CONFIDENTIAL_CLIENT:
            return replace(self, client_id=client_id, client_secret=SANDBOX_CONFIDENTIAL_SECRET)
        return replace(self, client_id=client_id, client_secret=None)

    def for_client_credentials(self) -> "Settings":
        """Against the sandbox with no secret configured: its published confidential client."""
        if self.is_sandbox and not self.client_secret:
            return self.with_client(SANDBOX_CONFIDENTIAL_CLIENT)
        return self

    def source(self, key: str) -> str:
        """Where the value of ``key`` came from, for messages ("the environment variable …",
        "BONJORO_API_BASE in /path/.env line 3", "derived from …", "the default")."""
        return self.sources.get(key, "the default")

    def resolved_for_sandbox(self, base_url: str) -> "Settings":
        """Fill in every endpoint not set explicitly from a running sandbox's base URL."""
        base = base_url.rstrip("/")
        derived = _derive(base, revoke=True)
        sources = dict(self.sources)
        for key in (*derived, "issuer"):
            if getattr(self, key) is None:
                sources[key] = "the built-in sandbox"
        return replace(
            self,
            sources=sources,
            base_url=base,
            authorize_url=self.authorize_url or derived["authorize_url"],
            token_url=self.token_url or derived["token_url"],
            revoke_url=self.revoke_url or derived["revoke_url"],
            api_base=self.api_base or derived["api_base"],
            issuer=self.issuer or base,
        )


def _derive(base: str, *, revoke: bool) -> dict[str, str | None]:
    return {
        "authorize_url": base + AUTHORIZE_PATH,
        "token_url": base + TOKEN_PATH,
        "revoke_url": base + REVOKE_PATH if revoke else None,
        "api_base": base + API_PATH,
    }


# --------------------------------------------------------------------------- sources


def parse_dotenv(path: Path) -> dict[str, tuple[str, int]]:
    """Parse a simple ``.env``: ``KEY=VALUE`` lines, optional ``export``, quotes, comments.

    Returns ``{KEY: (value, line_number)}``. A line that is not an assignment raises
    :class:`SettingsError` naming the file and line.
    """
    out: dict[str, tuple[str, int]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path}: the .env file is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the .env file ({exc.strerror})") from None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise SettingsError(f"{path} line {lineno}: expected KEY=VALUE")
        value = value.strip()
        if value[:1] in {'"', "'"}:
            quote = value[0]
            end = value.find(quote, 1)
            if end == -1:
                raise SettingsError(f"{path} line {lineno}: unterminated {quote} quote in {key}")
            rest = value[end + 1 :].strip()
            if rest and not rest.startswith("#"):
                raise SettingsError(f"{path} line {lineno}: unexpected text after the quoted value of {key}")
            value = value[1:end]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        out[key] = (value, lineno)
    return out


def _load_config_toml(path: Path) -> dict[str, Any]:
    """The user's config.toml — a *trusted* source (bonjoro_tui.trust), so it must really be the
    user's: its directory and the file itself owned by us and writable by no one else. A symbolic
    link to such a file is fine (dotfile managers link config files into place)."""
    import stat

    from bonjoro_tui.files import UnsafePathError, check_private_dir

    try:
        if not check_private_dir(path.parent, label="config directory", tighten=False):
            return {}
    except UnsafePathError as exc:
        raise SettingsError(f"{exc} (its config.toml would decide where your tokens go)") from None
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise SettingsError(f"{path}: the config file is not a regular file")
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                raise SettingsError(
                    f"{path}: the config file is writable by someone else or not yours (mode "
                    f"{stat.S_IMODE(st.st_mode):04o}, uid {st.st_uid}), and it decides where your tokens go; "
                    f"check it, then run `chmod 600 {path}`"
                )
            raw = f.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the config file ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path}: the config file is not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        # The message already ends with "(at line N, column M)".
        raise SettingsError(f"{path}: the config file is not valid TOML: {exc}") from None
    return data


#: ``_Sources.find`` layers: 0 flag, 1 environment, 2 the working directory's .env, 3 config.toml.
FLAG_LAYER = 0
DOTENV_LAYER = 2
#: What a working-directory ``.env`` may never decide (bonjoro_tui.trust): where bonjoro-tui reads
#: its trusted configuration and keeps its tokens and logs, and whether it logs every exchange.
#: (A .env naming the config dir would make its own config.toml "trusted"; one naming the data
#: dir would put the token store in a repository, or hand the user a planted one.)
NOT_FROM_DOTENV = frozenset({"config_dir", "data_dir", "log_dir", "debug"})


class _Sources:
    """Looks a key up through the layers and remembers where each value came from."""

    def __init__(self, flags: Mapping[str, Any], env: Mapping[str, str], dotenv_path: Path | None) -> None:
        self.flags = {k: v for k, v in flags.items() if v is not None}
        self.env = env
        self.dotenv_path = dotenv_path
        self.dotenv = parse_dotenv(dotenv_path) if dotenv_path else {}
        self.config: dict[str, Any] = {}
        self.config_path: Path | None = None
        #: One line per .env value that was ignored because a .env may not set it.
        self.ignored: list[str] = []
        for key in sorted(NOT_FROM_DOTENV):
            for name in ENV_NAMES[key]:
                if name in self.dotenv and self.dotenv[name][0]:
                    self.ignored.append(
                        f"ignoring {name} in {dotenv_path} line {self.dotenv[name][1]}: a .env in the working "
                        "directory may not choose where bonjoro-tui keeps its tokens, logs and configuration, "
                        "or turn on --debug; set it in the environment or pass the flag if you mean it"
                    )

    def get(self, key: str, *, config: bool = True) -> tuple[Any, str] | None:
        found = self.find(key, config=config)
        return None if found is None else (found[0], found[1])

    def find(self, key: str, *, config: bool = True, names: tuple[str, ...] | None = None) -> tuple[Any, str, int, str] | None:
        """(value, source, layer, name): layer 0 flag, 1 environment, 2 .env, 3 config.toml."""
        names = ENV_NAMES[key] if names is None else names
        if key in self.flags:
            flag = _FLAG_NAMES.get(key, "--" + key.replace("_", "-"))
            return self.flags[key], f"the {flag} option", 0, flag
        for name in names:
            value = self.env.get(name)
            if value:
                return value, f"the environment variable {name}", 1, name
        for name in names if key not in NOT_FROM_DOTENV else ():
            if name in self.dotenv and self.dotenv[name][0]:
                value, lineno = self.dotenv[name]
                return value, f"{name} in {self.dotenv_path} line {lineno}", 2, name
        if config and key in self.config:
            return self.config[key], f"{key} in {self.config_path}", 3, key
        return None


def _as_str(value: Any, source: str) -> str:
    if isinstance(value, str):
        return value.strip()
    raise SettingsError(f"{source}: expected a string, got {type(value).__name__}")


def _check_url(key: str, value: str, source: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{source}: {value!r} is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise SettingsError(
            f"{source}: {value!r} uses plain http to a non-loopback host; use https "
            "(tokens and secrets must not cross the network unencrypted)"
        )
    if parts.username or parts.password:
        raise SettingsError(f"{source}: the URL must not carry credentials")
    try:
        parts.port
    except ValueError:
        raise SettingsError(f"{source}: {value!r} has an invalid port") from None
    if key == "base_url":
        return value
    if key == "redirect_uri":
        if parts.scheme != "http" or parts.hostname not in {"127.0.0.1", "localhost"}:
            raise SettingsError(
                f"{source}: the redirect URI must be a loopback http URL such as "
                "http://127.0.0.1:8765/callback (the callback server listens on 127.0.0.1)"
            )
        if parts.query or parts.fragment:
            raise SettingsError(f"{source}: the redirect URI must not have a query or fragment")
        return value
    # Kept exactly as given: a token endpoint may end in "/" (django-oauth-toolkit's do) and an
    # issuer is compared character for character (RFC 9207).
    return value


def _as_bool(value: Any, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{source}: {value!r} is not a yes/no value (use 1/0, true/false)")


def _as_port(value: Any, source: str) -> int | None:
    if isinstance(value, bool):
        raise SettingsError(f"{source}: expected a port number")
    try:
        port = int(str(value).strip())
    except ValueError:
        raise SettingsError(f"{source}: {value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"{source}: port {port} is out of range (1-65535, or 0 for any free port)")
    return port or None


def _as_dir(value: Any, source: str) -> Path:
    text = _as_str(value, source)
    if not text:
        raise SettingsError(f"{source}: empty directory")
    return Path(os.path.expanduser(text))


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve the settings from every layer; raise :class:`SettingsError` on bad values."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    dotenv_path = cwd / ".env"
    src = _Sources(flags or {}, env, dotenv_path if dotenv_path.is_file() else None)

    found = src.get("config_dir", config=False)
    config_dir = _as_dir(*found) if found else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    src.config_path = locations.config_file(config_dir)
    config = _load_config_toml(src.config_path)
    keymap_raw = config.pop("keymap", {})
    theme = config.pop("theme", None)
    if theme is not None and (not isinstance(theme, str) or not theme.strip()):
        raise SettingsError(f"theme in {src.config_path}: expected a theme name (a string)")
    if not isinstance(keymap_raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in keymap_raw.items()
    ):
        raise SettingsError(f"{src.config_path}: [keymap] must map action names to key strings")
    unknown = sorted(set(config) - set(ENV_NAMES) - {"config_dir"})
    if unknown:
        raise SettingsError(f"{src.config_path}: unknown setting(s) {', '.join(unknown)}")
    src.config = config

    sources: dict[str, str] = {}
    untrusted: set[str] = set()

    def text(key: str) -> str | None:
        found = src.find(key)
        if found is None:
            return None
        value = _as_str(found[0], found[1])
        if value:
            sources[key] = found[1]
            explicit.add(key)
            if found[2] == DOTENV_LAYER:
                untrusted.add(key)
        if value and key in _URL_KEYS:
            value = _check_url(key, value, found[1])
        return value or None

    explicit: set[str] = set()
    values = {key: text(key) for key in ("client_id", "client_secret", "scope", "cc_scope", *_URL_KEYS)
              if key != "redirect_uri"}
    extra = src.find("authorize_params")
    authorize_params = _authorize_params(extra[0], extra[1]) if extra else ()
    if authorize_params and extra:
        sources["authorize_params"] = extra[1]
        explicit.add("authorize_params")
        if extra[2] == DOTENV_LAYER:
            untrusted.add("authorize_params")
    warnings: list[str] = list(src.ignored)
    redirect = _redirect_uri(src, warnings)
    values["redirect_uri"] = redirect[0] if redirect else None
    if redirect and redirect[2] == DOTENV_LAYER:
        untrusted.add("redirect_uri")

    found = src.get("token_format")
    token_format: str | None = None
    if found:
        token_format = _as_str(*found).lower()
        if token_format not in TOKEN_FORMATS:
            raise SettingsError(f"{found[1]}: token format {found[0]!r} is not 'json' or 'form'")
        sources["token_format"] = found[1]
        explicit.add("token_format")
    found = src.get("token_auth")
    token_auth: str | None = None
    if found:
        token_auth = _as_str(*found).lower()
        if token_auth not in TOKEN_AUTH_METHODS:
            raise SettingsError(f"{found[1]}: {found[0]!r} is not one of {', '.join(TOKEN_AUTH_METHODS)}")
        sources["token_auth"] = found[1]
        explicit.add("token_auth")

    profile_given = src.find("profile")
    if profile_given is not None and profile_given[2] == FLAG_LAYER and not _as_str(profile_given[0], profile_given[1]):
        # `--profile ''` (an unset variable in a script, say) is a mistake, not "the default".
        # An empty BONJORO_PROFILE is unset, as usual for environment variables.
        raise SettingsError(f"{profile_given[1]}: the profile name is empty")
    profile = text("profile") or "default"
    if not _PROFILE_RE.match(profile):
        raise SettingsError(
            f"{src.get('profile')[1]}: profile name {profile!r} must be letters, digits, '.', '_' or '-'"  # type: ignore[index]
        )

    port = src.find("callback_port")
    callback_port = _as_port(port[0], port[1]) if port else None
    if redirect and callback_port and port and port[2] < redirect[2]:
        # flags > env > .env > config: a --port (say) beats the port of a configured redirect URI.
        values["redirect_uri"] = _with_port(redirect[0], callback_port)
        sources["callback_port"] = port[1]
    elif redirect:
        sources["callback_port"] = redirect[1]
    elif port:
        sources["callback_port"] = port[1]
    if redirect:
        sources["redirect_uri"] = redirect[1]
    found = src.get("debug")
    debug = _as_bool(*found) if found else False

    dirs = {}
    for key, default in (("data_dir", platformdirs.user_data_dir), ("log_dir", platformdirs.user_log_dir)):
        found = src.get(key)
        dirs[key] = _as_dir(*found) if found else Path(default(APP_NAME, appauthor=False))

    if (values["base_url"] is None and values["token_url"] is None and values["issuer"] is None
            and values["client_id"] in (None, *SANDBOX_CLIENTS)):
        # No client, or one of the sandbox's own published clients: the built-in sandbox.
        target = SANDBOX
        values["client_id"] = values["client_id"] or SANDBOX_PUBLIC_CLIENT
        if values["client_id"] == SANDBOX_PUBLIC_CLIENT:
            values["client_secret"] = None  # the sandbox's public client must not present one
    else:
        target = LIVE
        # Every unset endpoint comes from ONE origin the user gave: the base URL, else the origin of
        # the endpoint they named — never Bonjoro's when another server is configured.
        # An issuer counts as the origin given (its metadata, read in open_session, fills the
        # endpoints: bonjoro_tui.auth.discovery); only the API base is derived from it here.
        given = next((k for k in ("base_url", "token_url", "authorize_url", "issuer") if values[k]), None)
        if given is None:
            base = LIVE_BASE_URL
            derived = _derive(base, revoke=False)
            derived["authorize_url"] = LIVE_AUTHORIZE_URL
        else:
            base = str(values["base_url"]).rstrip("/") if given == "base_url" else _origin_of(str(values[given]))
            derived = _derive(base, revoke=given == "base_url")  # a revocation path is only guessed under a base
            if given != "base_url":
                sources["base_url"] = f"derived from {sources[given]}"
                if given in untrusted:
                    untrusted.add("base_url")
        for key, value in derived.items():
            if values[key] is None and not (values["issuer"] and key in DISCOVERED_KEYS):
                values[key] = value
                if given is not None:
                    sources[key] = f"derived from {sources[given]}"
                    if given in untrusted:
                        untrusted.add(key)
                elif value is not None:
                    sources[key] = "the default (Bonjoro's published API)" if key != "authorize_url" else (
                        "the default (the seed article's; Bonjoro publishes none)"
                    )
        values["base_url"] = base

    # The body format and client authentication the token endpoint expects: Bonjoro's published
    # endpoint (live and the sandbox) takes JSON with the secret in it; any other server is an
    # RFC 6749 server — a form body, and HTTP Basic, which RFC 6749 §2.3.1 says it MUST support.
    defaults = token_endpoint_defaults(target, values["token_url"])
    if token_format is None:
        token_format, sources["token_format"] = defaults["token_format"]
    if token_auth is None:
        token_auth, sources["token_auth"] = defaults["token_auth"]

    return Settings(
        profile=profile,
        target=target,
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        redirect_uri=values["redirect_uri"],
        base_url=values["base_url"],
        authorize_url=values["authorize_url"],
        token_url=values["token_url"],
        revoke_url=values["revoke_url"],
        api_base=values["api_base"],
        token_format=token_format,
        token_auth=token_auth,
        data_dir=dirs["data_dir"],
        config_dir=config_dir,
        log_dir=dirs["log_dir"],
        debug=debug,
        callback_port=callback_port,
        scope=values["scope"],
        issuer=values["issuer"],
        userinfo_url=values["userinfo_url"],
        authorize_params=authorize_params,
        cc_scope=values["cc_scope"],
        explicit=frozenset(explicit),
        keymap=dict(keymap_raw),
        theme=theme.strip() if theme else None,
        sources=sources,
        warnings=warnings,
        untrusted=frozenset(untrusted),
    )


def token_endpoint_defaults(target: str, token_url: str | None) -> dict[str, tuple[str, str]]:
    """``{"token_format": (value, source), "token_auth": (value, source)}`` for a token endpoint
    whose body format and client authentication were not configured."""
    bonjoro_endpoint = target == SANDBOX or urlsplit(token_url or "").path == TOKEN_PATH
    return {
        "token_format": ("json", "the default (JSON, for Bonjoro's published token endpoint)") if bonjoro_endpoint
        else ("form", "the default (a form body, RFC 6749, for a token endpoint that is not Bonjoro's)"),
        "token_auth": ("client_secret_post", "the default (in the body, as Bonjoro's definition shows)")
        if bonjoro_endpoint else ("client_secret_basic", "the default (HTTP Basic, RFC 6749 §2.3.1)"),
    }


def check_url(key: str, value: str, source: str) -> str:
    """The checks every URL setting passes (http(s), plain http for loopback only, no
    credentials, a valid port); ``source`` names where the value came from in the message."""
    return _check_url(key, value, source)


def _authorize_params(value: Any, source: str) -> tuple[tuple[str, str], ...]:
    """BONJORO_AUTHORIZE_PARAMS: ``prompt=consent&audience=x`` (or, in config.toml, a table of
    strings), in order; repeated names are kept (RFC 8707 ``resource`` may repeat)."""
    if isinstance(value, dict):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise SettingsError(f"{source}: authorize_params must map parameter names to strings")
        pairs = [(k.strip(), v) for k, v in value.items()]
    else:
        text = _as_str(value, source)
        if not text:
            return ()
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise SettingsError(
                f"{source}: {text!r} is not a query string such as prompt=consent&audience=https://api.example"
            ) from None
    for name, _ in pairs:
        if not name:
            raise SettingsError(f"{source}: an authorization parameter has no name")
        if name.lower() in OWNED_AUTHORIZE_PARAMS:
            hint = " (use BONJORO_SCOPE)" if name.lower() == "scope" else ""
            raise SettingsError(
                f"{source}: bonjoro-tui sets the authorization parameter {name!r} itself; "
                f"it cannot be added{hint}"
            )
    return tuple(pairs)


def best_effort_dirs(
    flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> dict[str, Path]:
    """``config_dir``, ``data_dir``, ``log_dir`` as far as they can be resolved when
    :func:`load_settings` fails (for ``bonjoro-tui paths``): an unreadable ``.env`` or
    config file, or a bad directory value, is skipped and the default used."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    dotenv_path = cwd / ".env"
    try:
        src = _Sources(flags or {}, env, dotenv_path if dotenv_path.is_file() else None)
    except SettingsError:
        src = _Sources(flags or {}, env, None)

    def resolve(key: str, default: Callable[..., str], *, config: bool = True) -> Path:
        try:
            found = src.get(key, config=config)
            if found:
                return _as_dir(*found)
        except SettingsError:
            pass
        return Path(default(APP_NAME, appauthor=False))

    dirs = {"config_dir": resolve("config_dir", platformdirs.user_config_dir, config=False)}
    src.config_path = locations.config_file(dirs["config_dir"])
    try:
        src.config = _load_config_toml(src.config_path)
    except SettingsError:
        pass
    dirs["data_dir"] = resolve("data_dir", platformdirs.user_data_dir)
    dirs["log_dir"] = resolve("log_dir", platformdirs.user_log_dir)
    return dirs


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_port(uri: str, port: int) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))


def _is_loopback_http(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost"}


def _redirect_uri(src: _Sources, warnings: list[str]) -> tuple[str, str, int] | None:
    """(uri, source, layer) of the redirect URI in effect, or None.

    ``BONJORO_REDIRECT_URI`` (and the flag / config key) must be a loopback http URL. The
    seed's generic ``REDIRECT_URI`` is often another app's (a web app's ``https://…/callback``
    in the same ``.env``): one that is not a loopback http URL is "not ours", ignored with a
    warning, and the lookup goes on below it.
    """
    found = src.find("redirect_uri")
    while found is not None and found[3] == "REDIRECT_URI":
        value = _as_str(found[0], found[1])
        if not value or _is_loopback_http(value):
            break
        warnings.append(
            f"ignoring {found[1]}: {value!r} is not a loopback http URL, so it is not meant for "
            "bonjoro-tui (set BONJORO_REDIRECT_URI to fix one)"
        )
        found = src.find("redirect_uri", names=("BONJORO_REDIRECT_URI",))
    if found is None:
        return None
    value = _as_str(found[0], found[1])
    if not value:
        return None
    return _check_url("redirect_uri", value, found[1]), found[1], found[2]
