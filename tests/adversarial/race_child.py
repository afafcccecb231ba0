"""One racing process: N coroutines call the API at once on a token its clock says is expired.

argv: sandbox URL, clock offset (s), coroutines. Prints "ready", waits for a line on stdin,
then prints one JSON line: statuses, SHA-256 digests of the bearer tokens it sent, refreshes
it performed itself. Digests only: a token never reaches this process's output."""

import asyncio
import hashlib
import json
import sys
import time

import httpx

from bonjoro_tui.api.client import BonjoroClient
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import TokenStore


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def race(url: str, offset: float, n: int, go) -> dict:
    settings = load_settings().resolved_for_sandbox(url)
    store = TokenStore(settings.store_path)
    sent: set[str] = set()

    async def hook(request: httpx.Request) -> None:
        value = request.headers.get("authorization", "")
        if value.startswith("Bearer "):
            sent.add(digest(value[7:]))

    async with httpx.AsyncClient(trust_env=False, timeout=30, event_hooks={"request": [hook]}) as http:
        client = BonjoroClient(settings, store, http=http, now=lambda: time.time() + offset)
        await go()
        responses = await asyncio.gather(*(client.request("GET", "/me") for _ in range(n)))
    return {"statuses": [r.status for r in responses], "sent": sorted(sent), "refreshes": client.auth.refresh_count}


if __name__ == "__main__":
    async def go() -> None:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    result = asyncio.run(race(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), go))
    print(json.dumps(result), flush=True)
