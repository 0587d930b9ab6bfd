"""The studio in a real browser: Playwright drives the system Chromium (browsers cannot be downloaded
here). One parody of the sample film with the scripted model, followed as a newcomer would: the
live log and the running step → a refused script edit keeps the text typed → approve → cancel
during the render (its programs stop) → resume → the finished run with its video → the report and
back. Saves a screenshot (docs/images/studio.png when ANIMSTUDIO_UPDATE_SCREENSHOTS=1)."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import psutil
import pytest

from tests.studio.conftest import HERE, live_server, studio_settings_dict

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "studio.png"
# What a watcher saw while the page was live: progress bars, their counts, the running step.
WATCH = """window.__seen = {progress: 0, counts: [], running: []};
new MutationObserver(() => {
  for (const el of document.querySelectorAll('.progress-item .legend-row')) window.__seen.counts.push(el.textContent);
  if (document.querySelector('.progress-item')) window.__seen.progress++;
  const step = document.querySelector('#running-step');
  if (step && document.querySelector('svg .step-running')) window.__seen.running.push(step.textContent);
}).observe(document, {subtree: true, childList: true});"""
# The last log line lies inside the visible part of the log box (the box follows the run).
LAST_LINE_IN_VIEW = """() => { const box = document.querySelector('#log-box'), items = box.querySelectorAll('li');
  if (!items.length) return false; const b = box.getBoundingClientRect(), l = items[items.length - 1].getBoundingClientRect();
  return l.bottom <= b.bottom + 1 && l.top >= b.top - 1; }"""
TOO_LONG = "and then the lighthouse keeper explains the whole history of the harbour, very slowly"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system chromium (.ci/setup.sh)")


@pytest.fixture
def live_studio(tmp_path):
    from tools.core.settings import settings_from_dict
    from tools.media.sample_film import make_sample_film

    # The shipped knowledge is ingested, as a user's first run does: it is what knows Pip and Gull as the
    # sample film's cast (a name the model fills in must belong to the film's documents).
    data = studio_settings_dict(tmp_path, llm={"fake": {"script": str(HERE / "fake_parody.yaml")}},
                                quality={"min_height": 180}, agent={"workflow_dirs": []}, rag={"auto_ingest": True})
    make_sample_film(tmp_path / "samples" / "the tide keeper.mp4", duration_s=12.0, width=320, height=180)
    with live_server(settings_from_dict(data)) as url:
        yield url


def _video_duration(page, selector: str) -> float:
    return page.eval_on_selector(selector, """v => new Promise(ok => v.readyState >= 1 ? ok(v.duration)
        : v.addEventListener('loadedmetadata', () => ok(v.duration)))""")


def _cancel_during_the_render(page, run_id: str) -> list[int]:
    """Wait until the run has a program running (ffmpeg, a voice), press Cancel; the pids it had."""
    from tools.core.child_processes import scope_children

    deadline = time.time() + 240
    while not (pids := scope_children(run_id)):
        assert time.time() < deadline, "the run started no program after the review"
        time.sleep(0.05)
    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel this run?"
    page.click("#cancel-button")
    return pids


def test_a_parody_followed_reviewed_cancelled_and_resumed_in_the_browser(live_studio, tmp_path):
    from playwright.sync_api import sync_playwright

    from tools.core.child_processes import scope_children

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1180, "height": 860})
        page.add_init_script(WATCH)
        page.goto(live_studio + "/")
        page.fill("textarea[name=request]", "give the sea scene a goofy comedy voice-over")
        page.select_option("select[name=film]", "the tide keeper.mp4")
        page.select_option("select[name=llm]", "fake")
        page.check("input[name=review]")
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/runs/*")
        run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        page.wait_for_selector("#log li", timeout=120_000)  # node lines arrive over the live stream
        assert "the tide keeper.mp4" in page.inner_text("#log li")  # the first line names the chosen film
        page.wait_for_selector("svg .step-running", timeout=120_000)  # the plan marks the step at work
        page.screenshot(path=str(tmp_path / "running.png"), full_page=True)

        # The review: an edit that cannot fit the footage is refused, and what was typed stays.
        page.wait_for_selector("#review #approve", timeout=240_000)
        assert page.locator("#run-status").get_attribute("data-status") == "awaiting_review"
        assert "The model wrote this script" in page.inner_text("#script-source")
        texts = page.locator("#review input[name=text]")
        shown = [texts.nth(i).input_value() for i in range(texts.count())]
        assert "Splash! Nailed it." in shown, shown  # the model's line that fits its gap, as it wrote it
        for i in range(texts.count()):
            texts.nth(i).fill(f"{TOO_LONG} {i}")
        page.click("#edit")
        page.wait_for_selector("#review .error")
        assert "footage" in page.inner_text("#review .error")
        kept = [texts.nth(i).input_value() for i in range(texts.count())]
        assert kept[: len(shown)] == [f"{TOO_LONG} {i}" for i in range(len(shown))], kept  # the added line too
        assert "find_scene" in page.inner_html("#plan-diagram")
        page.click("#approve")  # the script as the model wrote it

        # Cancel during the render: the run stops, its programs are gone, and it can be resumed.
        pids = _cancel_during_the_render(page, run_id)
        page.wait_for_selector("#run-status[data-status=cancelled]", timeout=60_000)
        assert not scope_children(run_id)
        assert all(not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE for pid in pids)
        assert "resume" in page.inner_text("#stop-reason").lower()
        page.click("#resume-button")

        page.wait_for_selector("#final-video", timeout=300_000)
        assert page.locator("#run-status").get_attribute("data-status") == "passed"
        seen = page.evaluate("window.__seen")
        assert seen["progress"] > 0  # progress bars moved while it rendered
        assert seen["running"], "no step was marked as running"
        assert not [c for c in seen["counts"] if ".0 of" in c or ".0/" in c], seen["counts"]  # "3 of 4", not "3.0/4"
        assert page.evaluate(LAST_LINE_IN_VIEW)  # the log followed the run to its end
        assert "finish" in page.locator("#log li").last.inner_text()
        assert abs(_video_duration(page, "#final-video") - 12.0) < 0.5
        assert "Pip and the Very Big Wave" in page.inner_text("#result")
        assert "](" not in page.inner_text("#answer")  # markdown is rendered, not shown raw
        page.eval_on_selector("#final-video", """v => new Promise(ok => { v.addEventListener('seeked', ok);
            v.currentTime = 6.5; })""")  # a frame with the subtitles, for the screenshot
        shot = tmp_path / "studio.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("ANIMSTUDIO_UPDATE_SCREENSHOTS") == "1":
            from PIL import Image

            DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
            Image.open(shot).convert("RGB").quantize(colors=128).save(DOCS_SHOT, optimize=True)

        page.click("#report-link")
        page.wait_for_selector("#video video")
        assert _video_duration(page, "#video video") > 11.5
        assert "passed" in page.inner_text("#status")
        page.click("#studio-link")  # the report leads back to the run
        page.wait_for_url(f"**/ui/runs/{run_id}")
        page.goto(live_studio + "/ui/runs")
        assert page.inner_text(f"a[href='/ui/runs/{run_id}']") == run_id
        assert page.request.get(live_studio + "/favicon.ico").status == 200
        browser.close()
