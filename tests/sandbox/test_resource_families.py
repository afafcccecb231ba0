"""Walking the resource families through the API as a client would: create a profile, a greet
for it and a campaign's changes; update; delete — each visible to the next read, refused when a
relation is unknown, and kept across a restart of a sandbox on the same state file."""

from __future__ import annotations

import httpx

from bonjoro_tui.sandbox import create_app
from bonjoro_tui.sandbox.state import SandboxState

from .helpers import BASE, Clock

KEY = {"Authorization": "Bearer sandbox-api-key"}


def _client(state: SandboxState) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state)), base_url=BASE + "/api/v2", headers=KEY)


async def test_profile_greet_campaign_walk_survives_a_restart(tmp_path):
    path = tmp_path / "sandbox" / "state.json"
    async with _client(SandboxState(path, now=Clock())) as http:
        r = await http.post("/profiles", json={"email": "walk@example.com", "first_name": "Walk"})
        profile = r.json()["data"]
        r = await http.put(f"/profiles/{profile['id']}", json={"last_name": "Er"})
        assert r.status_code == 400 and r.json()["error"]["message"] == "The email field is required."  # as published
        r = await http.put(f"/profiles/{profile['id']}", json={"email": "walk@example.com", "last_name": "Er"})
        assert r.status_code == 200 and r.json()["last_name"] == "Er"
        assert (await http.get(f"/profiles/{profile['id']}")).json()["last_name"] == "Er"

        r = await http.post("/greets", json={"profiles": ["00000000-0000-4000-8000-000000000000"]})
        assert r.status_code == 404  # a greet for an unknown profile is refused
        greet = (await http.post("/greets", json={"profiles": [profile["id"]], "note": "hi"})).json()["data"]
        other = (await http.get("/users")).json()["data"][2]
        r = await http.put(f"/greets/{greet['id']}", json={"assignee_id": other["id"]})
        assert r.json()["data"]["assignee"]["id"] == other["id"]
        r = await http.put(f"/greets/{greet['id']}", json={"assignee_id": "00000000-0000-4000-8000-000000000000"})
        assert r.status_code == 400 and "assignee_id" in r.json()["error"]["message"]
        listed = (await http.get("/greets", params={"profile_id": profile["id"]})).json()["data"]
        assert [g["id"] for g in listed] == [greet["id"]] and listed[0]["assignee"]["id"] == other["id"]

        campaign = (await http.get("/campaigns")).json()["data"][1]
        r = await http.put(f"/campaigns/{campaign['id']}", json={"name": "Renamed", "users": [other["id"]]})
        assert r.status_code == 200 and r.json()["data"]["name"] == "Renamed"
        doomed = (await http.get("/campaigns")).json()["data"][4]
        assert (await http.delete(f"/campaigns/{doomed['id']}")).status_code == 200
        assert (await http.get(f"/campaigns/{doomed['id']}")).status_code == 404

        domain = (await http.post("/domains", json={"domain": "walk.example"})).json()["data"]
        r = await http.put(f"/domains/{domain['id']}/verify")
        assert r.status_code == 200 and r.json()["data"] == {"is_verified": True}
        assert (await http.get("/domain-availabilities/walk.example")).json()["status"] == "domain_not_available"

    # a new sandbox process on the same data dir sees all of it
    async with _client(SandboxState(path, now=Clock())) as http:
        assert (await http.get(f"/profiles/{profile['id']}")).json()["last_name"] == "Er"
        names = [c["name"] for c in (await http.get("/campaigns")).json()["data"]]
        assert "Renamed" in names and doomed["name"] not in names
        listed = (await http.get("/greets", params={"profile_id": profile["id"]})).json()["data"]
        assert listed[0]["assignee"]["id"] == other["id"]
        assert (await http.delete(f"/greets/{greet['id']}")).status_code == 200
        assert (await http.get("/greets", params={"profile_id": profile["id"]})).json()["data"] == []
        assert (await http.delete(f"/greets/{greet['id']}")).status_code == 404


