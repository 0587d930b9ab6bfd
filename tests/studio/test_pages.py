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


def test_run_pages_read_well(client, tmp_path):
    """What a newcomer sees around a run: the list without CLI dry runs and with the report's duration,
    the answer rendered, a report that leads back, a stopped run's report page, the icon."""
    import json
    import time

    from agent.studio.jobs import Job
    from agent.studio.run_view import fold

    st = client.app.state.studio
    run_id = client.post("/runs", json={"request": "jot a quick note on tides"}).json()["run_id"]
    wait_for(client, run_id, ("passed",))
    for name in ("plan-20261205-000000-aaaaaa", "tool-20261205-000000-bbbbbb"):  # `animstudio plan` / `tools call`
        (st.runs_dir / name).mkdir()
        (st.runs_dir / name / "result.json").write_text(json.dumps({"status": "refused", "request": "dry"}))
    listing = client.get("/ui/runs").text
    assert "plan-2026" not in listing and "tool-2026" not in listing and run_id in listing
    report = client.get(f"/runs/{run_id}/files/report.html").text
    duration = re.search(r"· ([\d.]+)s", report).group(1)
    row = next(r for r in client.get("/runs").json() if r["run_id"] == run_id)
    assert f"{row['seconds']:.1f}" == duration  # the list says what the report says
    assert f'href="/ui/runs/{run_id}"' in report  # the report leads back to the studio

    page = client.get(f"/ui/runs/{run_id}").text
    assert 'id="result-files"' in page and f'href="/runs/{run_id}/files/note.txt"' in page
    assert "Files: " not in page  # the answer's own file list is shown as links, not as a line of text

    stopped = Job(run_id="20261205-000000-cccccc", request="a run that stopped at once", status="error",
                  error=f"the film {st.media_roots[0]}/gone.mp4 vanished", started=time.time())
    st.store.add([stopped])
    shown = client.get(f"/runs/{stopped.run_id}/files/report.html")
    assert shown.status_code == 200 and "gone.mp4 vanished" in shown.text and str(st.media_roots[0]) not in shown.text
    assert client.get("/favicon.ico").headers["content-type"] == "image/x-icon"

    view = fold("r", [{"type": "status", "status": "running", "seq": 1},
                      {"type": "node", "node": "plan", "seq": 2, "text": "plan", "pending": ["a", "b"],
                       "plan": {"steps": [{"id": "a", "tool": "t1"}, {"id": "b", "tool": "t2", "depends_on": ["a"]}]}},
                      {"type": "node", "node": "execute", "seq": 3, "text": "a", "steps": {"a": "ok"}, "pending": ["b"]},
                      {"type": "progress", "description": "Evaluating quality", "completed": 3.0, "total": 4, "seq": 4}])
    assert view.running_step == "b" and 'class="step step-running"' in view.plan_markup
    assert view.progress_items[0]["count"] == "3 of 4"
    view.apply({"type": "status", "status": "cancelled", "note": "stopped by a person", "seq": 5})
    assert view.running_step is None and view.log[-1]["text"] == "cancelled: stopped by a person"


def test_the_answer_box_says_when_the_model_lines_were_not_used(tmp_path):
    """A parody whose script is the built-in template says so (with why), and its answer is rendered
    markdown with links only to the web or the run's own files."""
    import json

    from agent.studio.answer import outcome
    from agent.studio.jobs import Job

    run_dir = tmp_path / "runs" / "20261205-010203-abcdef"
    (run_dir / "parody").mkdir(parents=True)
    script = run_dir / "parody" / "script_0.json"
    script.write_text(json.dumps({"source": "template", "why": "template fallback: the model answered nothing usable"}))
    (run_dir / "parody" / "parody_0.mp4").write_bytes(b"")
    result = {"run_dir": str(run_dir), "final_answer": "Your parody is ready: parody/parody_0.mp4\n"
              "Files: parody/script_0.json, parody/parody_0.mp4\nSources: [Sintel](https://durian.blender.org/), "
              "[a trap](javascript:alert(1)), [a secret](/etc/passwd)",
              "artifacts": [{"path": str(script), "kind": "json", "metadata": {"what": "parody script", "source": "template"}},
                            {"path": str(run_dir / "parody" / "parody_0.mp4"), "kind": "video", "metadata": {}}]}
    shown = outcome(Job(run_id=run_dir.name, request="r", status="passed", result=result), lambda s: s)
    assert shown["template_script"] and shown["template_why"] == "the model answered nothing usable"
    html = str(shown["answer"])
    assert f'<a href="/runs/{run_dir.name}/files/parody/parody_0.mp4">' in html
    assert '<a href="https://durian.blender.org/">Sintel</a>' in html
    assert 'href="javascript' not in html and 'href="/etc/passwd"' not in html  # shown as text, not as links
    assert "Files:" not in html and [f["name"] for f in shown["files"]] == ["parody/script_0.json", "parody/parody_0.mp4"]


def test_log_lines_are_cut_between_words_and_name_the_chosen_film():
    from agent.studio.events import compact

    summary = "best scenes for the harbour at dawn " * 12
    line = compact({"type": "node", "node": "execute", "update": {"step_results": {
        "find": {"ok": True, "tool": "find_scene", "seconds": 1.0, "summary": summary}}}})["text"]
    assert line.endswith("…") and line[:-1].split()[-1] in summary.split()  # a whole word before the …
    first = compact({"type": "node", "node": "understand", "update": {"intent": {"task": "parody", "film": None}}},
                    film="sintel_trailer.mp4")["text"]
    assert "film=sintel_trailer.mp4" in first
