"""Django settings of the interop authorization server: django-oauth-toolkit as its documentation
sets it up (``/o/`` prefix, login through ``django.contrib.auth``), with the settings a careful
deployment uses today. Read from the environment set by ``dot_server.__main__``:
``DOT_HARNESS_DB`` (the sqlite file) and ``DOT_HARNESS_OIDC_KEY`` (a PEM RSA key, made per run)."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = "interop-tests-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "dot_server.urls"
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "dot_server",
]

MIDDLEWARE = [
    "dot_server.views.RecordExchanges",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [str(HERE / "templates")],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DOT_HARNESS_DB", str(HERE / "unused.sqlite3")),
        # The tests read the token tables from another process while the server writes.
        "OPTIONS": {"timeout": 10},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Fast hashing: a user's password and the hashed client secrets are checked on every request.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "/accounts/login/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    # DOT's warnings (a refused redirect URI, a reused refresh token) end up in the server's stderr,
    # which the fixture keeps for a failing test's report.
    "loggers": {
        "oauth2_provider": {"handlers": ["stderr"], "level": "INFO"},
        "django.request": {"handlers": ["stderr"], "level": "WARNING"},
    },
}

OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read your profile", "write": "Change things", "introspection": "Introspect tokens"},
    "DEFAULT_SCOPES": ["read"],
    "PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "REQUEST_APPROVAL_PROMPT": "force",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    # RFC 9700 behaviour gates (DOT 3.x; scheduled to become the defaults in 4.0): only S256,
    # no implicit or password grant, no token in a query string, ``iss`` on the authorization
    # response (RFC 9207), tokens stored only as checksums.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    # OpenID Connect, for its discovery document at /o/.well-known/openid-configuration.
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": os.environ.get("DOT_HARNESS_OIDC_KEY", ""),
}
