"""Hostile requests at the loopback callback server, over real sockets (issue 5, part 1).

≥ 10,000 requests from a corpus (every attack named in the issue) plus hypothesis-generated
ones; then slow-drip and idle connections past limit_concurrency. Afterwards the server is
still up, no forged callback was accepted, no connection or memory was left behind, and the
genuine callback completes (once: its replay is refused).
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adversarial import figures
from adversarial.hostile import ErrorLogCounter, Tally, double_encode, drip, exchange, flood, port_open, quote, request, rss_kib
from bonjoro_tui.plumbing import serving
from bonjoro_tui.auth.callback import CallbackServer

ISSUER = "http://127.0.0.1:9"
REFUSED = {400, 404, 405, 421}
BUSY = 503  # uvicorn's limit_concurrency answer: the server is alive and says so
MARKUP = b"<script>alert(1)</script>"


def corpus(port: int, state: str) -> list[tuple[int, bytes, set[int]]]:
    """(requests in it, payload, statuses allowed) for every attack of the issue.

    Entries carrying the *right* state are there to prove that the right state alone is
    not enough (wrong host, method, path, a repeated parameter)."""
    host = f"127.0.0.1:{port}"
    wrong = secrets.token_urlsafe(32)
    forged = secrets.token_urlsafe(24)
    ok_q = f"code={forged}&state={state}&iss={quote(ISSUER, safe='')}"
    C: list[tuple[int, bytes, set[int]]] = []

    def add(payload: bytes, allowed: set[int], n: int = 1) -> None:
        C.append((n, payload, allowed))

    add(secrets.token_bytes(64) + b"\r\n\r\n", {400})
    add(b"\x00\xff\xfe GET /callback\r\n\r\n", {400})
    add(b"GET /callback?" + b"a" * 20000 + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n", {400})
    add(request("GET", f"/callback?code={forged}&state={wrong}", host, headers=[("X-Big", "b" * 20000)]), {400})
    add(request("GET", f"/callback?code={forged}&state={wrong}", host,
                headers=[(f"X-H{i}", "v" * 40) for i in range(500)]), {400})
    add(request("GET", f"/callback?code={forged}&state={wrong}", host, body=b"code=x&state=y"), {400})
    add(request("GET", f"/callback?code={forged}&state={wrong}", host,
                headers=[("Transfer-Encoding", "chunked")], body=b"zz\r\nnot-a-chunk\r\n"), {400})
    add(request("POST", f"/callback?code={forged}&state={wrong}", host,
                headers=[("Content-Length", "4"), ("Transfer-Encoding", "chunked")], body=b"0\r\n\r\n"), {400, 405})
    add(request("POST", "/callback", host, headers=[("Content-Type", "application/x-www-form-urlencoded")],
                body=ok_q.encode()), {405})
    for method in ("POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW", "PROPFIND"):
        add(request(method, f"/callback?{ok_q}", host), {405})
    add(request("G\x01T", f"/callback?{ok_q}", host), {400})
    add(request("GET", f"/callback?code={forged}&state={wrong}", None, version="1.0", close=False), {421})
    add(request("GET", f"/callback?code={forged}&state={wrong}", host, version="1.0", close=False), {400})
    add(request("GET", f"/callback?{ok_q}", None, version="1.0", close=False), {421})
    add(request("GET", f"/callback?code={forged}&state={wrong}", host, version="2.0"), {400})
    # Pipelined: five refusals on one keep-alive connection, then close.
    pipe = b"".join(request("GET", f"/callback?code={forged}&state={secrets.token_urlsafe(8)}", host, close=False)
                    for _ in range(4)) + request("GET", f"/callback?code={forged}&state={wrong}", host)
    add(pipe, {400}, n=5)
    # Non-UTF-8, double-encoded, control characters, markup.
    add(request("GET", f"/callback?code=%ff%fe&state=%c3%28{state[:-2]}", host), {400})
    add(request("GET", b"/callback?code=\xff&state=" + state.encode() + b"\xfe", host), {400})
    add(request("GET", f"/callback?code={forged}&state={double_encode(state)}", host), {400})
    add(request("GET", f"/callback?code={forged}&state={quote(quote(state + '%'))}", host), {400})
    add(request("GET", f"/callback?code=%0d%0aSet-Cookie:%20x=1&state={wrong}", host), {400})
    add(request("GET", f"/callback?error=%3Cscript%3Ealert(1)%3C/script%3E&state={wrong}", host), {400})
    add(request("GET", f"/callback?error={quote(MARKUP)}&state={state}&state={wrong}", host), {400})
    # Duplicated parameters, the right state among them.
    add(request("GET", f"/callback?code={forged}&state={state}&state={state}", host), {400})
    add(request("GET", f"/callback?code={forged}&state={wrong}&state={state}", host), {400})
    add(request("GET", f"/callback?code={forged}&code=other&state={state}", host), {400})
    add(request("GET", f"/callback?{ok_q}&iss=http://evil.example", host), {400})
    add(request("GET", f"/callback?code={forged}&state={state};state={wrong}", host), {400})
    # DNS rebinding / wrong authority, with the right state.
    for h in ("evil.example", f"evil.example:{port}", "127.0.0.1", f"localhost:{port}", f"127.0.0.1:{port + 1}",
              f"[::1]:{port}", f"127.0.0.1:{port}.evil.example", f"127.0.0.1:{port}@evil.example", ""):
        add(request("GET", f"/callback?{ok_q}", h), {400, 421})
    add(request("GET", f"http://evil.example/callback?{ok_q}", host), {404})
    add(request("GET", f"/callback?{ok_q}", "evil.example", headers=[("Host", host)]), {400})
    add(request("GET", f"/callback?{ok_q}", host, headers=[("Host", "evil.example")]), {400})
    # Wrong, missing, empty state; missing code; wrong paths.
    add(request("GET", f"/callback?code={forged}&state={wrong}", host), {400})
    add(request("GET", f"/callback?code={forged}", host), {400})
    add(request("GET", f"/callback?code={forged}&state=", host), {400})
    add(request("GET", f"/callback?state={state}", host), {400})
    add(request("GET", f"/callback?error=access_denied&state={wrong}", host), {400})
    for path in ("/", "/callback/", "/Callback", "//callback", "/callback/..", "/favicon.ico"):
        add(request("GET", f"{path}?{ok_q}", host), {404})
    return C


def _structured(port: int):
    host = f"127.0.0.1:{port}"
    keys = st.sampled_from(["code", "state", "error", "error_description", "iss", "x"]) | st.text(max_size=6)
    pairs = st.lists(st.tuples(keys, st.binary(max_size=40)), max_size=6)
    query = pairs.map(lambda ps: "&".join(quote(k.encode("utf-8", "surrogatepass"), safe="") + "=" + quote(v, safe="")
                                          for k, v in ps))
    method = st.sampled_from(["GET", "GET", "GET", "POST", "HEAD", "PUT", "BREW", "get"])
    path = st.sampled_from(["/callback", "/callback", "/", "/cb", "//callback"])
    hosts = st.sampled_from([host, host, f"evil.example:{port}", "127.0.0.1", f"localhost:{port}", None])
    version = st.sampled_from(["1.1", "1.1", "1.0", "2.0"])
    printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
    header = st.tuples(st.from_regex(r"X-[A-Za-z]{1,10}", fullmatch=True), st.text(printable, max_size=30))
    structured = st.builds(
        lambda m, p, q, h, v, hs, b: request(m, f"{p}?{q}", h, version=v, headers=hs, body=b),
        method, path, query, hosts, version, st.lists(header, max_size=3), st.binary(max_size=48),
    )
    raw = st.binary(min_size=1, max_size=160).map(lambda b: b + b"\r\n\r\n")
    return st.one_of(structured, structured, raw)


def test_callback_server_survives_hostile_requests(scale, monkeypatch):
    monkeypatch.setattr(serving, "REQUEST_TIMEOUT", 1.0)  # slow senders are cut after 1 s (10 s in use)
    errors = ErrorLogCounter()
    for name in ("uvicorn.error", "bonjoro_tui"):
        logging.getLogger(name).addHandler(errors)
    loop = asyncio.new_event_loop()
    state = secrets.token_urlsafe(32)
    server = CallbackServer(state, expected_issuer=ISSUER, timeout=3600)
    tally = Tally()
    unexpected: list[tuple[bytes, list[int]]] = []

    def check(payload: bytes, codes: list[int], data: bytes, allowed: set[int] | None = None) -> None:
        ok = REFUSED | {BUSY} if allowed is None else allowed | {BUSY}
        if not codes or any(c not in ok for c in codes) or MARKUP in data:
            unexpected.append((payload[:120], codes))

    try:
        port = int(loop.run_until_complete(server.start()).split(":")[2].split("/")[0])
        items = corpus(port, state)
        by_payload = {p: allowed for _, p, allowed in items}

        def check_corpus(payload, codes, data):
            check(payload, codes, data, by_payload.get(payload))

        # Warm-up round, then the baseline for memory.
        loop.run_until_complete(flood(port, [(n, p) for n, p, _ in items], tally, concurrency=16,
                                      watch=(MARKUP,), check=check_corpus))
        rss_before = rss_kib()
        rounds = 110 * scale
        for _ in range(rounds):
            fresh = corpus(port, state)
            by_payload = {p: allowed for _, p, allowed in fresh}
            loop.run_until_complete(flood(port, [(n, p) for n, p, _ in fresh], tally, concurrency=16,
                                          watch=(MARKUP,), check=check_corpus))
        del fresh, by_payload
        rss_growth = rss_kib() - rss_before  # the corpus rounds only: hypothesis keeps its own data

        @settings(max_examples=150 * scale, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.lists(_structured(port), min_size=20, max_size=40))
        def generated(batch):
            loop.run_until_complete(flood(port, [(1, p) for p in batch], tally, concurrency=16, check=check))

        generated()

        # Slow drip and idle: 40 connections (above limit_concurrency = 32) that never finish.
        async def slow_phase() -> list[bool]:
            head = f"GET /callback?state={state} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
            return await asyncio.gather(*(drip(port, None if i % 2 == 0 else head) for i in range(40)))

        dropped = loop.run_until_complete(slow_phase())
        tally.requests += len(dropped)
        assert all(dropped), f"{dropped.count(False)} slow or idle connections were never dropped"

        # The server is still up, nothing was accepted, nothing was left behind.
        assert server.listening and port_open(port)
        assert not server._outcome.done(), "a forged callback ended the wait"
        for _ in range(100):  # the server sees the last aborted connections go within a few loop turns
            if not server._server.server_state.connections:
                break
            loop.run_until_complete(asyncio.sleep(0.05))
        assert len(server._server.server_state.connections) == 0
        assert rss_growth < 32 * 1024, f"RSS grew by {rss_growth} KiB during the flood"
        assert unexpected == [], unexpected[:5]
        assert tally.statuses.get(200, 0) == 0 and tally.statuses.get(500, 0) == 0
        assert errors.records == []
        assert tally.requests >= 10_000 * scale
        assert server.rejected > 1000

        # The genuine callback completes, once; its replay is refused.
        genuine = secrets.token_urlsafe(24)
        real = request("GET", f"/callback?code={genuine}&state={state}&iss={quote(ISSUER, safe='')}", f"127.0.0.1:{port}")
        first = loop.run_until_complete(exchange(port, real))
        replay = loop.run_until_complete(exchange(port, real))
        result = loop.run_until_complete(server.wait())
        assert first.startswith(b"HTTP/1.1 200 ") and replay.startswith(b"HTTP/1.1 409 ")
        assert result.code == genuine and result.state == state
        assert not port_open(port)
    finally:
        loop.run_until_complete(server.close())
        loop.close()
        for name in ("uvicorn.error", "bonjoro_tui"):
            logging.getLogger(name).removeHandler(errors)

    figures.add("callback server: hostile requests sent", tally.requests)
    figures.add("callback server: forged callbacks accepted", tally.statuses.get(200, 0))
    figures.add("callback server: crashes (5xx other than busy, ERROR logs)", tally.statuses.get(500, 0) + len(errors.records))
    figures.put("callback server: busy (503) answers", tally.statuses.get(BUSY, 0))
    figures.put("callback server: RSS growth over the corpus rounds (KiB)", rss_growth)
    figures.put("callback server: slow/idle connections dropped", f"{sum(dropped)}/{len(dropped)}")
