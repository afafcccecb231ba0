"""account/signin.py: SignIn.run for every method against the real in-process sandbox (the session
of ``open_session``, over loopback sockets): the steps it reports, in order; who signed in; a
failing ``/me`` after the tokens are saved; cancelling."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

import pytest

from bonjoro_tui.account.identity import Identity
from bonjoro_tui.account.methods import SignInMethod
from bonjoro_tui.account.session import open_session
from bonjoro_tui.account.signin import SignedIn, SignIn
from bonjoro_tui.api.client import ApiError
from bonjoro_tui.auth.errors import ApiKeyRejected, LoginCancelled, LoginError
from bonjoro_tui.auth.login import LoginStep
from bonjoro_tui.settings import SANDBOX_CONFIDENTIAL_CLIENT, SANDBOX_PUBLIC_CLIENT, load_settings
from support import ApprovingBrowser, redirect_browser

pytestmark = pytest.mark.integration

S = LoginStep
CODE_STEPS = [S.PREPARE, S.LISTENING, S.BROWSER, S.WAITING, S.CODE_RECEIVED, S.EXCHANGING, S.SAVED, S.PROFILE]
STEPS = {
    SignInMethod.CODE: CODE_STEPS,
    SignInMethod.CLIENT_CREDENTIALS: [S.EXCHANGING, S.SAVED, S.PROFILE],
    SignInMethod.API_KEY: [S.CHECKING, S.SAVED, S.PROFILE],
}
API_KEY = "sandbox-api-key"  # the sandbox's published key
ME_NAME, ME_EMAIL = "Alex Sandbox", "alex.sandbox@sandbox.bonjoro.invalid"


def start(auto_approve: bool = True):
    return open_session(load_settings(), sandbox_options={"auto_approve": auto_approve})


@pytest.fixture
async def session():
    s = start()
    yield s
    await s.aclose()


class Steps(list):
    """on_step: records (step, detail), and runs ``at[step]`` when that step is reported."""

    def __init__(self, **at) -> None:
        super().__init__()
        self.at = at

    def __call__(self, step: LoginStep, detail: str) -> None:
        self.append((step, detail))
        if step.value in self.at:
            self.at[step.value]()

    @property
    def names(self) -> list[LoginStep]:
        return [step for step, _ in self]


async def run(session, method: SignInMethod, steps: Steps, **kwargs) -> SignedIn:
    kwargs.setdefault("api_key", API_KEY if method is SignInMethod.API_KEY else None)
    if method is SignInMethod.CODE:
        kwargs.setdefault("open_browser", redirect_browser())  # the sandbox approves on its own
        kwargs.setdefault("timeout", 20)
    return await SignIn(session, on_step=steps).run(method, **kwargs)


def assert_saved(session, done: SignedIn) -> None:
    stored = session.store.load(session.settings.profile)
    assert stored is not None
    assert stored.tokens.access_token == done.profile.tokens.access_token
    assert stored.method == done.profile.method


@pytest.mark.parametrize("method", list(SignInMethod), ids=lambda m: m.cli_name)
async def test_each_method_reports_its_steps_in_order_and_who_signed_in(session, method):
    steps = Steps()
    done = await run(session, method, steps)
    assert steps.names == STEPS[method]
    assert steps[-1] == (S.PROFILE, "GET /me")
    assert steps[-2][1].endswith(str(session.store.path))  # SAVED names the store
    assert done.profile.method == method
    assert done.identity is not None and done.identity_error is None
    assert (done.identity.name, done.identity.email) == (ME_NAME, ME_EMAIL)
    assert done.identity == Identity.from_me(done.me) and done.me["name"] == ME_NAME
    assert_saved(session, done)


async def test_code_at_the_consent_page_with_the_sandbox_browser():
    """Without auto_approve: the user approves at the sandbox's consent page (support.ApprovingBrowser)."""
    session = start(auto_approve=False)
    browser = ApprovingBrowser()
    try:
        steps = Steps()
        done = await run(session, SignInMethod.CODE, steps, open_browser=browser)
        await browser.settle()
        assert steps.names == CODE_STEPS
        assert done.identity is not None and done.identity.name == ME_NAME
        assert_saved(session, done)
    finally:
        await session.aclose()


