"""Planning with the embedded model on the planning test set (tests/planning/requests.yaml).

Every request goes through the real planning path (`Agent.plan`: understand → retrieve (→ web)
→ plan) with the embedded SmolLM2-135M (llm.backend=local) and the shipped workflows; a plan is
right when its job is the expected one and the arguments the request states reached the tool
(tests/planning/cases.judge). Also printed: the seconds each plan took (aim: < 10 s on 2 cores).

Anchor, on the same set in the same run: routing by similarity alone (the request's MiniLM
embedding against each workflow's description and examples, nearest wins; what the agent did
before routing by job).

    .venv/bin/python benchmarks/planning.py [--limit N] [--film PATH]
BENCH line: ratio = right plans / all plans with the embedded model, goal >= 0.9.
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
from tests.planning.cases import case_inputs, judge, load_cases, make_world  # noqa: E402
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="only the first N requests")
    ap.add_argument("--film", type=Path, default=None, help="the film for requests that give one")
    args = ap.parse_args()
    cases = load_cases()[: args.limit or None]
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
    print(f"{len(cases)} requests; film for the film cases: {film}; llm: embedded SmolLM2-135M (local)")
    agent.plan("warm up: list my media library")  # model, embedder and knowledge base load once
    right, seconds, wrong = 0, [], []
    for case in cases:
        start = time.perf_counter()
        preview = agent.plan(case.request, film=film if case.film else None, inputs=case_inputs(case, world))
        seconds.append(time.perf_counter() - start)
        ok, why = judge(case, preview["intent"].get("workflow"), preview["plan"] if case.args else None)
        right += ok
        print(f"{len(seconds):3d}/{len(cases)} {seconds[-1]:5.1f}s {'ok   ' if ok else 'WRONG'} "
              f"{preview['intent'].get('workflow')}: {case.request[:60]}", flush=True)
        if not ok:
            wrong.append(f"  {case.request!r}: {why}")
    anchor = similarity_anchor(cases, settings)
    anchor_right = sum(a == c.expect for a, c in zip(anchor, cases))
    print("wrong plans:" if wrong else "wrong plans: none")
    print("\n".join(wrong))
    print(f"time per plan (s): mean={statistics.mean(seconds):.2f} median={statistics.median(seconds):.2f} "
          f"p90={sorted(seconds)[int(0.9 * (len(seconds) - 1))]:.2f} max={max(seconds):.2f} "
          f"(aim < 10 s on 2 cores) {'OK' if statistics.mean(seconds) < 10 else 'SLOW'}")
    print(f"anchor (similarity to descriptions/examples): {anchor_right}/{len(cases)} right jobs "
          f"= {anchor_right / len(cases):.3f}")
    ratio = right / len(cases)
    print(f"ours (embedded model, job routing): {right}/{len(cases)} right plans = {ratio:.3f}")
    print(f"BENCH planning: ratio={ratio:.3f} goal>=0.9 {'PASS' if ratio >= 0.9 else 'FAIL'}")


if __name__ == "__main__":
    main()
