"""Two deliverables where the second needs what the first makes: the text the write job writes is the
line the voice job says (the planner's `takes`/`gives` rule), not a question for the line. The scripted
model writes the text; synthesis is the real (test-configured) TTS."""
from __future__ import annotations

import wave
from pathlib import Path

import pytest

from agent import Agent
from agent.llm import FakeChatModel
from tests.agent.scripted import handler_for
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.settings import settings_from_dict

WRITTEN = "The octopus quit the band: too many arms, not enough hands to clap."
TWO_JOBS = "compose a two-line joke about a clumsy octopus and then have Captain Brine read it aloud"


def writer(text):
    """The scripted model: it answers the write step's schema with `text`, the rest as the graph tests do."""
    base = handler_for()

    def handler(call):
        if call.schema_title == "Draft":
            return {"text": text}
        return base(call)

    return handler


@pytest.fixture(scope="module")
def agent(planning_settings_dict):
    return Agent(settings=settings_from_dict(planning_settings_dict), llm=FakeChatModel(handler=writer(WRITTEN)))


def test_the_voice_step_reads_the_text_the_write_step_makes(agent):
    preview = agent.plan(TWO_JOBS)
    assert preview["question"] is None
    plan = preview["plan"]
    assert plan["jobs"] == ["write_script", "voice_line"]
    assert [(s["id"], s["tool"]) for s in plan["steps"]] == [("write", "write_text"),
                                                            ("voice_line_speak", "synthesize_speech")]
    speak = plan["steps"][1]
    assert speak["args"]["text"] == "${steps.write.text}" and "write" in speak["depends_on"]
    assert speak["args"]["voice"] == "Captain Brine"
    assert plan["slots"]["voice_line"]["line"]["source"] == "derived"


def test_a_run_voices_the_written_text(agent):
    result = agent.run(TWO_JOBS)
    assert result.status == "passed", result.final_answer
    written = result.step_results["write"]["result"]["text"]
    assert written == WRITTEN
    speech = result.step_results["voice_line_speak"]["result"]
    assert speech["text"] == WRITTEN and speech["character"] == "Captain Brine"  # what the voice said
    wav = Path(result.run_dir) / speech["audio"]
    assert wav.suffix == ".wav" and wav.stat().st_size > 1000
    with wave.open(str(wav)) as w:
        assert w.getnframes() > w.getframerate() // 2  # half a second of speech at least
    assert WRITTEN in result.final_answer


def test_with_no_text_to_take_the_line_is_still_asked(agent):
    # Nothing is written before the voice job: the line comes from nowhere, so it is asked.
    alone = agent.plan("get Captain Brine to read it out loud")
    assert alone["question"]["kind"] == "line" and alone["question"]["job"] == "voice_line"
    # A later job cannot feed an earlier one: voicing first still asks what to say.
    reversed_order = agent.plan("make Captain Brine speak, then write a limerick about gulls")
    assert reversed_order["question"]["kind"] == "line"


def test_a_quoted_line_is_the_persons_and_wins_over_the_written_text(agent):
    plan = agent.plan("write a shanty about barnacles and then make Pip say 'heave ho'")["plan"]
    speak = next(s for s in plan["steps"] if s["tool"] == "synthesize_speech")
    assert speak["args"]["text"] == "heave ho"


@pytest.mark.parametrize("reply, why", [("", "no valid output"), ("<joke>", "fewer than two words"),
                                        ("tide " * 200, "far past"), ("<setup> then <punchline>", "markup")])
def test_a_model_that_writes_nothing_usable_fails_the_step_plainly(planning_settings_dict, tmp_path, reply, why):
    from tools.core.workspace import Workspace

    ctx = make_context(settings_from_dict(planning_settings_dict), Workspace(tmp_path),
                       llm=FakeChatModel(handler=writer(reply)))
    out = invoke("write_text", {"request": "a joke about tides", "max_words": 40}, ctx)
    assert not out.ok and "no usable text" in out.error and why in out.error



def test_the_written_text_is_the_narration_only_when_a_narrator_is_asked_for(agent, tmp_path_factory):
    from tools.media.sample_film import make_sample_film

    film = make_sample_film(tmp_path_factory.mktemp("film") / "sea.mp4", duration_s=5.0, width=160, height=90)

    def render_args(request):
        plan = agent.plan(request, film=film)["plan"]
        assert plan["jobs"] == ["write_script", "subtitle_scene"]
        return next(s for s in plan["steps"] if s["tool"] == "render_subtitled_scene")["args"]

    asked = render_args("draft a short poem about fog, then subtitle the first scene with a narrator reading it out")
    assert asked["narration"] == "${steps.write.text}" and asked["add_narration"] is True
    unasked = render_args("draft a short poem about fog and subtitle the first scene")
    assert unasked["narration"] == "" and unasked["add_narration"] is False


def test_a_looping_model_keeps_each_sentence_once(planning_settings_dict, tmp_path):
    from tools.core.workspace import Workspace

    looped = "The gull sat down. It ordered chips! The gull sat down. the gull sat"
    ctx = make_context(settings_from_dict(planning_settings_dict), Workspace(tmp_path),
                       llm=FakeChatModel(handler=writer(looped)))
    out = invoke("write_text", {"request": "a gag about a gull"}, ctx)
    assert out.ok and out.result["text"] == "The gull sat down. It ordered chips!"
    assert out.result["dropped_repeats"] == 2 and "2 repeated" in out.summary
