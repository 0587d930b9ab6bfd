"""Planning with the embedded model on the planning sets: the tuning part (tests/planning/requests.yaml,
our own words, the rules were written against it), the frozen part (tests/planning/frozen.yaml,
written by someone who never saw the router, never tuned on), a second frozen part
(tests/planning/frozen_2.yaml, fresh wording written before the third round of rule changes; not tuned
on in round c, tuned on from round d) and a third frozen part (tests/planning/frozen_3.yaml, fresh wording written
before the fourth round of rule changes, never tuned on).

Every request goes through the real planning path (`Agent.plan`: understand → retrieve (→ web) →
plan, stopping at a question when the request leaves out what its job needs) with the embedded
SmolLM2-135M (llm.backend=local) and the shipped workflows; the film cases get a real film
(/work/shared/films/sintel_trailer.mp4 when present). A plan is right when it delivers the expected
job(s) with the arguments the request states, or asks the expected question (tests/planning/cases.judge).

Anchor, on the same sets in the same run: routing by similarity alone (the request's MiniLM embedding
against each workflow's description and examples, nearest wins; what the agent did before routing by
job; a question never counts for it).

    .venv/bin/python benchmarks/planning.py [--limit N] [--film PATH] [--only frozen|frozen_2|frozen_3|tuning ...]
BENCH line: ratio = right outcomes on the frozen part (frozen.yaml alone; frozen_2 and frozen_3 are not added to it),
goal >= 0.9; the second and third frozen parts and the tuning part are printed beside it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import Agent  # noqa: E402
from tests.planning.cases import FROZEN_2_FILE, FROZEN_3_FILE, case_inputs, judge, load_cases, load_frozen, make_world  # noqa: E402
from tools.core.embeddings import get_embedder  # noqa: E402
from tools.core.settings import settings_from_dict  # noqa: E402
from workflows import all_workflows  # noqa: E402

SHARED_FILM = Path("/work/shared/films/sintel_trailer.mp4")


def similarity_anchor(cases, settings) -> list[str]:
    """Nearest workflow by description/example similarity (the agent's earlier router)."""
    embedder = get_embedder(settings)
    names, texts = [], []
    for wf in all_workflows().values():
        for text in [wf.description, *wf.examples]:
            names.append(wf.name)
            texts.append(text)
    vectors = embedder.encode(texts)
    queries = embedder.encode([c.request for c in cases])
    return [names[int((vectors @ q).argmax())] for q in queries]


def run_part(name: str, cases, agent, film, world, settings) -> dict:
    right, seconds, wrong = 0, [], []
    for case in cases:
        start = time.perf_counter()
        preview = agent.plan(case.request, film=film if case.film else None, inputs=case_inputs(case, world))
        seconds.append(time.perf_counter() - start)
        question = preview.get("question")
        ok, why = judge(case, preview["intent"].get("workflow"), preview.get("plan"), question)
        right += ok
        got = f"asks {question['kind']}" if question else "+".join(preview["plan"].get("jobs") or
                                                                   [str(preview["plan"].get("workflow"))])
        print(f"{name} {len(seconds):3d}/{len(cases)} {seconds[-1]:5.1f}s {'ok   ' if ok else 'WRONG'} "
              f"{got}: {case.request[:70]}", flush=True)
        if not ok:
            wrong.append(f"  {case.request!r}: {why}")
    anchor = similarity_anchor(cases, settings)
    anchor_right = sum(a == c.expect[0] and len(c.expect) == 1 and not c.ask for a, c in zip(anchor, cases))
    return {"right": right, "n": len(cases), "seconds": seconds, "wrong": wrong, "anchor": anchor_right}


def report(name: str, part: dict) -> None:
    s, n = part["seconds"], part["n"]
    print(f"--- {name} part: wrong outcomes:" if part["wrong"] else f"--- {name} part: wrong outcomes: none")
    print("\n".join(part["wrong"]))
    print(f"{name}: time per plan (s): mean={statistics.mean(s):.2f} median={statistics.median(s):.2f} "
          f"p90={sorted(s)[int(0.9 * (len(s) - 1))]:.2f} max={max(s):.2f}")
    print(f"{name}: anchor (similarity to descriptions/examples): {part['anchor']}/{n} = {part['anchor'] / n:.3f}")
    print(f"{name}: ours (embedded model, deliverable routing + questions): {part['right']}/{n} = "
          f"{part['right'] / n:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="only the first N requests of each part")
    ap.add_argument("--film", type=Path, default=None, help="the film for requests that give one")
    ap.add_argument("--only", nargs="+", choices=["frozen", "frozen_2", "frozen_3", "tuning"], default=None)
    args = ap.parse_args()
    parts = {"frozen": load_frozen()[: args.limit or None], "frozen_2": load_cases(FROZEN_2_FILE)[: args.limit or None],
             "frozen_3": load_cases(FROZEN_3_FILE)[: args.limit or None],
             "tuning": load_cases()[: args.limit or None]}
    if args.only:
        parts = {name: parts[name] for name in args.only}
    root = Path(tempfile.mkdtemp(prefix="bench_planning_"))
    world = make_world(root / "world")
    film = args.film or (SHARED_FILM if SHARED_FILM.is_file() else None)
    if film is None:
        from tools.media.sample_film import make_sample_film

        film = make_sample_film(root / "sample.mp4", duration_s=12.0, width=320, height=180)
    settings = settings_from_dict({
        "llm": {"backend": "local"},
        "paths": {"runs_dir": str(root / "runs"), "datasets_dir": str(world["datasets"]),
                  "cache_dir": str(root / "cache"), "media_roots": [], "checkpoint_db": str(root / "cp.sqlite")},
        "rag": {"persist_dir": str(root / "chroma")},
        "scheduler": {"lock_dir": str(root / "locks")},
        "web": {"enabled": False},
    })
    agent = Agent(settings=settings)
    print(f"{sum(len(c) for c in parts.values())} requests; film for the film cases: {film}; "
          "llm: embedded SmolLM2-135M (local)")
    agent.plan("warm up: list my media library")  # model, embedder and knowledge base load once
    results = {name: run_part(name, cases, agent, film, world, settings) for name, cases in parts.items()}
    for name, part in results.items():
        report(name, part)
    for name, part in results.items():
        print(f"{name} part {part['right']}/{part['n']} = {part['right'] / part['n']:.3f}")
    if "frozen" not in results:
        return
    frozen = results["frozen"]
    ratio = frozen["right"] / frozen["n"]
    print(f"BENCH planning: ratio={ratio:.3f} goal>=0.9 {'PASS' if ratio >= 0.9 else 'FAIL'}")


if __name__ == "__main__":
    main()
