"""The sandbox's two HTML pages: consent and authorization error.

Every reflected value goes through ``html.escape``; the pages load nothing, cannot be framed,
leak no Referer, and their only inline style is allowed by its hash in the CSP.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Mapping
from urllib.parse import urlsplit

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "h1{font-size:1.4rem}.box{border:1px solid #ddd;border-radius:8px;padding:1rem 1.25rem}"
    "dt{font-weight:600;margin-top:.5rem}dd{margin:0;word-break:break-all}"
    "button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem;border-radius:6px;border:1px solid #888}"
    "button[value=approve]{background:#fc5a00;color:#fff;border-color:#fc5a00}.err{color:#a00}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")


def security_headers(form_targets: tuple[str, ...] = ()) -> dict[str, str]:
    """Headers for both pages. ``form_targets``: origins the consent form may end up at.

    Browsers apply ``form-action`` to the redirect that follows a form post too, so the
    client's callback origin must be listed next to ``'self'``.
    """
    form_action = " ".join(("'self'",) + form_targets) if form_targets else "'none'"
    csp = (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return {
        "content-security-policy": csp,
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
        "pragma": "no-cache",
    }


def origin_of(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def consent_page(*, request_id: str, client_name: str, client_id: str, user: Mapping[str, str],
                 redirect_uri: str, scope: str, state: str | None) -> str:
    details = [
        ("Application", f"{client_name} ({client_id})"),
        ("Signed in as", f"{user['name']} <{user['email']}>"),
        ("Access requested", scope),
        ("You will be sent back to", redirect_uri),
    ]
    if state:
        details.append(("State", state))
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in details)
    body = (
        "<h1>Bonjoro sandbox — authorize access</h1>"
        f"<div class=\"box\"><p><strong>{escape(client_name)}</strong> wants to use your Bonjoro "
        f"sandbox account.</p><dl>{rows}</dl>"
        "<form method=\"post\" action=\"/oauth/authorize\">"
        f"<input type=\"hidden\" name=\"request_id\" value=\"{escape(request_id)}\">"
        "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>"
        "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>"
        "</form></div><p>This is a local sandbox: no real Bonjoro account is involved.</p>"
    )
    return _page("Authorize — Bonjoro sandbox", body)


def error_page(error: str, description: str) -> str:
    body = (
        "<h1>Bonjoro sandbox — authorization failed</h1>"
        f"<div class=\"box\"><p class=\"err\"><strong>{escape(error)}</strong></p><p>{escape(description)}</p>"
        "<p>The application sent an authorization request the sandbox cannot accept, so you are "
        "not being sent back to it. Close this page and try again from the application.</p></div>"
    )
    return _page("Authorization error — Bonjoro sandbox", body)