async def test_code_waits_for_a_pasted_url_without_a_browser_and_cancel_ends_it(session):
    signin = SignIn(session, on_step=(steps := Steps()))
    task = asyncio.ensure_future(signin.run(SignInMethod.CODE, open_browser=lambda url: False, timeout=20))
    for _ in range(200):
        if S.WAITING in steps.names:
            break
        await asyncio.sleep(0.02)
    assert dict(steps)[S.BROWSER] == "open the URL in a browser, or paste the redirect URL"
    assert signin.authorization_url.startswith(session.settings.authorize_url)
    assert signin.redirect_uri.startswith("http://127.0.0.1:")
    with pytest.raises(LoginError):
        signin.paste(f"{signin.redirect_uri}?code=forged&state=not-the-state")  # refused; the wait goes on
    assert not task.done()
    redirect_uri = signin.redirect_uri
    signin.cancel()
    with pytest.raises(LoginCancelled):
        await task
    assert signin.authorization_url is None
    with socket.socket() as probe:  # the callback server is closed
        assert probe.connect_ex(("127.0.0.1", urlsplit(redirect_uri).port)) != 0
    assert session.store.load(session.settings.profile) is None


async def test_client_credentials_use_the_sandboxs_confidential_client(session):
    assert session.settings.client_id == SANDBOX_PUBLIC_CLIENT
    done = await run(session, SignInMethod.CLIENT_CREDENTIALS, Steps())
    assert done.profile.client_id == SANDBOX_CONFIDENTIAL_CLIENT


async def test_an_api_key_is_stripped_checked_then_saved_without_expiry(session):
    steps = Steps()
    done = await run(session, SignInMethod.API_KEY, steps, api_key=f"  {API_KEY}\n")
    assert done.profile.tokens.access_token == API_KEY and done.profile.tokens.expires_at is None
    assert steps[0][0] == S.CHECKING and API_KEY not in steps[0][1]  # the key is masked in the detail


async def test_a_refused_api_key_is_not_saved(session):
    steps = Steps()
    with pytest.raises(ApiKeyRejected):
        await run(session, SignInMethod.API_KEY, steps, api_key="wrong-key-0123456789")
    assert steps.names == [S.CHECKING]
    assert session.store.load(session.settings.profile) is None


@pytest.mark.parametrize("method", list(SignInMethod), ids=lambda m: m.cli_name)
async def test_a_failing_me_leaves_the_identity_out_and_the_sign_in_saved(session, method):
    # The sandbox answers the next API request — the /me after the tokens are saved — with a 500.
    steps = Steps(SAVED=lambda: session.sandbox.state.fail_next(1, 500, "api"))
    done = await run(session, method, steps)
    assert steps.names == STEPS[method]
    assert done.identity is None and done.me is None
    assert isinstance(done.identity_error, ApiError) and "500" in str(done.identity_error)
    assert_saved(session, done)


async def test_cancel_before_the_code_flow_starts(session):
    opened: list[str] = []
    steps = Steps()
    signin = SignIn(session, on_step=steps)
    signin.cancel()
    with pytest.raises(LoginCancelled):
        await signin.run(SignInMethod.CODE, open_browser=lambda url: opened.append(url) or True, timeout=20)
    assert steps == [] and opened == []
    assert signin.authorization_url is None
    assert session.store.load(session.settings.profile) is None


async def test_paste_before_a_code_flow_waits_is_refused(session):
    with pytest.raises(LoginError, match="not waiting"):
        SignIn(session).paste("http://127.0.0.1:1/callback?code=x&state=y")


async def test_a_client_credentials_sign_in_makes_one_token_request_even_when_me_answers_401(session):
    """Issue 12: the /me right after a client-credentials grant answered 401 (as a server whose
    /me needs a user does) was taken for a stale token: a second grant, and a second 401."""
    steps = Steps(SAVED=lambda: session.sandbox.state.fail_next(1, 401, "api"))
    done = await run(session, SignInMethod.CLIENT_CREDENTIALS, steps)
    grants = session.sandbox.state.stats()["token_requests"]
    assert grants == {"client_credentials": 1}, grants
    assert done.identity is None and "401" in str(done.identity_error)
    assert_saved(session, done)