async def test_notifications_are_marked_read_and_replies_need_their_greet():
    async with _client(SandboxState(now=Clock())) as http:
        note = (await http.get("/notifications")).json()["data"][0]
        assert (await http.post(f"/notifications/{note['id']}/reads")).json() == {"Message": "Notification marked as read"}
        r = await http.post("/replies", json={"greet_id": "00000000-0000-4000-8000-000000000000",
                                              "profile_id": "00000000-0000-4000-8000-000000000000", "content": "x"})
        assert r.status_code == 400 and "greet_id" in r.json()["error"]["message"]
        page = (await http.get("/automations", params={"limit": 10, "page": 3})).json()
        assert page["current_page"] == 3 and page["per_page"] == 10 and page["total"] == 24 and len(page["data"]) == 4


async def test_a_stored_world_of_an_unexpected_shape_is_set_aside(tmp_path, caplog):
    import json

    path = tmp_path / "state.json"
    async with _client(SandboxState(path, now=Clock())) as http:
        assert (await http.post("/domains", json={"domain": "kept.example"})).status_code == 200
    doc = json.loads(path.read_text())
    assert [r["name"] for r in doc["world"]["domains"]["changed"].values()] == ["kept.example"]
    doc["world"]["domains"]["changed"] = {"x": "not a record"}
    path.write_text(json.dumps(doc))
    async with _client(SandboxState(path, now=Clock())) as http:
        names = [d["name"] for d in (await http.get("/domains", params={"limit": 100})).json()["data"]]
        assert "kept.example" not in names and len(names) == 24  # the seed, afresh
    assert [p for p in tmp_path.iterdir() if ".corrupt-" in p.name] and "unexpected shape" in caplog.text


async def test_what_a_client_can_make_the_sandbox_keep_is_bounded(monkeypatch):
    from bonjoro_tui.sandbox import world

    async with _client(SandboxState(now=Clock())) as http:
        r = await http.post("/domains", json={"domain": "x" * 10_001 + ".example"})
        assert r.status_code == 400 and "10000 characters" in r.json()["error"]["message"]
        template = (await http.get("/message-templates")).json()["data"][0]
        r = await http.put(f"/message-templates/{template['id']}", json={"theme": {"blob": "ignored"}})
        assert r.status_code == 200 and "blob" not in r.json()["data"]["theme"]  # unknown fields are not kept
        monkeypatch.setattr(world, "RECORD_MAX", 2048)
        r = await http.put(f"/message-templates/{template['id']}", json={"name": "y" * 3000})
        assert r.status_code == 400 and "2 KiB" in r.json()["error"]["message"]
        monkeypatch.setattr(world, "STORED_MAX", 0)
        r = await http.post("/domains", json={"domain": "small.example"})
        assert r.status_code == 400 and "no more changes" in r.json()["error"]["message"]


async def test_bulk_greet_changes_and_the_greets_lists():
    async with _client(SandboxState(now=Clock())) as http:
        page = (await http.get("/greets", params={"limit": 4})).json()["data"]
        ids = [g["id"] for g in page]
        user = (await http.get("/users")).json()["data"][3]
        r = await http.patch("/greets", json={"greets": ids[:2], "assignee_id": user["id"], "campaign_id": 2})
        assert r.status_code == 200 and {g["assignee"]["id"] for g in r.json()["data"]} == {user["id"]}
        campaign = (await http.get("/campaigns/2")).json()["data"]
        mine = (await http.get("/greets", params={"assignee_id": user["id"], "limit": 100})).json()["data"]
        assert set(ids[:2]) <= {g["id"] for g in mine}
        assert all(g["campaign_id"] == campaign["uuid"] for g in mine if g["id"] in ids[:2])
        r = await http.delete("/greets", params=[("greets[]", ids[0]), ("greets[]", ids[1])])
        assert r.status_code == 200
        left = {g["id"] for g in (await http.get("/greets", params={"limit": 100})).json()["data"]}
        assert not set(ids[:2]) & left and set(ids[2:]) <= left
        todo = (await http.get("/greets/todo", params={"limit": 100})).json()["data"]
        assert todo and all(g["status"] == "open" for g in todo)
        greet = next(g for g in todo if g["profiles"])
        r = await http.post(f"/greets/{greet['id']}/notifications", json={"via": ["email"]})
        assert r.json()["data"]["status"] == "sent"
        assert greet["id"] not in {g["id"] for g in (await http.get("/greets/todo", params={"limit": 100})).json()["data"]}
        profiles = (await http.get(f"/greets/{greet['id']}/profiles")).json()["data"]
        assert [p["id"] for p in profiles] == [p["id"] for p in greet["profiles"]]


