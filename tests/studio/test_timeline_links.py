"""A finished run's page links the timelines of its edits (the files an editor opens)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parents[2] / "agent" / "studio" / "templates"


def _outcome(result: dict) -> str:
    from agent.studio.answer import outcome

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    job = SimpleNamespace(status="passed", run_id="r1", result=result, pending_review=None, error=None)
    return env.get_template("_outcome.html.j2").render(job=job, video=None, poster=None,
                                                       outcome=outcome(job, lambda text: text))


def test_the_run_page_links_each_timeline_file_under_the_run():
    run_dir = "/srv/runs/r1"
    html = _outcome({"run_dir": run_dir, "final_answer": "done", "artifacts": [
        {"path": f"{run_dir}/parody/parody_0.mp4", "kind": "video", "metadata": {}},
        {"path": f"{run_dir}/parody/parody_0.otio", "kind": "timeline", "metadata": {"format": "otio"}},
        {"path": f"{run_dir}/parody/parody_0.kdenlive", "kind": "timeline", "metadata": {"format": "kdenlive"}}]})
    assert 'id="timeline-links"' in html
    assert 'href="/runs/r1/files/parody/parody_0.otio"' in html and 'href="/runs/r1/files/parody/parody_0.kdenlive"' in html
    links = html.split('id="timeline-links"', 1)[1].split("</p>", 1)[0]
    assert "parody_0.mp4" not in links and "/srv/runs" not in links  # only the timelines, no server paths


def test_no_timeline_no_links():
    assert 'id="timeline-links"' not in _outcome({"run_dir": "/x", "artifacts": [], "final_answer": ""})
