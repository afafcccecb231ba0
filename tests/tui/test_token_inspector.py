"""The token inspector on the status screen (t): a JWT's header and claims decoded and labelled
not verified, exp against the stored expiry, an opaque token said to be one; the token masked."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

from bonjoro_tui.tokens import TokenSet
from bonjoro_tui.tui.modals.token import TokenScreen

from .fakes import FakeSession
from .helpers import make_app
from .screen import screen_text


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_a_jwt_is_decoded_not_verified_and_a_disagreeing_exp_is_flagged_then_an_opaque_token():
    session = FakeSession()
    p = session.sign_in(lifetime=3600)
    now = session.now()
    token = f"{b64({'typ': 'JWT', 'alg': 'HS256'})}.{b64({'sub': 'u-42', 'iat': now, 'exp': now + 7200, 'client_secret': 'do-not-show-me-please'})}.c2ln"
    session.store.save(replace(p, tokens=TokenSet(token, now, refresh_token="r-0123456789abcdef", expires_at=now + 3600)))
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        assert isinstance(app.screen, TokenScreen)
        text = screen_text(app)
        assert "NOT VERIFIED" in text and "u-42" in text and "HS256" in text
        assert "disagree by 1h" in text and "exp is later" in text
        assert "2027-01-15 08:00:00 UTC" in text  # iat as a time
        assert token not in text and "do-not-show-me-please" not in text and "client_secret" in text
        await pilot.press("escape")
        # An opaque token (an API key, a random string): said so, nothing decoded.
        session.store.save(replace(p, tokens=TokenSet("opaque-token-value-0123456789", now, expires_at=now + 60)))
        app.reload_profile()
        await pilot.press("t")
        text = screen_text(app)
        assert "Not decoded: not a JWT" in text and "opaque-token-value-0123456789" not in text
