"""Does the script judge tell a good parody script from a bad one? The checklist judge against the 1–5 rubric.

For a scene of a film (the Sintel trailer and the sample film by default) two scripts are judged on the same
times: a good one (the comedy engine's lines, written from the scene's measured facts within a technique) and
a bad one (lines about things the scene does not show: taxes, printers, groceries). Each is judged by the
checklist judge (tools/quality/judge.py: yes/no questions per line, score = share of yeses) and, as the
anchor, by the 1–5 rubric it replaces (relevance, humour, character consistency, weighted, in one call).
A judge discriminates when the good script scores clearly above the bad one. The ratio is the checklist's
smallest spread (good − bad) over the films; the anchor's spreads are printed beside it.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/judge_checklist.py --model PATH.gguf [--films sintel,sample]
        [--sintel PATH] [--sample PATH] [--no-anchor]
    (no --model: the packaged SmolLM2-135M)
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FILMS = {"sintel": ("where she says she is searching for someone", "make a funny parody of this scene"),
         "sample": ("the harbour", "a comic redub with grumpy sailors")}
OFF_TOPIC = ["My tax return is due on Friday.", "The printer upstairs is jammed again.",
             "Remember to buy oat milk.", "Quarterly figures look stable.", "Parking costs more this year.",
             "The wifi password changed.", "Dentist at nine tomorrow.", "Please file the invoices."]
GOAL = 0.3

ANCHOR_RUBRIC = """You are a strict script editor judging a short parody script for an animated film.
Rate each criterion from 1 (bad) to 5 (excellent):
- relevance: does the script do what the request asks (the film, the scene, the kind of parody)?
- humour: is it actually funny (surprise, exaggeration, timing), not just a list of jokes?
- character_consistency: do the characters sound like themselves (voice, attitude, relationships)?
List concrete issues (at most 5) and give one sentence of overall feedback. Do not be generous: 3 is average."""
ANCHOR_WEIGHTS = {"relevance": 0.4, "humour": 0.35, "character_consistency": 0.25}


class JudgeVerdict(BaseModel):  # the 1–5 rubric the checklist replaced (the anchor)
    relevance: int = Field(ge=1, le=5)
    humour: int = Field(ge=1, le=5)
    character_consistency: int = Field(ge=1, le=5)
    issues: list[str] = Field(default_factory=list, max_length=8)
    feedback: str = ""


def anchor_score(llm, settings, request: str, script: str) -> float:
    from langchain_core.messages import HumanMessage, SystemMessage

    from tools.core.structured_output import invoke_structured

    v = invoke_structured(llm, [SystemMessage(content=ANCHOR_RUBRIC),
                                HumanMessage(content=f"Request: {request}\nScript:\n{script}")], JudgeVerdict,
                          retries=settings.llm.structured_retries, purpose="anchor.judge")
    return sum(w * (getattr(v, k) - 1) / 4 for k, w in ANCHOR_WEIGHTS.items())


def main() -> int:
    from agent.llm import create_chat_model
    from tools.core.context import make_context
    from tools.core.registry import invoke
    from tools.core.settings import load_settings
    from tools.parody import comedy
    from tools.parody.beats import moments
    from tools.parody.facts import scene_facts, with_request_place
    from tools.parody.models import TITLE_CARD_S, SceneRef
    from tools.parody.script_writer import footage_seconds, target_duration
    from tools.parody.techniques import choose
    from tools.quality.judge import JudgedLine, Moment, on_screen_at, score_script

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=None, help="a GGUF (default: the packaged SmolLM2-135M)")
    parser.add_argument("--films", default="sintel,sample")
    parser.add_argument("--no-anchor", action="store_true")
    parser.add_argument("--sintel", type=Path, default=ROOT.parent.parent / "shared" / "films" / "sintel_trailer.mp4")
    parser.add_argument("--sample", type=Path, default=ROOT / "samples" / "the_tide_keeper.mp4")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="judge_bench_"))
    settings = load_settings(overrides={"paths": {"runs_dir": str(tmp / "runs")},
                                        "llm": {"backend": "local", "local": {"model_path": str(args.model) if args.model else None}},
                                        "quality": {"judge_on_default_local": True}})
    ctx = make_context(settings)
    llm = create_chat_model(settings)
    name = args.model.name if args.model else "SmolLM2-135M (packaged)"
    spreads, anchor_spreads = [], []
    for film_name in [f for f in args.films.split(",") if f]:
        words, request = FILMS[film_name]
        film = getattr(args, film_name)
        if not film.is_file():
            print(f"({film} is missing: {film_name} left out)")
            continue
        ctx.workspace.allow_file(film)
        found = invoke("find_scene", {"film": str(film), "query": words, "top_k": 1}, ctx)
        assert found.ok, found.error
        scene = SceneRef.model_validate(found.result["matches"][0]["scene"])
        footage = footage_seconds(target_duration(scene, None))
        facts = with_request_place(scene_facts(ctx, film, scene), request)
        technique = choose(facts.offers(), [], [], 0, key=film_name)
        written = comedy.write(facts, footage, technique, [], set(), seed=1)
        when = [Moment(start=a + TITLE_CARD_S, end=b + TITLE_CARD_S, what=w) for a, b, w in moments(facts, footage)]
        good = [JudgedLine(speaker=l.character, text=l.text, start=l.start + TITLE_CARD_S, end=l.end + TITLE_CARD_S)
                for l in written.script.lines]
        bad = [g.model_copy(update={"text": OFF_TOPIC[i % len(OFF_TOPIC)]}) for i, g in enumerate(good)]
        print(f"\n{film_name}: scene {scene.start:.1f}-{scene.end:.1f}s, technique '{technique.name}', judge {name}")
        scores = {}
        for label, lines in (("good", good), ("bad", bad)):
            lines = [ln.model_copy(update={"on_screen": on_screen_at(when, ln.start, ln.end)}) for ln in lines]
            text = "\n".join(f"{ln.speaker}: {ln.text}" for ln in lines)
            t0 = time.perf_counter()
            report = score_script(text, request, settings, llm, lines=lines, facts=facts.plain())
            seconds = time.perf_counter() - t0
            anchor = None
            if not args.no_anchor:
                t1 = time.perf_counter()
                anchor = anchor_score(llm, settings, request, text)
                anchor_s = time.perf_counter() - t1
            scores[label] = (report.score if not report.skipped else None, anchor)
            print(f"  {label}: checklist {report.score:.2f} ({report.reasons[0]}; {seconds:.0f}s)"
                  + (f"; 1-5 rubric {anchor:.2f} ({anchor_s:.0f}s)" if anchor is not None else ""))
            for ln in lines:
                print(f"      {ln.speaker}: {ln.text}")
            for c in report.metrics.get("checklist", []):
                print(f"      - {c['question']}: {c['answer']}" + (f" ({c['evidence']})" if c["evidence"] else ""))
        if scores["good"][0] is not None and scores["bad"][0] is not None:
            spreads.append(scores["good"][0] - scores["bad"][0])
        if scores["good"][1] is not None:
            anchor_spreads.append(scores["good"][1] - scores["bad"][1])
    ratio = min(spreads) if spreads else 0.0
    print(f"\nchecklist spreads (good - bad): {[round(s, 2) for s in spreads]}; "
          f"1-5 rubric spreads: {[round(s, 2) for s in anchor_spreads] or 'not run'}")
    print(f"BENCH judge_checklist: ratio={ratio:.2f} goal>={GOAL} {'PASS' if ratio >= GOAL else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
