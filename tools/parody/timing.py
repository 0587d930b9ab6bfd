"""Deterministic repair of a parody script: clean text, reject nonsense, fit lines and effects to the clip.

A small model's timings are not trusted: only the *order* of its lines is kept. Each line gets
max(MIN_LINE_S, chars / SPEECH_CPS) seconds (reading speed stays under the subtitle limit of 17 cps),
lines never overlap, and the slack is spread evenly so the parody breathes across the whole clip.
"""
from __future__ import annotations

import re
from collections import Counter

from tools.parody.models import SOUNDS, ParodyScript, ScriptEffect, ScriptLine

MIN_LINE_S = 1.2
SPEECH_CPS = 14.0  # what espeak-class TTS speaks at its default rate; also ≤ 17 cps reading speed
MAX_LINE_CHARS = 90
MIN_GAP_S = 0.3
MAX_LINES = 8
EFFECT_BOUNDS = {"freeze_frame": (0.6, 1.2), "zoom_punch_in": (0.8, 2.5), "speed_ramp": (1.0, 3.0),
                 "sound_effect": (0.3, 1.5)}
DEFAULT_SOUND = {"freeze_frame": "record_scratch", "zoom_punch_in": "boing", "speed_ramp": "whoosh",
                 "sound_effect": "rimshot"}
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ']+")


def clean_text(text: str) -> str:
    text = re.sub(r"[\x00-\x1f{}\[\]<>|\\`*#_]+", " ", text or "")
    return " ".join(text.split()).strip(" \"'")


def nonsense_reason(text: str) -> str | None:
    """Why a line is unusable (empty, repeated tokens, too long, not words), or None when it is fine."""
    if not text:
        return "empty line"
    if len(text) >= MAX_LINE_CHARS:
        return f"line of {MAX_LINE_CHARS}+ characters (too long or cut off)"
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 2:
        return "fewer than two words"
    letters = sum(ch.isalpha() for ch in text)
    if letters / max(1, len(text)) < 0.6:
        return "mostly symbols or digits"
    top, count = Counter(words).most_common(1)[0]
    if len(words) >= 4 and count / len(words) > 0.4 and len(top) > 2:
        return f"repeats {top!r}"
    grams = Counter(zip(words, words[1:], words[2:]))
    if grams and grams.most_common(1)[0][1] >= 2:
        return "repeats the same phrase"
    if text.endswith("-"):
        return "cut off mid-word"
    if any(len(w) > 24 for w in words):
        return "contains a non-word"
    return None


def line_seconds(text: str) -> float:
    return round(max(MIN_LINE_S, len(text) / SPEECH_CPS), 2)


def fit_lines(lines: list[ScriptLine], duration: float, lead_in: float = 0.5) -> list[ScriptLine]:
    """Place lines in order, no overlaps, inside [lead_in, duration - 0.3]; drop the last lines that cannot fit."""
    usable = duration - lead_in - MIN_GAP_S
    kept = list(lines[:MAX_LINES])
    while kept and sum(line_seconds(l.text) for l in kept) + MIN_GAP_S * (len(kept) - 1) > usable:
        kept.pop()  # the model's order is its priority: the end goes first
    if not kept:
        return []
    need = [line_seconds(l.text) for l in kept]
    slack = usable - sum(need)
    gap = max(MIN_GAP_S, min(3.0, slack / (len(kept) + 1)))
    t = lead_in + (gap if slack >= gap * (len(kept) + 1) else 0.0)
    out = []
    for line, seconds in zip(kept, need):
        end = min(t + seconds, duration - MIN_GAP_S)
        out.append(ScriptLine(character=line.character, text=line.text, start=round(t, 2), end=round(end, 2)))
        t = end + gap
    return out


