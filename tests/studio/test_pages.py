"""The studio's pages, as a browser without JavaScript sees them (and the HTML the live stream sends)."""
from __future__ import annotations

import re

from tests.studio.conftest import wait_for


def _run_id(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


def test_new_request_form_to_live_page_and_review_by_form(client):
    library = client.app.state.studio.media_roots[0]
    (library / "harbour at dusk.mp4").write_bytes(b"")  # listed by name; not used below
    page = client.get("/")
    assert page.status_code == 200 and "harbour at dusk.mp4" in page.text
    assert '<script src="/static/htmx.min.js">' in page.text and "fake" in page.text  # the scripted backend is offered

    empty = client.post("/ui/runs", data={"request": "   "})
    assert empty.status_code == 422 and "The request is empty" in empty.text and "<form" in empty.text
    sent = client.post("/ui/runs", data={"request": "draft a short script about lighthouses for me to check",
                                         "review": "on", "strategy": "cot", "llm": "fake"}, follow_redirects=False)
    assert sent.status_code == 303
    run_id = _run_id(sent.headers["location"])
    wait_for(client, run_id, ("awaiting_review",))

    live = client.get(f"/ui/runs/{run_id}/live")  # what htmx swaps in, event by event
    names = re.findall(r"^event: (\w+)$", live.text, flags=re.M)
    assert {"log", "plan", "status"} <= set(names) and names[-1] == "end"
    assert "<svg" in live.text and "awaiting review" in live.text
    page = client.get(f"/ui/runs/{run_id}")
    assert 'id="review"' in page.text and "Forty one. Forty two. I lost count." in page.text
    assert "sse-connect" not in page.text  # nothing runs while it waits: no live connection

    answer = client.post(f"/ui/runs/{run_id}/review", data={
        "action": "edit", "title": "Keeper's count", "character": ["Keeper", "Narrator", ""],
        "text": ["", "He gave up at forty two.", ""], "note": ""})
    assert answer.status_code == 204 and answer.headers["HX-Redirect"] == f"/ui/runs/{run_id}"
    info = wait_for(client, run_id, ("passed", "error"))
    assert client.get(f"/runs/{run_id}/files/note.txt").text == "Narrator: He gave up at forty two."
    done = client.get(f"/ui/runs/{run_id}")
    assert 'id="report-link"' in done.text and info["status"] in done.text
    listing = client.get("/ui/runs")
    assert run_id in listing.text and "draft a short script about lighthouses" in listing.text


def test_a_bad_review_form_is_shown_again_with_the_reason(client):
    sent = client.post("/ui/runs", data={"request": "draft a short script about lighthouses for me to check",
                                         "review": "on"}, follow_redirects=False)
    run_id = _run_id(sent.headers["location"])
    wait_for(client, run_id, ("awaiting_review",))
    answer = client.post(f"/ui/runs/{run_id}/review", data={"action": "edit", "character": ["Keeper"] * 7,
                                                            "text": ["I have counted a great many waves today"] * 7})
    assert answer.status_code == 200 and 'class="error"' in answer.text and "footage" in answer.text
    assert client.get(f"/runs/{run_id}").json()["status"] == "awaiting_review"  # nothing was lost
    client.post(f"/ui/runs/{run_id}/review", data={"action": "reject"})
    assert wait_for(client, run_id, ("rejected", "passed"))["status"] == "rejected"


def test_knowledge_page_ingests_markdown_and_finds_it(client):
    page = client.get("/ui/knowledge")
    assert page.status_code == 200 and "Search the knowledge base" in page.text
    note = ("---\ntitle: Lighthouse keepers\nkind: films\nfilm: The Tide Keeper\n---\n"
            "Lighthouse keepers in the film wind the great lamp by hand every evening at dusk.\n")
    added = client.post("/ui/knowledge/ingest", files=[("files", ("keepers.md", note.encode(), "text/markdown")),
                                                       ("files", ("photo.png", b"\x89PNG", "image/png"))])
    assert "keepers.md: 1 added" in added.text and "photo.png: not markdown" in added.text
    found = client.get("/ui/knowledge/search", params={"q": "who winds the lamp at dusk"})
    assert "Lighthouse keepers" in found.text
    assert "Nothing matches" in client.get("/ui/knowledge/search", params={"q": "lamp", "kind": "comedy"}).text


def test_datasets_page_shows_status_and_explains_a_failed_export(client):
    from tools.dataset.metadata import DatasetStore, FrameItem, StageRecord

    settings = client.app.state.studio.settings
    store = DatasetStore.open(settings, "pip-set")
    store.meta.film = "/films/the tide keeper.mp4"
    for n, status in enumerate(["kept", "kept", "dropped"]):
        store.meta.items[f"f{n}"] = FrameItem(id=f"f{n}", file=f"frames/f{n}.png", frame_index=n, timestamp=n,
                                              scene=0, stages={"filter": StageRecord(status=status)})
    store.save()
    page = client.get("/ui/datasets")
    assert "pip-set" in page.text and "the tide keeper.mp4" in page.text and "kept 2" in page.text
    export = client.post("/ui/datasets/pip-set/export", data={"format": "kohya"})
    assert export.status_code == 422 and "no characters yet" in export.text
