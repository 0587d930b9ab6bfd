"""The script belongs to the scene (its lines, its place, names nobody invented) and the footage stays in it."""
from __future__ import annotations

import pytest

from agent.llm import FakeChatModel
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.parody.models import ParodyScript, SceneRef, ScriptEffect, ScriptLine
from tools.parody.script_writer import target_duration
from tools.parody.timeline import Mix, TimedLine, build_edl, share_in_scene

SNOW = {"index": 4, "start": 20.0, "end": 26.5, "description": "evenly lit scene; snow, ice or fog: a cold white-grey "
        "winter landscape, snowy mountains; colours: gray", "lines": [
            {"text": "Who goes there at this hour?", "start": 21.0, "end": 22.4},
            {"text": "Just a traveller with cold feet.", "start": 23.0, "end": 24.6}]}
OTHER_PLACES = ("ocean", "sea", "fish", "damp", "towel", "wave", "beach", "forest", "harbour")


def _script(settings, handler=None, **args):
    ctx = make_context(settings, llm=FakeChatModel(handler=handler) if handler else None)
    out = invoke("write_parody_script", {"scene": SNOW, **args}, ctx)
    assert out.ok, out.error
    return out.result


@pytest.mark.parametrize("iteration", range(5))
def test_the_engine_writes_from_this_scene(isolated_settings, iteration):
    res = _script(isolated_settings, request="a deadpan spoof of the bit where the old hermit meets the girl",
                  iteration=iteration)
    assert res["source"] == "template"
    text = res["text"].lower()
    speakers = {line["character"] for line in res["script"]["lines"]}
    assert speakers <= {"Narrator", "Old Hermit", "Girl", "A Passing Stranger"}, speakers
    assert speakers & {"Old Hermit", "Girl"} or "old hermit" in text  # the request's character speaks or is named
    assert not [w for w in OTHER_PLACES if f" {w}" in f" {text}"], text  # no other scene's place words
    assert "who goes there" in text or "just a traveller" in text  # a line said in the scene, quoted back


def test_names_nobody_gave_are_never_spoken(isolated_settings):
    draft = {"title": "The Cold Truth", "lines": [
        {"character": "The Ocean's Revenge", "text": "I have come for your sandwiches."},
        {"character": "Narrator", "text": "The mountain did not ask for this."},
        {"character": "Sintel", "text": "Who invited the weather?"},
        {"character": "Barnaby", "text": "My feet are ice cubes now."}], "effects": []}
    res = _script(isolated_settings, lambda c: draft if c.schema_title == "ScriptDraft" else None,
                  request="spoof the snowy bit where Sintel meets the hermit", duration_s=14.0)
    speakers = [line["character"] for line in res["script"]["lines"]]
    assert "The Ocean's Revenge" not in speakers and "Barnaby" not in speakers
    assert "Sintel" in speakers  # named in the request
    assert set(speakers) <= {"Narrator", "Sintel", "Hermit"}


def test_a_capable_model_hears_what_is_said_and_seen(isolated_settings):
    prompts = []

    def handler(call):
        if call.schema_title == "ScriptDraft":
            prompts.append(call.last_text)
        return None

    _script(isolated_settings, handler, request="roast this scene", candidates=1)
    assert prompts and "Who goes there at this hour?" in prompts[0] and "snowy mountains" in prompts[0]


def test_the_length_follows_the_scene_unless_the_request_names_one():
    assert target_duration(SceneRef(start=0, end=4.0), None) == 12.0  # clamped up: room for a setup, the scene's own line and a punchline
    assert target_duration(SceneRef(start=0, end=20.0), None) == 22.0  # 20 s of scene + the title card
    assert target_duration(SceneRef(start=0, end=200.0), None) == 45.0  # clamped down
    assert target_duration(SceneRef(start=0, end=4.0), 30.0) == 30.0  # stated


def _edl(scene: SceneRef, footage: float, extend: bool = False):
    others = [SceneRef(index=i, start=float(i * 10), end=float(i * 10 + 10)) for i in range(6)]
    script = ParodyScript(title="T", lines=[ScriptLine(character="Narrator", text="Line one here.", start=0.5, end=2.0)],
                          effects=[ScriptEffect(kind="freeze_frame", at=3.0, duration=1.0, caption="Hm.")])
    lines = [TimedLine(character="Narrator", text="Line one here.", start=0.5, end=2.0, audio="a.wav", voice_end=1.9)]
    return build_edl(film="f.mp4", film_duration=60.0, scenes=others, match=scene, script=script, lines=lines,
                     footage=footage, mix=Mix(), output="o.mp4", size=(320, 180), fps=24.0, extend=extend)


def test_a_short_scene_is_stretched_in_place_not_walked_out_of():
    scene = SceneRef(index=2, start=20.0, end=23.0)
    edl, spans, decided = _edl(scene, footage=12.0)
    assert decided["in_scene"] == 1.0 and share_in_scene(spans, scene) == 1.0
    assert all(20.0 - 0.05 <= s.src_start and s.src_end <= 23.05 for s in spans if s.kind != "title")
    replays = [s for s in spans if s.kind == "replay"]  # again, in slow motion: one continuous pass to the scene's end
    assert replays and all(abs(a.src_end - b.src_start) < 0.01 for a, b in zip(replays, replays[1:]))
    assert abs(replays[-1].src_end - 23.0) < 0.05 and all(s.speed <= 0.5 for s in replays)
    assert [o.text for o in edl.overlays].count("Again, in slow motion.") == 1
    assert abs(sum(s.out_end - s.out_start for s in spans) - 14.0) < 0.05


def test_only_a_request_for_more_walks_into_the_next_scenes():
    scene = SceneRef(index=2, start=20.0, end=23.0)
    _, spans, decided = _edl(scene, footage=12.0, extend=True)
    assert decided["window"][1] > 23.0 and decided["in_scene"] < 0.5


def test_the_black_a_shot_fades_in_from_is_not_shown(isolated_settings, tmp_path):
    import subprocess

    from tools.parody.assemble import without_black_edges

    film = tmp_path / "fade in.mp4"  # 1 s of black, 3 s of picture, 0.6 s of black
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=black:s=160x90:r=24:d=1",
                    "-f", "lavfi", "-i", "testsrc=s=160x90:r=24:d=3", "-f", "lavfi", "-i", "color=black:s=160x90:r=24:d=0.6",
                    "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1[v]", "-map", "[v]", "-pix_fmt", "yuv420p",
                    str(film)], check=True)
    ctx = make_context(isolated_settings)
    shown = without_black_edges(ctx, film, SceneRef(index=0, start=0.0, end=4.6))
    assert abs(shown.start - 1.0) < 0.1 and abs(shown.end - 4.0) < 0.1, shown
    lit = without_black_edges(ctx, film, SceneRef(index=1, start=1.5, end=3.5))
    assert (lit.start, lit.end) == (1.5, 3.5)  # nothing black: the scene as found
    dark = without_black_edges(ctx, film, SceneRef(index=2, start=0.0, end=0.9))
    assert (dark.start, dark.end) == (0.0, 0.9)  # all black (a title card, credits): kept whole
