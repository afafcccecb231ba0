"""Figures 3, 4, 5: sign-in round trip, one refresh, 100 concurrent ``GET /me``.

Ours goes through the project's code (CodeLogin + the sandbox browser, BonjoroClient); the
baseline makes the same HTTP calls with plain httpx (and, for the sign-in, a minimal uvicorn
listener on 127.0.0.1 — the product's own rule: no hand-written HTTP servers). Both talk to the
same sandbox *process*, alternately. Each side has its own profile and refresh-token family.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import secrets
import socket
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import httpx
import uvicorn

from bench.common import Env, Row, Sample, median, miss, reps, run_code_login, time_ratio_row

SIGNIN_TARGET = 1.5
REFRESH_TARGET = 1.2
THROUGHPUT_TARGET = 0.9
TIMEOUT = 30.0


async def _interleave(ours, base, n: int, warmup: int = 2) -> Sample:
    sample = Sample()
    for i in range(warmup + n):
        a = await ours()
        b = await base()
        if i >= warmup:
            sample.add(a, b)
    return sample


# --------------------------------------------------------------------------- 3. sign-in


class _Listener(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        pass

    def capture_signals(self):  # noqa: D102 - the bench owns SIGINT
        import contextlib

        return contextlib.nullcontext()


async def _plain_signin(settings, http: httpx.AsyncClient, browser: httpx.AsyncClient, token_file: Path) -> dict:
    """Authorization code + PKCE with httpx alone: listener, authorize, callback, exchange, save, /me."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(24)
    loop = asyncio.get_running_loop()
    arrived: asyncio.Future = loop.create_future()

    async def app(scope, receive, send):  # the minimal callback endpoint
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"Signed in; you may close this tab."})
        if not arrived.done():
            arrived.set_result(parse_qs(scope["query_string"].decode()))

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    config = uvicorn.Config(app, log_config=None, log_level="error", access_log=False, lifespan="off", ws="none")
    server = _Listener(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.005)
    redirect_uri = f"http://127.0.0.1:{sock.getsockname()[1]}/callback"
    url = settings.authorize_url + "?" + urlencode(
        {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )

    async def play_browser() -> None:  # what sandbox.browser.approve does, in HTTP terms
        r = await browser.get(url)
        async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as deliver:
            await deliver.get(r.headers["location"])

    browsing = asyncio.create_task(play_browser())
    query = await arrived
    server.should_exit = True  # stops in the background
    if query.get("state") != [state]:
        raise RuntimeError("state mismatch")
    r = await http.post(
        settings.token_url,
        json={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect_uri,
            "client_id": settings.client_id,
            "code_verifier": verifier,
        },
    )
    r.raise_for_status()
    tokens = r.json()
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(tokens, f)
    me = await http.get(settings.api_base + "/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    me.raise_for_status()
    await browsing
    return {"serving": serving, "sock": sock, "tokens": tokens}


async def signin(env: Env) -> list[Row]:
    from bonjoro_tui.api.client import BonjoroClient
    from bonjoro_tui.sandbox.browser import approve
    from bonjoro_tui.store import TokenStore

    settings = env.settings("signin-ours")
    plain = env.settings("signin-plain")
    plain.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = TokenStore(settings.store_path)
    async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as http, httpx.AsyncClient(
        timeout=TIMEOUT, trust_env=False
    ) as http_plain, httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as browser:
        client = BonjoroClient(settings, store, http=http)

        async def ours() -> float:
            t = time.perf_counter()
            await run_code_login(settings, store, http, lambda url: approve(url, http=browser))
            await client.me()
            return time.perf_counter() - t

        async def base() -> float:
            t = time.perf_counter()
            left = await _plain_signin(plain, http_plain, browser, plain.data_dir / "tokens.json")
            elapsed = time.perf_counter() - t
            await left["serving"]  # the listener's shutdown, outside the timed part
            left["sock"].close()
            return elapsed

        sample = await _interleave(ours, base, reps(20, 3))
    return [
        time_ratio_row(
            "3. full sign-in vs the sandbox (listener, authorize, callback, exchange, save, /me)",
            sample,
            "httpx + uvicorn",
            SIGNIN_TARGET,
        )
    ]


# --------------------------------------------------------------------------- 4. refresh


async def refresh(env: Env) -> list[Row]:
    from bonjoro_tui.api.client import BonjoroClient
    from bonjoro_tui.sandbox.browser import approve
    from bonjoro_tui.store import TokenStore

    settings = env.settings("refresh-ours")
    plain = env.settings("refresh-plain")
    async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as http, httpx.AsyncClient(
        timeout=TIMEOUT, trust_env=False
    ) as http_plain:
        store = TokenStore(settings.store_path)
        await run_code_login(settings, store, http, approve)
        plain_store = TokenStore(plain.store_path)
        await run_code_login(plain, plain_store, http_plain, approve)
        refresh_token = [plain_store.load(plain.profile).tokens.refresh_token]
        client = BonjoroClient(settings, store, http=http)

        async def ours() -> float:
            t = time.perf_counter()
            await client.refresh_now()
            return time.perf_counter() - t

        durable_file = plain.data_dir / "tokens-durable.toml"

        async def base() -> float:
            # The same work as ours, without our code: the POST, then a durable write of the
            # bytes our store holds (written like any atomic save: temp file, fsync, rename,
            # fsync of the directory). Read before the timer: the write is what is compared.
            same_bytes = settings.store_path.read_bytes()
            t = time.perf_counter()
            r = await http_plain.post(
                plain.token_url,
                json={"grant_type": "refresh_token", "refresh_token": refresh_token[0], "client_id": plain.client_id},
            )
            r.raise_for_status()
            refresh_token[0] = r.json()["refresh_token"]
            durable_write(durable_file, same_bytes)
            return time.perf_counter() - t

        sample = await _interleave(ours, base, reps(60, 5), warmup=3)
    return [time_ratio_row("4. one refresh (POST token, rotate, save)", sample, "raw httpx POST + durable write", REFRESH_TARGET)]


def durable_write(path: Path, data: bytes) -> None:
    """``data`` in ``path`` for good: temp file, write, fsync, rename over, fsync the directory."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# --------------------------------------------------------------------------- 5. 100 concurrent GET /me


async def concurrent_me(env: Env, n: int = 100) -> list[Row]:
    from bonjoro_tui.api.client import DEFAULT_TIMEOUT, BonjoroClient
    from bonjoro_tui.store import TokenStore

    settings = env.settings("run")
    store = TokenStore(settings.store_path)
    token = store.load(settings.profile).tokens.access_token
    cpu = Sample()
    async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, trust_env=False) as http, httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT, trust_env=False
    ) as bare:
        client = BonjoroClient(settings, store, http=http)
        url = settings.api_base + "/me"
        headers = {"Authorization": f"Bearer {token}"}

        async def ours() -> float:
            t, c = time.perf_counter(), time.process_time()
            responses = await asyncio.gather(*(client.request("GET", "/me") for _ in range(n)))
            elapsed = time.perf_counter() - t
            cpu.ours.append(time.process_time() - c)
            if not all(r.status == 200 for r in responses):
                raise RuntimeError("GET /me failed")
            return elapsed

        async def base() -> float:
            t, c = time.perf_counter(), time.process_time()
            responses = await asyncio.gather(*(bare.get(url, headers=headers) for _ in range(n)))
            elapsed = time.perf_counter() - t
            cpu.base.append(time.process_time() - c)
            if not all(r.status_code == 200 for r in responses):
                raise RuntimeError("GET /me failed")
            return elapsed

        sample = await _interleave(ours, base, reps(15, 3), warmup=2)
    throughput = 1 / sample.ratio  # ours req/s over baseline req/s, per pair
    ours_rps, base_rps = n / median(sample.ours), n / median(sample.base)
    return [
        Row(
            f"5. {n} concurrent GET /me, throughput",
            f"{ours_rps:.0f} req/s ({median(cpu.ours) / n * 1000:.2f} ms client CPU/req)",
            f"{base_rps:.0f} req/s ({median(cpu.base[-len(cpu.ours):]) / n * 1000:.2f} ms) (bare AsyncClient)",
            f"{throughput:.2f}",
            f"≥ {THROUGHPUT_TARGET}",
            throughput >= THROUGHPUT_TARGET,
            miss(throughput, THROUGHPUT_TARGET, higher_is_better=True),
        )
    ]