def fit_effects(effects: list[ScriptEffect], duration: float, default_caption: str) -> list[ScriptEffect]:
    """Clamp effects into the clip, fix unknown sounds, drop overlapping picture effects (at most 3)."""
    out: list[ScriptEffect] = []
    busy: list[tuple[float, float]] = []
    for eff in sorted(effects, key=lambda e: e.at):
        lo, hi = EFFECT_BOUNDS[eff.kind]
        d = min(hi, max(lo, eff.duration))
        at = min(max(0.8, eff.at), duration - d - 1.0)
        if at < 0.8:
            continue
        sound = eff.sound if eff.sound in SOUNDS else DEFAULT_SOUND[eff.kind]
        caption = clean_text(eff.caption)[:40] if eff.kind == "freeze_frame" else ""
        if eff.kind == "freeze_frame" and (not caption or nonsense_reason(caption + " .") == "mostly symbols or digits"):
            caption = default_caption
        if eff.kind != "sound_effect":
            if any(at < b + 0.5 and a < at + d + 0.5 for a, b in busy):
                continue
            busy.append((at, at + d))
        out.append(ScriptEffect(kind=eff.kind, at=round(at, 2), duration=round(d, 2), caption=caption, sound=sound))
        if len(out) == 3:
            break
    return out


def repair(script: ParodyScript, duration: float, known_characters: list[str]) -> tuple[ParodyScript, list[str]]:
    """Clean and re-time a model's script; returns the repaired script and what was wrong."""
    problems: list[str] = []
    lines: list[ScriptLine] = []
    seen: set[str] = set()
    names = {c.lower(): c for c in known_characters}
    for n, line in enumerate(sorted(script.lines, key=lambda l: l.start), 1):
        text = clean_text(line.text)
        why = nonsense_reason(text)
        if why is None and text.lower() in seen:
            why = "duplicate line"
        if why:
            problems.append(f"line {n}: {why}")
            continue
        seen.add(text.lower())
        who = clean_text(line.character)[:30] or "Narrator"
        who = names.get(who.lower(), who)
        if nonsense_reason(who + " says") is not None:
            who = "Narrator"
        lines.append(ScriptLine(character=who, text=text, start=line.start, end=line.end))
    title = clean_text(script.title)[:50]
    if nonsense_reason(title + " parody") is not None:
        problems.append("title unusable")
        title = ""
    fitted = fit_lines(lines, duration)
    if len(fitted) < len(lines):
        problems.append(f"{len(lines) - len(fitted)} lines did not fit in {duration:.1f}s")
    effects = fit_effects(script.effects, duration, default_caption=_caption_from(title))
    return ParodyScript(title=title, lines=fitted, effects=effects), problems


def _caption_from(title: str) -> str:
    return "Nailed it." if not title else "Yep. This is fine."


def candidate_score(script: ParodyScript, duration: float, available: list[str]) -> tuple[float, dict[str, float]]:
    """A cheap, deterministic critic: duration coverage, characters used, line lengths, variety, effects."""
    if not script.lines:
        return 0.0, {"coverage": 0.0}
    speech = sum(l.end - l.start for l in script.lines)
    ratio = speech / max(duration, 1e-6)
    coverage = 1.0 if 0.35 <= ratio <= 0.75 else max(0.0, 1 - abs(ratio - 0.55) / 0.55)
    speakers = {l.character for l in script.lines}
    want = max(1, min(3, len(available) + 1))
    cast = min(1.0, len(speakers) / want)
    lengths = sum(15 <= len(l.text) <= 80 for l in script.lines) / len(script.lines)
    words = [w.lower() for l in script.lines for w in _WORD.findall(l.text)]
    variety = len(set(words)) / max(1, len(words))
    count = min(1.0, len(script.lines) / 4)
    effects = min(1.0, len(script.effects) / 2)
    parts = {"coverage": coverage, "cast": cast, "lengths": lengths, "variety": variety, "count": count,
             "effects": effects}
    weights = {"coverage": 0.25, "cast": 0.2, "lengths": 0.15, "variety": 0.15, "count": 0.15, "effects": 0.1}
    score = sum(parts[k] * w for k, w in weights.items())
    return round(score, 4), {k: round(v, 3) for k, v in parts.items()}
