"""``api`` (and ``api --paginate``) on a pipe: a JSON body whose bytes are clean is written as the
server sent it, anything else is encoded again as before (issue 16, figure 12d).

In process: ``cmd_api`` with a real BonjoroClient against respx, stdout captured as bytes. Each
output is compared with what the command wrote before the change — the body parsed and
encoded again, compact, with every control, bidi and invisible character as a ``\\uXXXX``
escape (``BEFORE`` below spells that out independently of ``safetext``). Equal byte for byte for
a compact body (the sandbox's, and Bonjoro's own encoder's spelling) and for every hostile one;
a body in another spelling (spaces, ``\\/``, ``\\u00e9``) is now the server's own bytes, which
read back to the same JSON.
"""

from __future__ import annotations

import json
import re
import sys
from types import SimpleNamespace

import httpx
import pytest
import respx

from adversarial.hostile_text import forbidden_bytes_in
from bonjoro_tui.api.client import BonjoroClient
from bonjoro_tui.cli import commands
from bonjoro_tui.cli.parser import build_parser
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet

BASE = "https://bonjoro.test"
API = BASE + "/api/v2"
T0 = 1_800_000_000.0

# What the command wrote before: independent of bonjoro_tui.safetext, on purpose.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u2028-\u202e"
                     "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]")


def before(body: bytes, *, pretty: bool = False) -> bytes:
    data = json.loads(body)
    text = json.dumps(data, ensure_ascii=False, indent=2 if pretty else None,
                      separators=(",", ": ") if pretty else (",", ":"))
    text = _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return (text + "\n").encode("utf-8", errors="surrogatepass")


def envelope(page: int, last: int, items: list | None = None) -> dict:
    return {"current_page": page, "data": items if items is not None else [{"id": f"g{page}", "name": "Zoë — 日本"}],
            "next_page_url": f"{API}/greets?page={page + 1}" if page < last else None, "last_page": last}


