"""The quality gate on a labelled set of parodies: does it fail every broken one, with the right blame,
and pass the good ones? And what does it cost on a 30 s parody?

The set (tests/quality/labelled.py) is made with the project's own tools from the 40 s sample film
(640x360) and, when present, ../shared/films/sintel_trailer.mp4: good parodies and broken ones of each
kind (wrong scene, a script for another scene, a silent voice, a voice saying other words, subtitles
missing from the picture, a made-up character, a 30 s render of a short scene walking into the next).

Prints the confusion table (rows: kinds; columns: passed / failed with the expected blame / failed
otherwise), the false failures of the good ones, the gate's cost on the 30 s walk-through parody of the
sample film (wall and CPU seconds; cold = the first output scored in this process, model loads included;
warm = scored again; seconds per scorer), and ends with
`BENCH quality_gate: ratio=<broken caught / broken> goal>=1.0 PASS|FAIL`.

    .venv/bin/python benchmarks/quality_gate.py [--no-sintel] [--keep DIR] [--reuse DIR]

`--reuse DIR` scores the outputs a `--keep DIR` run built (the set is built once, scored again).
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def sintel_film() -> Path | None:
    for base in (ROOT, *ROOT.parents):
        path = base / "shared" / "films" / "sintel_trailer.mp4"
        if path.is_file():
            return path
    return None


def cases(tmp: Path, with_sintel: bool):
    from tests.quality.labelled import FilmCase
    from tools.media.sample_film import make_sample_film

    film = make_sample_film(tmp / "samples" / "the_tide_keeper.mp4", duration_s=40.0)
    out = [FilmCase(name="sample", film=film, request="give the walk through the woods a silly voice-over",
                    scene=2, other=3, footage_s=7.0, short_scene=1, walk_s=28.0,
                    short_request="turn the bright blue sea with its waves into a sitcom")]
    sintel = sintel_film() if with_sintel else None
    if sintel is not None:
        out.append(FilmCase(name="sintel", film=sintel, request="make fun of the calm gray shot", scene=1, other=10,
                            footage_s=8.0, short_scene=6, walk_s=28.0,
                            short_request="spoof the night town with lit windows"))
    else:
        print("sintel_trailer.mp4 not found (../shared/films): the set is the sample film's only")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-sintel", action="store_true")
    parser.add_argument("--keep", type=Path, help="build under this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="score the set a --keep run built in this folder")
    opts = parser.parse_args()
    from tests.conftest import isolated_settings_dict
    from tests.quality.labelled import BROKEN_KINDS, EXPECTED, build, caught, knowledge, load, score
    from tools.core.settings import settings_from_dict

    tmp = opts.reuse or opts.keep or Path(tempfile.mkdtemp(prefix="quality-gate-bench-"))
    try:
        data = isolated_settings_dict(tmp)
        data["rag"] = {"persist_dir": str(tmp / "chroma")}
        (tmp / "samples").mkdir(parents=True, exist_ok=True)
        settings = settings_from_dict(data)
        kb = knowledge(settings)
        items = []
        if opts.reuse:
            items = [i for i in load(tmp / "out") if not (opts.no_sintel and i.film == "sintel")]
            print(f"reusing {len(items)} parodies built in {tmp / 'out'}")
        else:
            for case in cases(tmp, not opts.no_sintel):
                t0 = time.perf_counter()
                built = build(case, settings, tmp / "out", kb)
                print(f"built {len(built)} {case.name} parodies in {time.perf_counter() - t0:.0f}s")
                items += built
        # The 30 s walk-through parody of the sample film first: its first scoring pays the model loads (cold).
        walk = next(i for i in items if i.kind == "walk_through" and i.film == "sample")
        c0 = cpu_seconds()
        score(walk, settings, kb)
        cold = (walk.seconds, cpu_seconds() - c0)
        c0 = cpu_seconds()
        score(walk, settings, kb)
        warm = (walk.seconds, cpu_seconds() - c0)
        per_scorer = {r["scorer"]: r["metrics"].get("seconds") for r in walk.verdict["reports"] if not r["skipped"]}
        walls = []
        for item in items:
            if item is not walk:
                score(item, settings, kb)
                walls.append(item.seconds)

        table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        print(f"\n{'film':8} {'kind':20} {'verdict':8} {'blame':28} expected")
        for item in items:
            v = item.verdict
            if item.kind == "good":
                cell = "passed" if v["passed"] else "failed"
            else:
                cell = "caught" if caught(item) else ("passed" if v["passed"] else "wrong blame")
            table[item.kind][cell] += 1
            want = "/".join(EXPECTED[item.kind]) if item.kind in EXPECTED else "pass"
            print(f"{item.film:8} {item.kind:20} {'PASS' if v['passed'] else 'FAIL':8} {','.join(v['blame']):28} {want}")
            if (item.kind == "good") != v["passed"] or (item.kind != "good" and not caught(item)):
                for r in v["reports"]:
                    if not r["passed"] and not r["skipped"]:
                        print(f"{'':38}{r['scorer']}: {'; '.join(r['reasons'])[:150]}")
        print(f"\n{'kind':20} {'passed':>7} {'caught':>7} {'wrong blame':>12}")
        for kind in ("good", *BROKEN_KINDS):
            row = table[kind]
            print(f"{kind:20} {row['passed']:>7} {row['caught'] + (row['failed'] if kind == 'good' else 0):>7} "
                  f"{row['wrong blame']:>12}" + ("   (good: 'caught' = falsely failed)" if kind == "good" else ""))
        broken = [i for i in items if i.kind != "good"]
        good = [i for i in items if i.kind == "good"]
        got = sum(caught(i) for i in broken)
        false_fail = sum(not i.verdict["passed"] for i in good)
        print(f"\nbroken caught with the right blame: {got}/{len(broken)}")
        print(f"false failures of good parodies: {false_fail}/{len(good)} ({false_fail / max(1, len(good)):.0%})")
        length = walk.args.get("target_duration") or 0.0
        print(f"gate on the {length:.0f} s walk-through parody (sample film): cold {cold[0]:.2f}s wall / "
              f"{cold[1]:.2f}s CPU (first output scored: model loads included), warm {warm[0]:.2f}s wall / "
              f"{warm[1]:.2f}s CPU")
        print("  seconds per scorer (warm; the slow ones run side by side): "
              + ", ".join(f"{k} {v:.2f}" for k, v in per_scorer.items() if v is not None))
        print(f"gate per output (warm, the other {len(walls)}): mean {sum(walls) / max(1, len(walls)):.2f}s wall, "
              f"max {max(walls, default=0.0):.2f}s")
        ratio = got / len(broken)
        print(f"BENCH quality_gate: ratio={ratio:.2f} goal>=1.0 {'PASS' if ratio >= 1.0 else 'FAIL'}")
    finally:
        if opts.keep is None and opts.reuse is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
