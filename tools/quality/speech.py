"""The speech scorer: hear every voiced line back and compare it with the script.

The line windows are cut from the final mix (so the ducked film sound is under them, as a viewer
hears it), joined with short silences and transcribed in one faster-whisper call (the same offline
model as the film transcripts, VAD on). Each recognised word goes back to the line whose window it
came from. Per line: word error rate and letter distance with proper names aside (a recogniser
spells "Pip" as "Bip"; a made-up name is the request-fit scorer's business), the smaller of the two
decides. TTS voices are recognised imperfectly, so the letter distance — which forgives "can not" for
"cannot" and "mac flip" for "backflip" — keeps good lines from failing.

A line fails as missing (no words), cut (the start is there, the rest is not), wrong words (nothing
matches) or garbled (some words match); each blames `voices` with the line's index and speaker.
Without a recogniser the scorer falls back to energy in each line's window and says so.
"""
from __future__ import annotations

import difflib
import re
from typing import Sequence

import numpy as np

from tools.core.findings import Code
from tools.core.settings import Settings
from tools.core.types import ToolError
from tools.quality.av import LineWindow
from tools.quality.measure import ANALYSIS_RATE, frame_energies_db, rms_db
from tools.quality.report import Check, ScoreReport

PAD_BEFORE_S = 0.15
PAD_AFTER_S = 0.35  # TTS tails and the placement's rounding
GAP_S = 0.6  # silence between joined windows (VAD and the word timings keep the lines apart)
# Digits are compared spelled out (ASR writes "3" or "three"); benchmarks/tts_voices.py uses the same list.
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]


