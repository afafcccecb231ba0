"""Bonjoro as it most likely is (issue 12): Laravel Passport. The sandbox's ``passport`` knob
answers as older Passport does — no GET /me (Bonjoro publishes none), a dead refresh token as
401 invalid_request "The refresh token is invalid." — and every fallback is exercised here
against it, over real loopback sockets."""

from __future__ import annotations

import pytest

from bonjoro_tui.account.identity import token_subject
from bonjoro_tui.account.methods import SignInMethod
from bonjoro_tui.account.session import open_session
from bonjoro_tui.account.signin import SignIn
from bonjoro_tui.api.errors import SignInAgain
from bonjoro_tui.auth.login import LoginStep
from bonjoro_tui.settings import load_settings


@pytest.fixture
async def session():
    s = open_session(load_settings(), sandbox_options={"auto_approve": True})
    s.sandbox.state.set_knobs(passport=True)
    yield s
    await s.aclose()


async def sign_in(session, method, **kwargs):
    steps: list[tuple[LoginStep, str]] = []
    done = await SignIn(session, on_step=lambda step, detail: steps.append((step, detail))).run(
        method, open_browser=lambda url: False, timeout=10, **kwargs)
    return done, steps


async def test_without_get_me_the_user_comes_from_the_published_users_read(session):
    import asyncio

    from bonjoro_tui.account.sandbox import approve_in_sandbox

    signin = SignIn(session)
    urls: list[str] = []

    def opened(url: str) -> bool:
        urls.append(url)
        asyncio.get_running_loop().create_task(approve_in_sandbox(url))
        return True

    done = await signin.run(SignInMethod.CODE, open_browser=opened, timeout=10)
    assert token_subject(done.profile.tokens.access_token)  # a JWT naming its user
    assert done.identity_error is None, done.identity_error
    assert done.identity is not None and done.identity.name == "Alex Sandbox"
    assert session.sandbox.state.stats()["api_requests"] >= 2  # /me (404), then /users/{id}


async def test_an_api_key_is_checked_with_a_published_read_when_get_me_is_not_served(session):
    done, steps = await sign_in(session, SignInMethod.API_KEY, api_key="sandbox-api-key")
    checking = [detail for step, detail in steps if step is LoginStep.CHECKING]
    assert checking[-1].startswith("GET /me is not served here; GET /users?limit=1 accepted")
    assert done.profile.method == "api_key"
    # An opaque key names no user: the sign-in stands, and says why there is no identity.
    assert done.identity is None and "names no user" in str(done.identity_error)


async def test_a_dead_refresh_token_answered_as_passport_does_signs_out_cleanly(session):
    import asyncio

    from bonjoro_tui.account.sandbox import approve_in_sandbox

    def opened(url: str) -> bool:
        asyncio.get_running_loop().create_task(approve_in_sandbox(url))
        return True

    code_done = await SignIn(session).run(SignInMethod.CODE, open_browser=opened, timeout=10)
    assert code_done.profile.tokens.refresh_token
    session.sandbox.state.revoke_all()
    client = await session.client_ready()
    with pytest.raises(SignInAgain, match="The refresh token is invalid"):
        await client.refresh_now()
    assert session.store.load(session.settings.profile) is None  # signed out, cleanly