def compact(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


HOSTILE_STRINGS = ["\x1b]52;c;cHduZWQ=\x07", "\x9b2J", "\u202eexe.txt", "a\x00b\rc", "\x7f", "\u2028x\u2029",
                   "zero\u200bwidth", "\ufeffbom", "bidi \u2066iso\u2069", "[@click=app.quit]"]

#: Bodies of one page; each is the first of two pages (its next link is in it).
BODIES = {
    # the sandbox's (and Python's) compact spelling, UTF-8 kept: clean, written as is
    "friendly": compact(envelope(1, 2)),
    "friendly, a newline after it": compact(envelope(1, 2)) + b"\r\n",
    # hostile characters raw in the UTF-8 (C1 CSI, RLO, DEL, LS, ZWSP, BOM): encoded again
    "hostile, raw": compact(envelope(1, 2, [{"name": s} for s in HOSTILE_STRINGS])),
    # the same as \uXXXX escapes only (plain ASCII): clean, and the escapes are the same text as
    # before (DEL aside: ensure_ascii writes it raw, so that body is encoded again)
    "hostile, escaped": json.dumps(envelope(1, 2, [{"name": s} for s in HOSTILE_STRINGS if s != "\x7f"]),
                                   separators=(",", ":")).encode(),
    "hostile, escaped, DEL raw": json.dumps(envelope(1, 2, [{"name": s} for s in HOSTILE_STRINGS]),
                                            separators=(",", ":")).encode(),
    # indented: newlines in it, so encoded again (one line per page, as before)
    "indented": json.dumps(envelope(1, 2), indent=2, ensure_ascii=False).encode(),
    # a BOM before the document, UTF-16: json.loads reads them; encoded again
    "BOM": b"\xef\xbb\xbf" + compact(envelope(1, 2)),
    "UTF-16": json.dumps(envelope(1, 2)).encode("utf-16"),
    # a lone surrogate's UTF-8 (json.loads passes it): never clean
    "lone surrogate, raw": compact(envelope(1, 2))[:-1] + b',"x":"\xed\xa0\x80"}',
    "lone surrogate, escaped": compact(envelope(1, 2))[:-1] + b',"x":"\\ud800"}',
}
#: Clean, but not in the encoder's spelling: written as sent (it reads back to the same JSON).
AS_SENT = {
    "PHP's spelling": (b'{"current_page":1,"data":[{"name":"caf\\u00e9","url":"https:\\/\\/x.test\\/a"}],'
                       b'"next_page_url":"' + API.replace("/", "\\/").encode() + b'\\/greets?page=2"}'),
    "spaces": b' {"current_page": 1, "data": [{"id": "g1"}], "next_page_url": "' + API.encode() + b'/greets?page=2"} ',
}
LAST = compact(envelope(2, 2))


@pytest.fixture
def settings(tmp_path):
    return load_settings(env={"BONJORO_BASE_URL": BASE, "BONJORO_CLIENT_ID": "c",
                              "BONJORO_TUI_DATA_DIR": str(tmp_path / "d"),
                              "BONJORO_TUI_CONFIG_DIR": str(tmp_path / "c"),
                              "BONJORO_TUI_LOG_DIR": str(tmp_path / "l")}, cwd=tmp_path)


@pytest.fixture
async def client(settings):
    store = TokenStore(settings.store_path)
    store.save(StoredProfile(settings.profile, settings.target_id, "code", "c",
                             TokenSet("access-0", T0, refresh_token="r", expires_at=T0 + 3600),
                             api_origin=BASE))
    c = BonjoroClient(settings, store, now=lambda: T0)
    yield c
    await c.aclose()


@pytest.fixture
def api(settings, client, capsysbinary, monkeypatch):
    """``api(first_body, *argv) -> (exit code, stdout bytes)``: /greets answers ``first_body``,
    then the last page."""

    async def with_session(settings, body, **_):
        return await body(SimpleNamespace(client=client))

    monkeypatch.setattr(commands, "_with_session", with_session)

    async def run(first: bytes, *argv: str) -> tuple[int, bytes]:
        capsysbinary.readouterr()
        with respx.mock(assert_all_called=False) as mock:
            mock.get(url__startswith=f"{API}/greets").mock(side_effect=lambda req: httpx.Response(
                200, content=LAST if req.url.params.get("page") == "2" else first,
                headers={"content-type": "application/json"}))
            code = await commands.cmd_api(build_parser().parse_args(["api", *argv]), settings)
        return code, capsysbinary.readouterr().out

    return run


@pytest.mark.parametrize("name", list(BODIES))
async def test_a_page_is_written_as_before(api, name):
    body = BODIES[name]
    code, out = await api(body, "/greets")
    assert code == 0
    assert out == before(body)
    code, out = await api(body, "--paginate", "/greets")
    assert code == 0
    assert out == before(body) + before(LAST)
    assert not forbidden_bytes_in(out), name


@pytest.mark.parametrize("name", list(AS_SENT))
async def test_a_clean_page_in_another_spelling_is_the_servers_bytes(api, name):
    body = AS_SENT[name]
    code, out = await api(body, "--paginate", "/greets")
    assert code == 0
    assert out == body.strip() + b"\n" + LAST + b"\n"
    first, last = out.splitlines()
    assert json.loads(first) == json.loads(before(body)) and json.loads(last) == json.loads(LAST)


async def test_every_page_is_one_line_of_json_without_raw_controls(api):
    for body in [*BODIES.values(), *AS_SENT.values()]:
        code, out = await api(body, "--paginate", "/greets")
        assert code == 0 and not forbidden_bytes_in(out)
        assert [json.loads(line)["current_page"] for line in out.splitlines()] == [1, 2]


@pytest.mark.parametrize("name", ["friendly", "hostile, raw", "hostile, escaped", "indented"])
async def test_slurp_and_jq_are_as_before(api, name):
    body = BODIES[name]
    code, out = await api(body, "--paginate", "--slurp", "/greets")
    assert code == 0
    items = json.loads(body.decode("utf-8"))["data"] + json.loads(LAST)["data"]
    assert out == before(compact(items))
    code, out = await api(body, "--paginate", "/greets", "--jq", ".data[0]")
    assert code == 0
    assert out == before(compact(json.loads(body)["data"][0])) + before(compact(json.loads(LAST)["data"][0]))
    assert not forbidden_bytes_in(out)


async def test_on_a_terminal_every_page_is_indented_as_before(api, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    for name in ("friendly", "hostile, raw", "hostile, escaped"):
        code, out = await api(BODIES[name], "--paginate", "/greets")
        assert code == 0
        assert out == before(BODIES[name], pretty=True) + before(LAST, pretty=True)
        assert not forbidden_bytes_in(out)


async def test_a_body_that_is_not_json_is_still_the_servers_bytes(api):
    for body in (b"not json \x1b]52;c;eA==\x07", b"[" * 100_000, b'{"a":1} trailing'):
        code, out = await api(body, "/greets")
        assert code == 0 and out == body


async def test_include_puts_each_pages_headers_before_its_body(api):
    body = BODIES["friendly"]
    code, out = await api(body, "--paginate", "--include", "/greets")
    assert code == 0
    blocks = out.split(b"HTTP/1.1 200 OK\n")
    assert blocks[0] == b"" and len(blocks) == 3
    assert blocks[1].endswith(b"\n\n" + before(body)) and blocks[2].endswith(b"\n\n" + before(LAST))