async def test_replies_need_a_sent_greet_and_rollup_deletes():
    async with _client(SandboxState(now=Clock())) as http:
        greets = (await http.get("/greets", params={"limit": 60})).json()["data"]
        open_greet = next(g for g in greets if g["status"] == "open" and g["profiles"])
        body = {"greet_id": open_greet["id"], "profile_id": open_greet["profiles"][0]["id"], "content": "Thanks!"}
        r = await http.post("/replies", json=body)
        assert r.status_code == 403 and "sent status" in r.json()["error"]["message"]
        await http.post(f"/greets/{open_greet['id']}/notifications", json={"via": ["email"]})
        r = await http.post("/replies", json=body)
        assert r.status_code == 200 and r.json()["content"] == "Thanks!"
        assert r.json()["author"]["is_current_user"] is True
        listed = (await http.get("/replies", params={"greet_id": open_greet["id"],
                                                     "propfile_id": open_greet["profiles"][0]["id"]})).json()["data"]
        assert [x["id"] for x in listed] == [r.json()["id"]]

        campaign = (await http.get("/campaigns/3")).json()["data"]
        mine = [g for g in (await http.get("/greets", params={"limit": 100})).json()["data"]
                if g["campaign_id"] == campaign["uuid"] and g["status"] == "open"]
        r = await http.post("/greets/rollup", json={"type": "open", "campaign_id": 3})
        assert r.json()["data"] == {"count": len(mine)} and mine
        left = {g["id"] for g in (await http.get("/greets", params={"limit": 100})).json()["data"]}
        assert not {g["id"] for g in mine} & left

        demo = next(t for t in (await http.get("/message-templates")).json()["data"] if t["state"] == "demo")
        r = await http.delete(f"/message-templates/{demo['id']}")
        assert r.status_code == 403 and r.json()["error"]["status_code"] == 403


async def test_the_seed_is_the_same_in_every_sandbox():
    pages = []
    for _ in range(2):
        async with _client(SandboxState(now=Clock())) as http:
            pages.append([(await http.get(path)).json() for path in ("/automations?page=2", "/teams", "/stats/team")])
    assert pages[0] == pages[1]
    automations = pages[0][0]
    assert automations["total"] == 24 and len(automations["data"]) == 9 and automations["prev_page_url"]


async def test_a_request_changing_many_records_writes_the_state_file_once(tmp_path, monkeypatch):
    from bonjoro_tui.sandbox.statefile import StateFile

    state = SandboxState(tmp_path / "state.json", now=Clock())
    writes = []
    real = StateFile.write
    monkeypatch.setattr(StateFile, "write", lambda self, data: (writes.append(1), real(self, data))[1])
    async with _client(state) as http:
        ids = [g["id"] for g in (await http.get("/greets", params={"limit": 6})).json()["data"]]
        user = (await http.get("/users")).json()["data"][2]
        writes.clear()
        r = await http.patch("/greets", json={"greets": ids, "assignee_id": user["id"]})
        assert r.status_code == 200 and len(r.json()["data"]) == 6
        assert len(writes) == 1
        writes.clear()
        r = await http.patch("/greets", json={"greets": [ids[0], "00000000-0000-4000-8000-000000000000"],
                                              "assignee_id": (await http.get("/me")).json()["id"]})
        assert r.status_code == 400 and "greets" in r.json()["error"]["message"] and writes == []  # nothing changed
        assert (await http.get("/greets", params={"limit": 6})).json()["data"][0]["assignee"]["id"] == user["id"]


async def test_documented_filters_of_the_engines_lists():
    async with _client(SandboxState(now=Clock())) as http:
        everything = (await http.get("/signatures", params={"limit": 100})).json()["data"]
        kept = (await http.get("/signatures", params={"limit": 100, "exclude_default": "true"})).json()["data"]
        assert any(s["is_default"] for s in everything) and kept and not any(s["is_default"] for s in kept)
        one = everything[3]
        found = (await http.get("/signatures", params={"email": one["address"]})).json()["data"]
        assert [s["id"] for s in found] == [one["id"]]
        slack = (await http.get("/automation/accounts", params={"service": "slack", "limit": 100})).json()
        assert all(a["service"] == "slack" for a in slack["data"]) and slack["total"] == len(slack["data"])
        page = (await http.get("/automations", params={"sort": "-name", "limit": 100})).json()["data"]
        assert [a["name"] for a in page] == sorted((a["name"] for a in page), reverse=True)
