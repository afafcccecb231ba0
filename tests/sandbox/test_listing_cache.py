"""A collection's listing (and a filter's result) is kept until the collection changes (issue 16):
every write, a knob that changes the seed, or another process's write to the state file is seen."""

from bonjoro_tui.sandbox.state import SandboxState
from bonjoro_tui.sandbox.world import state_world


def test_the_kept_listing_follows_every_change(tmp_path):
    state = SandboxState(tmp_path / "state.json")
    state.set_knobs(greet_count=30)
    greets = state_world(state).collection("greets")
    first = greets.all()
    assert greets.all() is first and len(first) == 30  # kept: no copy per read

    updated = dict(first[3], note="changed")
    greets.put(updated)
    assert greets.all()[3]["note"] == "changed"
    greets.delete(first[5]["id"])
    assert first[5]["id"] not in {g["id"] for g in greets.all()} and len(greets.all()) == 29
    greets.put(dict(first[0], id="new-one"), created=True)
    assert greets.all()[0]["id"] == "new-one"

    state.set_knobs(greet_count=40)  # the base grows
    assert len(greets.all()) == 40  # 40 seeded, one deleted, one created

    calls = []
    open_ids = greets.memo("open", lambda items: calls.append(1) or [g["id"] for g in items if g["status"] == "open"])
    assert greets.memo("open", lambda items: calls.append(1) or []) == open_ids and len(calls) == 1
    greets.put(dict(greets.all()[1], status="open" if greets.all()[1]["status"] != "open" else "sent"))
    assert greets.memo("open", lambda items: [g["id"] for g in items if g["status"] == "open"]) != open_ids


def test_another_process_writing_the_state_file_is_seen(tmp_path):
    one, two = SandboxState(tmp_path / "state.json"), SandboxState(tmp_path / "state.json")
    greets_one = state_world(one).collection("greets")
    before = len(greets_one.all())
    greets_two = state_world(two).collection("greets")
    greets_two.put(dict(greets_two.all()[0], id="from-two"), created=True)
    assert len(greets_one.all()) == before + 1 and greets_one.all()[0]["id"] == "from-two"
