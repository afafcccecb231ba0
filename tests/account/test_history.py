"""The explorer's history file: kept across runs, private, capped, never a secret in it."""

import json
import os
import stat

from bonjoro_tui import locations
from bonjoro_tui.account.history import (
    BODY_LIMIT,
    HISTORY_LIMIT,
    MASKED,
    Entry,
    History,
    looks_like_credential,
)

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw"
REFRESH = "def50200refresh-token-value-0123456789"


def _entry(**kw):
    base = dict(method="GET", path="/greets", params={"status": "open"}, body=None, at=1_800_000_000.0,
                status=200, content=b'{"data": []}', headers={"content-type": "application/json"})
    base.update(kw)
    return Entry(**base)


def test_history_survives_a_new_instance_with_its_names_and_retries(tmp_path):
    h = History(tmp_path / "data")
    kept = h.add(_entry(retries=[(429, 1.0)]))
    h.rename(kept, "open greets")
    h.write()
    path = locations.history_file(tmp_path / "data")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == 0o700
    again = History(tmp_path / "data")
    [entry] = again.load()
    assert (entry.method, entry.path, entry.params, entry.status) == ("GET", "/greets", {"status": "open"}, 200)
    assert entry.retries == [(429, 1.0)] and entry.name == "open greets"
    assert entry.content == b'{"data": []}'
    assert again.saved == [entry] and again.problem is None


def test_no_token_or_secret_is_ever_written(tmp_path):
    h = History(tmp_path, secrets=lambda: [TOKEN, REFRESH, "sandbox-secret"])
    h.add(_entry(
        method="POST", path=f"/oauth/2/token?client_secret=sandbox-secret&page=2",
        params={"access_token": TOKEN, "api_key": "k-123456789", "page": "2"},
        body={"grant_type": "refresh_token", "refresh_token": REFRESH, "nested": [{"password": "hunter2hunter2"}],
              "note": f"quoted {TOKEN}"},
        request_headers={"Authorization": f"Bearer {TOKEN}", "X-Api-Key": "sandbox-api-key", "Accept": "*/*"},
        headers={"set-cookie": "session=abcdef0123456789"},
        content=json.dumps({"access_token": "another-fresh-token-xyz-0123456789", "refresh_token": REFRESH,
                            "echo": TOKEN}).encode(),
        error=f"the server said {REFRESH}",
    ))
    h.write()
    text = (tmp_path / locations.HISTORY_FILE).read_text()
    for secret in (TOKEN, REFRESH, "sandbox-secret", "sandbox-api-key", "hunter2hunter2", "k-123456789",
                   "another-fresh-token-xyz", "abcdef0123456789", TOKEN.split(".")[1]):
        assert secret not in text, secret
    [entry] = History(tmp_path).load()
    assert entry.request_headers["Authorization"] == f"Bearer {MASKED}"
    assert entry.request_headers["Accept"] == "*/*"
    assert entry.params["page"] == "2" and entry.params["access_token"] == MASKED
    assert entry.body["grant_type"] == "refresh_token" and entry.body["nested"][0]["password"] == MASKED


def test_credential_names():
    for name in ("access_token", "Refresh-Token", "client_secret", "password", "api_key", "token", "X-Api-Key",
                 "Authorization", "code", "code_verifier", "id_token"):
        assert looks_like_credential(name), name
    for name in ("status", "search", "user_id", "email", "profiles", "signature_id"):
        assert not looks_like_credential(name), name


def test_bodies_and_entries_are_capped_and_saved_requests_outlive_the_cap(tmp_path):
    h = History(tmp_path)
    big = h.add(_entry(content=b"x" * (BODY_LIMIT + 10)))
    assert len(big.content) == BODY_LIMIT and big.truncated and big.size == BODY_LIMIT + 10
    h.rename(big, "kept")
    for i in range(HISTORY_LIMIT + 5):
        h.add(_entry(path=f"/n/{i}", content=b""))
    assert len([e for e in h.entries if not e.name]) == HISTORY_LIMIT
    assert h.entries[0].name == "kept" and h.entries[1].path == "/n/5"
    assert [e.path for e in h.search("n/20")][:2] == ["/n/204", "/n/203"]
    assert h.search("kept", saved_only=True) == [big]


def test_a_corrupt_file_is_moved_aside_and_reported(tmp_path):
    path = locations.history_file(tmp_path)
    path.write_text("{not json")
    os.chmod(path, 0o600)
    h = History(tmp_path, now=lambda: 1_800_000_000.0)
    assert h.load() == []
    assert h.problem and "moved" in h.problem
    assert h.quarantined_to is not None and h.quarantined_to.read_text() == "{not json"
    assert not path.exists()
    h.add(_entry())
    h.write()
    assert len(History(tmp_path).load()) == 1


def test_a_newer_version_is_left_untouched(tmp_path):
    path = locations.history_file(tmp_path)
    path.write_text('{"version": 99, "entries": []}')
    os.chmod(path, 0o600)
    h = History(tmp_path)
    h.load()
    assert "newer" in (h.problem or "")
    h.add(_entry())
    h.write()
    assert path.read_text() == '{"version": 99, "entries": []}'


def test_a_link_in_place_of_the_file_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("precious")
    os.symlink(target, locations.history_file(tmp_path))
    h = History(tmp_path)
    assert h.load() == [] and h.problem
    h.add(_entry())
    h.write()
    assert target.read_text() == "precious"
