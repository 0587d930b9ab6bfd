"""The studio in a real browser: Playwright drives the system Chromium (browsers cannot be downloaded
here). A parody on the sample film with the scripted model: live progress → approve the script →
the finished run with its video → the report. Saves a screenshot (docs/images/studio.png when
ANIMSTUDIO_UPDATE_SCREENSHOTS=1)."""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.studio.conftest import HERE, live_server, studio_settings_dict

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "studio.png"
WATCH = """window.__seen = {progress: 0};
new MutationObserver(() => { if (document.querySelector('.progress-item')) window.__seen.progress++; })
  .observe(document, {subtree: true, childList: true});"""

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system chromium (.ci/setup.sh)")


@pytest.fixture
def live_studio(tmp_path):
    from tools.core.settings import settings_from_dict
    from tools.media.sample_film import make_sample_film

    data = studio_settings_dict(tmp_path, llm={"fake": {"script": str(HERE / "fake_parody.yaml")}},
                                quality={"min_height": 180}, agent={"workflow_dirs": []})
    make_sample_film(tmp_path / "samples" / "the tide keeper.mp4", duration_s=12.0, width=320, height=180)
    with live_server(settings_from_dict(data)) as url:
        yield url


def test_parody_with_review_in_the_browser(live_studio, tmp_path):
    from playwright.sync_api import sync_playwright

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
        page.wait_for_selector("#log li", timeout=120_000)  # node lines arrive over the live stream

        page.wait_for_selector("#review #approve", timeout=240_000)
        assert page.locator("#run-status").get_attribute("data-status") == "awaiting_review"
        shown = page.eval_on_selector_all("#review input[name=text]", "els => els.map(e => e.value)")
        page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
        assert "Stand back. I am a professional." in shown, shown
        assert "find_scene" in page.inner_html("#plan-diagram")  # the plan diagram filled in
        page.click("#approve")

        page.wait_for_selector("#final-video", timeout=300_000)
        assert page.locator("#run-status").get_attribute("data-status") == "passed"
        assert page.evaluate("window.__seen.progress") > 0  # progress bars moved while it rendered
        duration = page.eval_on_selector("#final-video", """v => new Promise(ok => v.readyState >= 1 ? ok(v.duration)
            : v.addEventListener('loadedmetadata', () => ok(v.duration)))""")
        assert abs(duration - 12.0) < 0.5
        assert "Pip and the Very Big Wave" in page.inner_text("#result")
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
        assert page.eval_on_selector("#video video", """v => new Promise(ok => v.readyState >= 1 ? ok(v.duration)
            : v.addEventListener('loadedmetadata', () => ok(v.duration)))""") > 11.5
        assert "passed" in page.inner_text("#status")
        browser.close()
