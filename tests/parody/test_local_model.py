"""The parody with the real embedded model (SmolLM2 on CPU): whatever it writes, a valid MP4 comes out."""
from __future__ import annotations

from pathlib import Path

import pytest

from agent import Agent
from tools.media.probe import media_info

pytestmark = pytest.mark.slow  # a real 135M model on CPU: tens of seconds


def test_local_model_makes_a_watchable_parody(parody_film, parody_settings):
    # One draft within a short budget keeps the test quick; the workflow's defaults apply otherwise.
    settings = parody_settings(llm={"backend": "local"}, agent={"max_iterations": 1})
    result = Agent(settings=settings).run("make a funny parody of the ocean scene", film=parody_film)
    assert result.plan["workflow"] == "parody"
    render = result.step_results["render"]
    assert render["ok"], render.get("error")
    script = result.step_results["script"]["result"]
    assert script["source"] in ("llm", "llm_repaired", "template") and script["why"]
    video = Path(result.run_dir) / render["result"]["video"]
    info = media_info(video)
    assert info.has_video and info.has_audio and info.duration > 5
    assert result.step_results["score"]["ok"] and result.quality[-1]["combined"] > 0
