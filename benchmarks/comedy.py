"""Comedy figures of the model-free parody writer on a fixed set of scenes (the sample film and the Sintel trailer).

For each scene: voiced lines, speech share of the parody, share of lines that name a fact of the scene,
long gaps with a beat left empty (the gate's comedy check); and across all scripts, lines that appear in
two of them. A parody meets the bar with ≥ 4 lines, speech ≥ 35 %, ≥ half its lines on a fact, no beat gap
missed and no line shared with another script. The ratio is the share of parodies meeting all of it.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/comedy.py [--sintel PATH]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCENES = {  # film → the users' words for three scenes of it
    "sample": ["the ocean scene", "the forest", "the sunset at the end of the day"],
    "sintel": ["the snowy mountains", "where she says she is searching for someone",
               "the desert where she has been alone"],
}
GOAL = 0.9


def main() -> int:
    from tools.core.context import make_context
    from tools.core.registry import invoke
    from tools.core.settings import load_settings
    from tools.media.sample_film import make_sample_film
    from tools.parody.comedy import norm
    from tools.parody.figures import figures
    from tools.parody.models import ParodyScript, SceneRef

    parser = argparse.ArgumentParser()
    parser.add_argument("--sintel", type=Path, default=ROOT.parent.parent / "shared" / "films" / "sintel_trailer.mp4")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="comedy_bench_"))
    settings = load_settings(overrides={"paths": {"cache_dir": str(tmp / "cache"), "runs_dir": str(tmp / "runs")}})
    films = {"sample": make_sample_film(tmp / "the_tide_keeper.mp4", width=320, height=180)}
    if args.sintel.is_file():
        films["sintel"] = args.sintel
    else:
        print(f"(the Sintel trailer is not at {args.sintel}: sample film only)")
    ctx = make_context(settings)
    rows, texts = [], []
    for name, film in films.items():
        ctx.workspace.allow_file(film)
        for words in SCENES[name]:
            found = invoke("find_scene", {"film": str(film), "query": words, "top_k": 1}, ctx)
            assert found.ok, found.error
            scene = SceneRef.model_validate(found.result["matches"][0]["scene"])
            t0 = time.perf_counter()
            out = invoke("write_parody_script", {"scene": scene.model_dump(), "request": f"spoof {words}",
                                                 "film": str(film)}, ctx)
            assert out.ok, out.error
            seconds = time.perf_counter() - t0
            script = ParodyScript.model_validate(out.result["script"])
            fig = figures(ctx, film, scene, script, out.result["footage_duration"], f"spoof {words}")
            rows.append((name, words, scene, out.result["technique"], fig, seconds))
            texts.append([norm(l.text) for l in script.lines])
    shared = Counter(t for lines in texts for t in set(lines))
    met = 0
    print(f"{'film':7} {'scene':46} {'technique':34} lines speech facts missed shared  s")
    for (name, words, scene, technique, fig, seconds), lines in zip(rows, texts):
        dup = sum(shared[t] > 1 for t in set(lines))
        ok = fig.meets and dup == 0
        met += ok
        print(f"{name:7} {words[:30] + f' {scene.start:.0f}-{scene.end:.0f}s':46} {technique[:34]:34} {fig.lines:5d} "
              f"{fig.speech_share:6.2f} {fig.fact_share:5.2f} {fig.beat_gaps_missed:6d} {dup:6d} {seconds:4.1f}"
              f"{'' if ok else '  (misses the bar)'}")
    ratio = met / max(1, len(rows))
    print(f"BENCH comedy: ratio={ratio:.2f} goal>={GOAL} {'PASS' if ratio >= GOAL else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
