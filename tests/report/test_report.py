"""The HTML run report from a fake run folder; loaded in a real headless Chromium when it is installed."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from agent.report import build_context, render_report
from tools.core.trace import Trace

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _iteration(n: int, video: float, subs: float, passed: bool) -> dict:
    reports = [
        {"scorer": "video", "score": video, "passed": video >= 0.7, "reasons": ["black for 1.2s (3.0-4.2s)"],
         "metrics": {}, "blame": [] if video >= 0.7 else ["render"], "skipped": False},
        {"scorer": "audio", "score": 0.91, "passed": True, "reasons": ["all checks passed"], "metrics": {},
         "blame": [], "skipped": False},
        {"scorer": "subtitles", "score": subs, "passed": subs >= 0.7, "reasons": ["1 cues are too fast to read"],
         "metrics": {}, "blame": [] if subs >= 0.7 else ["subtitles"], "skipped": False},
        {"scorer": "script", "score": 0.0, "passed": True, "reasons": ["skipped: no LLM"], "metrics": {},
         "blame": [], "skipped": True},
    ]
    combined = round((video * 0.3 + 0.91 * 0.25 + subs * 0.2) / 0.75, 3)
    return {"iteration": n, "combined": {"score": combined, "passed": passed, "threshold": 0.7}, "reports": reports}


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "20260101-120000-abc123"
    (run / "scenes").mkdir(parents=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=12",
                    "-f", "lavfi", "-i", "sine=f=440", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", str(run / "final cut.mp4")], check=True)
    for k, colour in enumerate([(200, 140, 30), (40, 140, 40)]):
        img = np.zeros((90, 160, 3), np.uint8)
        img[:] = colour
        cv2.circle(img, (80, 45), 20, (255, 255, 255), -1)
        cv2.imwrite(str(run / "scenes" / f"scene_{k}.png"), img)
    cv2.imwrite(str(run / "insert_pip.png"), np.full((64, 64, 3), 180, np.uint8))
    plan = {"goal": "parody", "workflow": "parody", "strategy": "cot", "reasoning": "find, write, voice, edit",
            "steps": [{"id": "find_scene", "tool": "detect_scenes", "depends_on": []},
                      {"id": "write_script", "tool": "write_parody_script", "depends_on": ["find_scene"]},
                      {"id": "voice", "tool": "synthesize_speech", "depends_on": ["write_script"]},
                      {"id": "insert", "tool": "generate_image", "depends_on": ["write_script"]},
                      {"id": "edit", "tool": "edit_video", "depends_on": ["voice", "insert", "find_scene"]},
                      {"id": "score", "tool": "evaluate_media", "depends_on": ["edit"]}]}
    (run / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    trace = Trace(run / "trace.jsonl")
    trace.event("node", node="understand", summary="intent: parody")
    trace.event("tool.call", tool="detect_scenes", step="find_scene", ok=True, summary="5 scenes", seconds=1.2)
    trace.event("tool.call", tool="generate_image", step="insert", ok=False, error="no SDXL weights", seconds=0.01)
    trace.event("tool.call", tool="edit_video", step="edit", ok=True, summary="final cut.mp4", seconds=3.4)
    trace.event("quality.score", score=0.81, passed=True)
    result = {
        "request": "Make a funny parody of the ocean scene with <Pip> & Captain Brine",
        "final_answer": "Here is your 40 s parody.",
        "artifacts": [{"path": "scenes/scene_0.png", "kind": "image", "metadata": {"scene": "ocean 5.0-15.0s"}},
                      {"path": "scenes/scene_1.png", "kind": "image", "metadata": {"scene": "forest"}},
                      {"path": "insert_pip.png", "kind": "image", "metadata": {"prompt": "Pip waving"}},
                      {"path": "final cut.mp4", "kind": "video", "metadata": {"final": True}}],
        "quality": [_iteration(1, 0.52, 0.6, False), _iteration(2, 0.93, 0.88, True)],
        "evidence": [{"title": "Pip", "source": "knowledge/characters/pip.md", "text": "A teal sea kid.",
                      "origin": "knowledge"},
                     {"title": "Parody tips", "source": "https://example.org/parody", "text": "Exaggerate.",
                      "origin": "web"}],
    }
    (run / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return run


def test_report_shows_every_part(run_dir: Path) -> None:
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert "&lt;Pip&gt; &amp; Captain Brine" in html  # escaped, not injected
    assert re.search(r'<video controls[^>]*src="final%20cut.mp4"|<video controls[^>]*src="final cut.mp4"', html)
    assert 'class="chart"' in html and "iteration 2" in html and "threshold 0.7" in html
    assert html.count('class="step step-') == 6
    assert 'step-failed' in html and 'step-ok' in html and 'step-pending' in html
    assert "data:image/png;base64," in html  # small thumbnails are embedded
    assert 'href="https://example.org/parody"' in html and "knowledge/characters/pip.md" in html
    assert "no SDXL weights" in html and "Trace — 5 events" in html
    assert 'id="status">passed' in html and ">0.81<" not in html  # score shown is the last combined
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', html)  # nothing fetched from the web


def test_context_layout_and_status(run_dir: Path) -> None:
    ctx = build_context(run_dir)
    assert ctx["status"] == "passed" and ctx["iterations"] == 2
    assert ctx["score"] == pytest.approx(_iteration(2, 0.93, 0.88, True)["combined"]["score"])
    assert [i["label"] for i in ctx["media"]["scenes"]] == ["ocean 5.0-15.0s", "forest"]
    assert [i["label"] for i in ctx["media"]["generated"]] == ["Pip waving"]
    # the DAG puts `edit` right of both of its parents
    svg = str(ctx["plan_svg"])
    xs = {m.group(2): float(m.group(1)) for m in re.finditer(r'<text x="(\d+)" y="\d+" class="step-id">([^<]+)<', svg)}
    assert xs["find_scene"] < xs["write_script"] < xs["voice"] < xs["edit"] < xs["score"]
    assert xs["voice"] == xs["insert"]


def test_partial_and_corrupt_runs_still_render(tmp_path: Path) -> None:
    run = tmp_path / "run-killed"
    run.mkdir()
    Trace(run / "trace.jsonl").event("node", node="understand")
    with (run / "trace.jsonl").open("a") as fh:
        fh.write('{"ts": 1, "kind": "cut off by kill -')
    (run / "result.json").write_text("{not json", encoding="utf-8")
    html = render_report(run).read_text(encoding="utf-8")
    assert "result.json could not be read" in html and 'id="status">incomplete' in html
    assert "No plan was written." in html and "Trace — 1 events" in html
    with pytest.raises(FileNotFoundError):
        render_report(tmp_path / "nope")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    report = render_report(run_dir)
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
            f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
            "--allow-file-access-from-files"]
    dom = subprocess.run(base + ["--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=90)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<video controls" in dom.stdout and 'class="chart"' in dom.stdout and 'class="dag"' in dom.stdout
    shot = tmp_path / "report.png"
    run = subprocess.run(base + [f"--screenshot={shot}", "--window-size=1280,1700", "--hide-scrollbars",
                                 report.as_uri()], capture_output=True, text=True, timeout=90)
    logs = dom.stderr + run.stderr
    assert "Uncaught" not in logs and "ERROR:CONSOLE" not in logs, logs[-2000:]
    assert shot.exists() and shot.stat().st_size > 20_000
    img = cv2.imread(str(shot))
    assert img.shape[1] == 1280 and img.reshape(-1, 3).std(axis=0).mean() > 20  # a rendered page, not blank
    keep = Path("/tmp/animstudio_report_screenshot.png")
    shutil.copy(shot, keep)  # for a person to look at


def test_the_parody_script_shows_each_line_source_and_its_facts(run_dir: Path) -> None:
    result = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    result["step_results"] = {"script": {"tool": "write_parody_script", "result": {
        "technique": "nature documentary", "source": "llm_repaired", "why": "best of 2 model draft(s)",
        "facts": ["place: the forest", "motion peak at 2.5s (left)"],
        "script": {"title": "T", "lines": [
            {"character": "Narrator", "text": "Observe the hermit.", "start": 0.5, "source": "model"},
            {"character": "Narrator", "text": "He bolts left.", "start": 3.0, "source": "model_repaired"},
            {"character": "Narrator", "text": "Nature is cruel.", "start": 6.0, "source": "engine"}]}}}}
    (run_dir / "result.json").write_text(json.dumps(result), encoding="utf-8")
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert "nature documentary" in html and "motion peak at 2.5s (left)" in html
    for text, source in (("Observe the hermit.", "model"), ("He bolts left.", "model_repaired"),
                         ("Nature is cruel.", "engine")):
        assert re.search(re.escape(text) + r"\s*<span[^>]*>\(" + source + r"\)", html), (text, source)
