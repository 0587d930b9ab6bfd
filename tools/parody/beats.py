"""The scene's beat timeline on the parody's footage: moments that can carry a gag, gaps that can carry a line.

Scene seconds become footage seconds the way the edit plays the scene (tools/parody/timeline.py): a scene
at least as long as the footage plays once at normal speed; a shorter one plays slowed (not below ×0.8),
then is replayed at ×0.5, so its beats come back in the replay. A gap is footage with no original
dialogue (a dub technique, or a scene too talkative to reach the speech share otherwise, may talk over it);
each gap's word budget comes from its length at the voice's speed.
"""
from __future__ import annotations

import math

from pydantic import BaseModel, Field

from tools.parody.facts import Event, Said, SceneFacts
from tools.parody.timing import SPEECH_CPS

LEAD_IN_S = 0.4
PAD_S = 0.2  # kept clear around the original dialogue
MIN_GAP_S = 1.3  # shorter gaps carry no line (≈ 3 words)
LINE_GAP_S = 0.3  # between two lines
MAX_GAP_RANGE = (2.4, 4.5)  # a longer gap is split (one line each): footage / 4.2, kept in this range
CHARS_PER_WORD = 5.8  # average English word + space, for the word budget


class Beat(BaseModel):
    t: float  # footage seconds
    kind: str  # an Event kind
    detail: str = ""
    strength: float = 0.0


class Gap(BaseModel):
    start: float
    end: float
    beats: list[Beat] = Field(default_factory=list)
    after: Said | None = None  # the line said just before it (a reply riffs on it)
    over_dialogue: bool = False

    @property
    def length(self) -> float:
        return self.end - self.start

    @property
    def chars(self) -> int:
        """How many characters of speech fit, at the voice's speed."""
        return int((self.length - 0.15) * SPEECH_CPS)

    @property
    def words(self) -> int:
        return max(0, int(self.chars / CHARS_PER_WORD))


def play_map(scene_s: float, footage: float) -> list[tuple[float, float, float]]:
    """(scene start offset, footage start, speed) passes of the scene over the footage."""
    if scene_s >= footage or scene_s <= 0:
        return [(0.0, 0.0, 1.0)]
    speed = max(0.8, scene_s / footage)
    first = scene_s / speed
    return [(0.0, 0.0, speed), (0.0, first, 0.5)] if first < footage - 0.5 else [(0.0, 0.0, speed)]


def to_footage(t: float, passes: list[tuple[float, float, float]], footage: float) -> list[float]:
    return [round(f0 + (t - s0) / speed, 2) for s0, f0, speed in passes if 0 <= f0 + (t - s0) / speed < footage]


def beat_timeline(facts: SceneFacts, footage: float, talk_over: bool = False) -> tuple[list[Beat], list[Gap]]:
    passes = play_map(facts.duration, footage)
    beats: list[Beat] = []
    for e in facts.events:
        if e.kind == "silence":
            continue
        for t in to_footage(e.start, passes, footage):
            beats.append(Beat(t=t, kind=e.kind, detail=e.detail, strength=e.strength))
    beats.sort(key=lambda b: b.t)
    said_spans: list[tuple[float, float, Said]] = []
    for s in facts.said:
        for a, b in zip(to_footage(s.start, passes, footage + 60), to_footage(min(s.end, facts.duration - 0.01), passes, footage + 60)):
            if a < footage:
                said_spans.append((a, min(b, footage), s))
    said_spans.sort(key=lambda x: x[0])
    spans = [] if talk_over else said_spans
    gaps: list[Gap] = []
    t = LEAD_IN_S
    prev: Said | None = None
    for a, b, s in spans + [(footage - 0.3, footage, None)]:
        end = a - PAD_S
        if end - t >= MIN_GAP_S:
            gaps.extend(_split(t, end, prev, longest_gap(footage)))
        t = max(t, b + PAD_S)
        prev = s or prev
    for g in gaps:
        g.beats = [b for b in beats if g.start - 1.0 <= b.t < g.end + 0.3]
        if talk_over:
            g.over_dialogue = any(a < g.end and g.start < b for a, b, _ in said_spans)
            before = [s for a, b, s in said_spans if b <= g.start + 0.5]
            g.after = before[-1] if before else (said_spans[0][2] if said_spans and g is gaps[0] else None)
    return beats, gaps


def longest_gap(footage: float) -> float:
    """How long one line's gap may get: footage / 4.2 (four lines in 10 s, up to eight in 35 s), within
    MAX_GAP_RANGE (a short parody keeps two-second gaps: one long line would leave it mostly unvoiced)."""
    return min(MAX_GAP_RANGE[1], max(MAX_GAP_RANGE[0], footage / 4.2))


def _split(start: float, end: float, after: Said | None, longest: float) -> list[Gap]:
    n = max(1, math.ceil((end - start) / longest - 0.1))
    step = (end - start) / n
    return [Gap(start=round(start + i * step, 2), end=round(start + (i + 1) * step - (LINE_GAP_S if i < n - 1 else 0), 2),
                after=after if i == 0 else None) for i in range(n)]


MOTION = {"toward": "toward the camera", "away": "away from the camera", "about": "on the spot"}


def moments(facts: SceneFacts, footage: float) -> list[tuple[float, float, str]]:
    """(footage start, end, words) of what happens as the edit plays the scene: the events, who is on screen,
    the film's own lines (a judge reads them beside each line)."""
    passes = play_map(facts.duration, footage)
    words = {"cut": lambda e: "a cut to another shot", "still": lambda e: "the picture holds still",
             "loud_hit": lambda e: "a loud hit in the sound",
             "motion_peak": lambda e: f"a quick movement {MOTION.get(e.detail, e.detail)}".strip(),
             "face_to_camera": lambda e: f"{e.detail or 'someone'} turns to the camera"}
    spans = [(e.start, max(e.end, e.start), words[e.kind](e)) for e in facts.events if e.kind in words]
    spans += [(a, b, f"{c.role} on screen") for c in facts.characters for a, b in c.spans]
    spans += [(s.start, s.end, f'the film says "{s.text}"') for s in facts.said]
    out = []
    for a, b, what in spans:
        for fa, fb in zip(to_footage(a, passes, footage + 60), to_footage(min(b, facts.duration), passes, footage + 60)):
            if fa < footage:
                out.append((fa, max(fa, min(fb, footage)), what))
    return sorted(out)


def event_of(beat: Beat) -> Event:
    return Event(kind=beat.kind, start=beat.t, end=beat.t, strength=beat.strength, detail=beat.detail)  # type: ignore[arg-type]
