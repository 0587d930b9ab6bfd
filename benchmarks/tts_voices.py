"""Benchmark: the demo's lines voiced by Piper (the default) and espeak-ng (the anchor), heard back by Whisper.

Lines: the parody template's lines for the sample film's cast (every variant; the offline demo
voices one of them), or the script a finished parody run voiced (`--run runs/<id>`). Each line goes through the real
`synthesize_speech` tool with its speaker's preset, once per backend, on the same machine in the
same run. Figures: realtime factor (synthesis seconds / audio seconds; the backend alone and the
whole tool with the ffmpeg finishing pass) and the word error rate of Whisper tiny.en
(faster-whisper, tools/audio/asr.py) against the script, overall and with the cast's names left out
(Whisper invents spellings for made-up names).

BENCH tts_voice: ratio = Piper WER / espeak-ng WER (all words); goal < 1.0 (Piper is understood better).

    .venv/bin/python benchmarks/tts_voices.py [--run runs/<id>]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.audio import backends
from tools.audio.asr import transcribe
from tools.audio.tts import synthesize
from tools.core.context import make_context
from tools.core.settings.loader import settings_from_dict
from tools.core.workspace import Workspace
from tools.media.character_presets import load_characters
from tools.parody.voices import FALLBACK_VOICES
from tools.quality.speech import NUMBER_WORDS

CAST = ["Pip", "Captain Brine"]  # the sample film's characters (knowledge/), voiced by their presets
SCENE = "ocean or sea under a blue sky, calm water"
DIGITS = {str(n): word for n, word in enumerate(NUMBER_WORDS)}


def demo_lines(run: Path | None) -> list[tuple[str, str]]:
    if run is not None:  # the script the run voiced (its last iteration)
        scripts = sorted((run / "parody").glob("script_*.json"))
        if not scripts:
            raise SystemExit(f"{run} has no parody/script_*.json")
        data = json.loads(scripts[-1].read_text(encoding="utf-8"))
        return [(ln["character"], ln["text"]) for ln in data["script"]["lines"]]
    from tools.parody.comedy import write
    from tools.parody.facts import facts_without_film
    from tools.parody.models import SceneRef
    from tools.parody.techniques import catalogue

    facts = facts_without_film(SceneRef(start=0.0, end=20.0, description=SCENE))
    out: list[tuple[str, str]] = []
    for tech in catalogue().techniques[:5]:  # five techniques of the comedy engine, as the demo's scene
        out += [(ln.character, ln.text) for ln in write(facts, 20.0, tech, CAST, set(), seed=1).script.lines]
    return out


def words(text: str, drop: set[str] = frozenset()) -> list[str]:
    toks = [DIGITS.get(t, t) for t in re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))]
    return [t for t in toks if t not in drop]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


class TimedBackend:
    """The real backend, with the seconds spent inside it counted (synthesis alone, no ffmpeg)."""

    def __init__(self, engine):
        self.engine, self.name, self.seconds = engine, engine.name, 0.0

    def synthesize(self, request) -> bytes:
        start = time.perf_counter()
        try:
            return self.engine.synthesize(request)
        finally:
            self.seconds += time.perf_counter() - start


def run_backend(name: str, lines: list[tuple[str, str]], tmp: Path) -> dict:
    settings = settings_from_dict({"tts": {"backend": name}, "paths": {"runs_dir": str(tmp / "runs")}})
    ctx = make_context(settings, workspace=Workspace(tmp / name))
    engine = TimedBackend(backends.make_backend(name, settings))
    names = {w for c in CAST for w in words(c)}
    audio_s = tool_s = 0.0
    errors = errors_no_names = total = total_no_names = 0
    worst: list[tuple[float, str, str]] = []
    synthesize(ctx, "Warm up.", voice="Narrator", backend=engine)  # loading the model is not per line
    engine.seconds = 0.0
    presets, fallback = load_characters(settings), {}
    for speaker, text in lines:
        voice, pitch = speaker, 0.0
        if speaker.lower() not in presets:  # as voice_script does for a speaker without a preset
            voice, pitch = fallback.setdefault(speaker, FALLBACK_VOICES[len(fallback) % len(FALLBACK_VOICES)])
        start = time.perf_counter()
        res = synthesize(ctx, text, voice=voice, pitch=pitch, backend=engine)
        tool_s += time.perf_counter() - start
        audio_s += res.duration
        heard = transcribe(ctx.workspace.root / res.audio, settings).text
        ref, hyp = words(text), words(heard)
        errors += edit_distance(ref, hyp)
        total += len(ref)
        ref_n, hyp_n = words(text, names), words(heard, names)
        errors_no_names += edit_distance(ref_n, hyp_n)
        total_no_names += len(ref_n)
        worst.append((edit_distance(ref, hyp) / max(1, len(ref)), text, heard))
    return {"audio_s": audio_s, "tool_s": tool_s, "engine_s": engine.seconds, "wer": errors / max(1, total),
            "wer_no_names": errors_no_names / max(1, total_no_names), "worst": sorted(worst, reverse=True)[:3]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, default=None, help="take the voiced lines of this run folder")
    args = ap.parse_args()
    lines = demo_lines(args.run)
    print(f"{len(lines)} lines, {sum(len(words(t)) for _, t in lines)} words, speakers: "
          f"{', '.join(sorted({s for s, _ in lines}))}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-tts-") as tmp:
        for name in ("espeak", "piper"):
            r = results[name] = run_backend(name, lines, Path(tmp))
            print(f"{name}: {r['audio_s']:.1f} s of speech; synthesis {r['engine_s']:.2f} s "
                  f"(RTF {r['engine_s'] / r['audio_s']:.3f}); whole tool incl. ffmpeg finishing {r['tool_s']:.2f} s "
                  f"(RTF {r['tool_s'] / r['audio_s']:.3f}); Whisper tiny.en WER {r['wer']:.3f}, "
                  f"without the cast's names {r['wer_no_names']:.3f}")
            for wer, text, heard in r["worst"]:
                print(f"    {wer:.2f}  said {text!r}  heard {heard!r}")
    ratio = results["piper"]["wer"] / max(results["espeak"]["wer"], 1e-9)
    print(f"BENCH tts_voice: ratio={ratio:.2f} goal<1.0 {'PASS' if ratio < 1.0 else 'FAIL'}")


if __name__ == "__main__":
    main()
