"""The dashboard's side of "logout tells the truth" (issue 12): a revocation that fails keeps the
tokens, says so, and offers what `bonjoro-tui logout --forget` does — a deliberate second choice."""

from __future__ import annotations

from bonjoro_tui.tui.modals.confirm import ConfirmScreen

from .helpers import make_app, notifications, start_code_flow, until


async def test_a_failed_revocation_keeps_the_tokens_and_offers_to_forget_them(session, clock):
    app = make_app(session, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await start_code_flow(pilot)
        await pilot.press("a")
        await until(pilot, lambda: screen.phase == "done", "signed in")
        await pilot.press("enter")
        session.sandbox.state.fail_next(2, 503, "any")  # the revocation endpoint is down

        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked first")
        await pilot.click("#confirm-yes")
        await until(pilot, lambda: any("could not revoke" in m for m in notifications(app)), "reported")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "offers to forget")
        assert session.store.load(session.settings.profile) is not None  # kept meanwhile

        await pilot.click("#confirm-yes")  # forget them here anyway
        await until(pilot, lambda: app.profile is None, "forgotten")
        assert session.store.load(session.settings.profile) is None