def _words(text: str) -> list[str]:
    """Lower-case words; small numbers spelled out; punctuation (but inner apostrophes) dropped."""
    out = []
    for raw in re.findall(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9']+", text.replace("’", "'")):
        word = raw.strip("'").lower()
        if word.isdigit() and int(word) < len(NUMBER_WORDS):
            word = NUMBER_WORDS[int(word)]
        if word:
            out.append(word)
    return out


def name_words(text: str, names: Sequence[str]) -> set[str]:
    """Tokens to set aside: the known names' words and the names the line mentions (capitalised runs)."""
    from tools.quality.request_fit import mentioned_names

    return {w for name in [*names, *mentioned_names(text)] for w in _words(name)}


def line_errors(reference: str, heard: str, names: Sequence[str] = ()) -> dict[str, float]:
    """How far `heard` is from `reference`, names aside: `wer` (word error rate), `letters` (1 − the letters in
    matching runs over the longer letter string: "can not" for "cannot" or "mac flip" for "backflip" cost little,
    a missing half costs half), `error` (the smaller of the two), `covered` (share of the reference up to the
    last word heard right: a cut line is low)."""
    import jiwer

    ref = _words(reference)
    hyp = _words(heard)
    aside = name_words(reference, names)
    content = [w for w in ref if w not in aside]
    if not content:
        return {"wer": 0.0, "letters": 0.0, "error": 0.0, "covered": 1.0}
    if not hyp:
        return {"wer": 1.0, "letters": 1.0, "error": 1.0, "covered": 0.0}
    chunks = jiwer.process_words(" ".join(ref), " ".join(hyp)).alignments[0]

    def about_a_name(k: int) -> bool:
        c = chunks[k] if 0 <= k < len(chunks) else None
        return c is not None and c.type == "substitute" and any(w in aside for w in ref[c.ref_start_idx:c.ref_end_idx])

    errors, last_hit = 0, -1
    dropped: set[int] = set()  # heard words standing for a name ("Bip" for "Pip", "Zor Blox" for "Zorblax")
    for k, chunk in enumerate(chunks):
        span = ref[chunk.ref_start_idx:chunk.ref_end_idx]
        heard_here = range(chunk.hyp_start_idx, chunk.hyp_end_idx)
        if chunk.type == "equal":
            last_hit = chunk.ref_end_idx - 1
        elif chunk.type == "insert":
            if about_a_name(k - 1) or about_a_name(k + 1):  # a name heard as several words
                dropped |= set(heard_here)
            else:
                errors += len(heard_here)
        else:  # substitute/delete: a misheard name is not an error of the voice
            errors += sum(w not in aside for w in span)
            if chunk.type == "substitute":
                dropped |= {chunk.hyp_start_idx + i for i, w in enumerate(span) if w in aside}
    wer = min(1.0, errors / len(content))
    kept = "".join(w for i, w in enumerate(hyp) if i not in dropped and w not in aside)
    want = "".join(content)
    matched = sum(b.size for b in difflib.SequenceMatcher(None, want, kept, autojunk=False).get_matching_blocks())
    letters = 1.0 - matched / max(len(want), len(kept), 1)
    return {"wer": round(wer, 3), "letters": round(letters, 3), "error": round(min(wer, letters), 3),
            "covered": round((last_hit + 1) / len(ref), 3)}


def _windows(lines: list[LineWindow], duration: float) -> list[tuple[float, float]]:
    """Each line's window, padded but never into the next line's."""
    out = []
    for k, line in enumerate(lines):
        a = max(0.0, line.start - PAD_BEFORE_S)
        b = min(duration, line.end + PAD_AFTER_S)
        if k + 1 < len(lines):
            b = min(b, max(line.end, lines[k + 1].start - 0.05))
        out.append((a, max(a, b)))
    return out


def hear_lines(samples: np.ndarray, lines: list[LineWindow], settings: Settings,
               only: Sequence[int] | None = None) -> list[str]:
    """What the recogniser hears in each line's window (one transcription of the joined windows);
    with `only`, of those lines' windows alone (the others read "")."""
    from tools.audio.asr import transcribe_samples

    rate = ANALYSIS_RATE
    duration = len(samples) / rate
    windows = _windows(lines, duration)
    picked = list(range(len(lines))) if only is None else list(only)
    pieces, bounds, t = [], [], 0.0
    gap = np.zeros(int(GAP_S * rate), dtype=np.float32)
    for a, b in (windows[k] for k in picked):
        piece = samples[int(a * rate):int(b * rate)].astype(np.float32)
        bounds.append((t, t + len(piece) / rate))
        pieces += [piece, gap]
        t += len(piece) / rate + GAP_S
    audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    # No prompt: a prompt of the cast's names makes Whisper repeat them over unclear speech.
    transcript = transcribe_samples(audio, settings, language="en", temperature=0.0)
    heard: list[list[str]] = [[] for _ in lines]
    for word in transcript.words():
        mid = (word.start + word.end) / 2
        i = min(range(len(bounds)), key=lambda i: 0 if bounds[i][0] <= mid <= bounds[i][1]
                else min(abs(mid - bounds[i][0]), abs(mid - bounds[i][1])))
        heard[picked[i]].append(word.text)
    return [" ".join(w).strip() for w in heard]


def _classify(err: dict[str, float], heard: str, max_error: float) -> Code | None:
    if not heard.strip():
        return Code.line_missing
    if err["error"] <= max_error:
        return None
    if 0.0 < err["covered"] < 0.6:
        return Code.line_cut  # the start was heard right, then nothing or something else
    return Code.line_wrong_words if err["error"] >= 0.7 else Code.line_garbled


def score_speech(samples: np.ndarray, lines: list[LineWindow], settings: Settings,
                 names: Sequence[str] = ()) -> ScoreReport:
    """`samples`: the final mix, 16 kHz mono. `names`: the cast (set aside like capitalised words)."""
    if not lines:
        return ScoreReport.skip("speech", "no voiced lines to hear")
    q = settings.quality
    try:
        heard = hear_lines(samples, lines, settings)
    except ToolError as exc:  # no recogniser here: energy in the windows is all we can check
        report = _score_line_energy(samples, lines, q.scorer_pass, q.silence_db)
        report.reasons.append(f"speech recognition unavailable ({exc}); checked loudness in the line windows only")
        return report
    check = Check("speech", q.scorer_pass)
    per_line = []
    for k, (line, said) in enumerate(zip(lines, heard)):
        err = line_errors(line.text, said, [*names, line.speaker])
        code = _classify(err, said, q.speech_max_error)
        alone = False
        if code is not None:
            # Greedy decoding of the joined windows sometimes ends early or garbles a line after another
            # one: a line that fails there is heard again on its own before it is blamed.
            again = hear_lines(samples, lines, settings, only=[k])[k]
            err2 = line_errors(line.text, again, [*names, line.speaker])
            if err2["error"] < err["error"] or (not said.strip() and again.strip()):
                said, err, code, alone = again, err2, _classify(err2, again, q.speech_max_error), True
        per_line.append({"line": k, "speaker": line.speaker, "heard": said, **err,
                         "verdict": code.value if code else "ok", **({"heard_alone": True} if alone else {})})
        what = {Code.line_missing: "no speech is heard", Code.line_cut: "is cut off",
                Code.line_wrong_words: "other words are heard", Code.line_garbled: "is garbled"}.get(code, "")
        check.add(1.0 if code is None else min(0.49, 1.0 - err["error"]), 1.0,
                  f"line {k + 1} ({line.speaker or 'voice'} at {line.start:.1f}s) {what}: expected "
                  f"{line.text[:60]!r}, heard {said[:60]!r}" if code else None, code, hard=True,
                  line=k, speaker=line.speaker, start=line.start, heard=said[:120])
    check.metrics.update(lines=per_line, mean_error=round(float(np.mean([p["error"] for p in per_line])), 3),
                         failed_lines=sum(p["verdict"] != "ok" for p in per_line),
                         max_error=q.speech_max_error)
    return check.report()


def _score_line_energy(samples: np.ndarray, lines: list[LineWindow], pass_score: float,
                       silence_db: float) -> ScoreReport:
    """Fallback: each line's window is clearly louder than the quiet floor of the mix."""
    check = Check("speech", pass_score)
    energies = frame_energies_db(samples)
    floor = float(np.percentile(energies, 10)) if energies.size else -120.0
    needed = max(silence_db, floor + 6.0)
    levels = []
    for k, line in enumerate(lines):
        a, b = int(line.start * ANALYSIS_RATE), int(line.end * ANALYSIS_RATE)
        level = rms_db(samples[max(0, a):max(0, b)])
        levels.append(round(level, 1))
        heard = b > a and level >= needed
        check.add(1.0 if heard else 0.0, 1.0, None if heard else
                  f"line {k + 1} ({line.text[:30]!r} at {line.start:.1f}s) is not heard in its window",
                  Code.line_not_heard, hard=True, line=k, speaker=line.speaker, start=line.start)
    check.metrics.update(line_levels_db=levels, quiet_floor_db=round(floor, 1), method="energy")
    return check.report()
