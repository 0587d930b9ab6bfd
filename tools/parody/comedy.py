"""The comedy engine: a parody script written from a scene's facts and beats within one technique.

Every gap of the beat timeline gets a line sized to it (its characters at the voice's speed); the line's
kind follows what happens there — the first gap opens, a motion peak gets an action line ("the grey-haired
one lunges to the left"), a gap after a line said in the scene riffs on it, a face to the camera gets a
look line, the last gap closes. Phrases come from the technique's bank, else the common one, filled with
the scene's facts; a phrase whose facts the scene lacks, that does not fit its gap, or that an earlier
parody already spoke is not used. Freezes, zooms and sound effects land on beats.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from tools.parody.beats import LINE_GAP_S, Gap, beat_timeline
from tools.parody.facts import SceneFacts
from tools.parody.models import TITLE_CARD_S, ParodyScript, ScriptEffect, ScriptLine
from tools.parody.techniques import Technique, catalogue
from tools.parody.timing import MAX_LINES, SPEECH_CPS, fit_effects, line_seconds

SPEECH_SHARE = 0.45  # aimed at, of the parody's length (the gate wants 0.35; voices often run shorter than estimated)
MIN_LINES = 4
FILLS = 3
# What fits a gap: espeak-ng speaks 14-17 characters a second (measured 14.3-15.4 with its pauses); lines are
# still timed at timing.SPEECH_CPS, and the edit re-places them on the real voice lengths.
VOICE_CPS = 15.5
BEAT_ORDER = ["motion_peak", "face_to_camera", "loud_hit", "still", "cut"]  # what a gap's line is about, first
BEAT_SLOT = {"motion_peak": "action", "face_to_camera": "look", "still": "still", "loud_hit": "loud", "cut": "cut"}
FACT_OF_SLOT = {"action": "action", "said": "said", "look": "look", "place": "place"}
MAX_SAID_WORDS = 7
FACT_SLOT = re.compile(r"\{(who|Who|action|said|look|place|Place|speaker|Speaker|other)\}")


@dataclass
class Written:
    script: ParodyScript
    gaps: list[Gap]
    talk_over: bool
    slots: list[str] = field(default_factory=list)  # the kind of each line
    gap_of: list[int] = field(default_factory=list)  # the gap each line is in


def norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def _short(said: str, most: int = MAX_SAID_WORDS) -> str:
    words = said.strip().strip('"').split()
    cut = " ".join(words[:most])
    return cut.rstrip(",;:.") + ("..." if len(words) > most else "")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class Filler:
    """Fills phrase slots with this scene's facts."""

    def __init__(self, facts: SceneFacts, cast: list[str], rng: random.Random, named: bool = False):
        self.facts, self.rng = facts, rng
        self.chars = facts.characters
        # the user named who plays the lead: the main character on screen is called so; else its look names it
        lead = cast[0] if cast and (named or not self.chars) else self.chars[0].role if self.chars else ""
        pw = facts.place_words
        known = facts.place != "this place"
        self.base = {"who": lead, "Who": _cap(lead), "look": self.chars[0].look if self.chars else "",
                     "other": self.chars[1].role if len(self.chars) > 1 else "",
                     # {Place}: the place without "the" and never title-cased mid-line (it would read as a name)
                     "place": facts.place, "Place": facts.place.removeprefix("the ") if known else "",
                     **({k: pw.get(k, "") for k in ("thing", "crowd", "mood", "bring", "dare")} if known else {}),
                     "Mood": _cap(pw.get("mood", "")) if known else ""}
        if not known:
            self.base["place"] = ""

    def values(self, gap: Gap, slot: str) -> dict[str, str]:
        v = dict(self.base)
        motion = [b for b in gap.beats if b.kind == "motion_peak"]
        if motion:
            bank = catalogue().actions.get(motion[0].detail) or catalogue().actions["about"]
            v["action"] = self.rng.choice(bank)
        said = gap.after or (self.facts.said[0] if slot == "said" and self.facts.said else None)
        if said is not None:
            v["said"] = _short(said.text)
            v["speaker"] = said.who or (self.base["who"] if said.speaker in ("", "voice 1") else "the other voice")
            v["Speaker"] = _cap(v["speaker"])
        face = [b for b in gap.beats if b.kind == "face_to_camera" and b.detail]
        if face:
            c = next((c for c in self.chars if c.role == face[0].detail), None)
            if c is not None:
                v.update(who=c.role, Who=_cap(c.role), look=c.look)
        return v


def _fill(phrase: str, values: dict[str, str]) -> str | None:
    names = re.findall(r"\{(\w+)\}", phrase)
    if any(not values.get(n) for n in names):
        return None
    text = _cap(phrase.format(**{n: values[n] for n in names}))
    return re.sub(r"([.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)  # a slot starting a sentence


def _slot_for(i: int, gap: Gap, count: int, offers: set[str], last: list[str]) -> list[str]:
    """The kinds of line that suit gap `i`, best first."""
    order: list[str] = []
    if gap.after is not None:
        order.append("said")
    if i == 0:
        order.append("open")
    for b in sorted(gap.beats, key=lambda b: BEAT_ORDER.index(b.kind) if b.kind in BEAT_ORDER else 9):
        order.append(BEAT_SLOT[b.kind]) if b.kind in BEAT_SLOT else None
    if i == count - 1 and count > 2:
        order.append("close")
    order += [k for k in ("look", "place", "said", "still") if k not in order]
    new = [k for k in order if k not in last]
    fresh = [k for k in order if k not in last[-2:]]
    return list(dict.fromkeys(new + fresh + order))


def write(facts: SceneFacts, footage: float, technique: Technique, cast: list[str], used: set[str],
          seed: int = 0, lead: str = "Our Hero", second: str = "A Passing Stranger", named: bool = False) -> Written:
    """The engine's script: lines in the gaps (talking over the dialogue only when needed), gags on beats.
    `named`: the user named the cast (the lead is called by that name, not by its look)."""
    def speech(w: Written) -> float:
        return sum(l.end - l.start for l in w.script.lines)

    want = SPEECH_SHARE * (footage + TITLE_CARD_S)
    # a few fills (another phrase where several fit): the one that voices most of the footage
    tries = [_write(facts, footage, technique, cast, used, seed + k, lead, second, technique.redub, named)
             for k in range(FILLS)]
    written = max(tries, key=speech)
    if not technique.redub and (speech(written) < want or len(written.script.lines) < MIN_LINES):
        over = _write(facts, footage, technique, cast, used, seed, lead, second, True, named)
        if speech(over) > speech(written):
            written = over
    return written


def _write(facts: SceneFacts, footage: float, technique: Technique, cast: list[str], used: set[str], seed: int,
           lead: str, second: str, talk_over: bool, named: bool = False) -> Written:
    rng = random.Random(seed)
    filler = Filler(facts, cast, rng, named)
    _, gaps = beat_timeline(facts, footage, talk_over)
    offers = facts.offers()
    taken = set(used)
    lines: list[ScriptLine] = []
    slots: list[str] = []
    gap_of: list[int] = []
    for i, gap in enumerate(gaps):
        t = max(gap.start + 0.1, lines[-1].end + LINE_GAP_S if lines else 0.0)  # a line timed long may reach into this gap
        for kind in [*_slot_for(i, gap, len(gaps), offers, slots), "any"]:
            if len(lines) >= MAX_LINES:
                break
            room = int((gap.end - t - 0.1) * VOICE_CPS)
            if room < 14:
                break
            text = pick(technique, kind, filler.values(gap, kind), room, taken, rng)
            if text is None and kind == "any":
                text = pick_any(technique, filler.values(gap, kind), room, taken, rng)
            if text is None:
                continue
            taken.add(norm(text))
            speaker = _speaker(technique, kind, len(lines), lead, second if len(facts.characters) > 1 or cast[1:] else lead)
            refers = _refers(kind, text, filler)
            end = t + line_seconds(text)
            lines.append(ScriptLine(character=speaker, text=text, start=round(t, 2), end=round(end, 2),
                                    source="engine", refers=refers))
            slots.append(kind)
            gap_of.append(i)
            t = end + LINE_GAP_S
            if gap.end - t < 1.3:
                break
    if named and technique.voice != "narrator" and lines and all(l.character != lead for l in lines):
        k = max(i for i, l in enumerate(lines) if i == 0 or slots[i] != "open")  # the cast the user named speaks
        lines[k] = lines[k].model_copy(update={"character": lead})
    script = ParodyScript(title=title_of(technique, filler), lines=lines, effects=gags(technique, gaps, filler, footage, rng))
    return Written(script=script, gaps=gaps, talk_over=talk_over, slots=slots, gap_of=gap_of)


def pick(technique: Technique, kind: str, values: dict[str, str], room: int, taken: set[str],
         rng: random.Random) -> str | None:
    """A phrase of this kind filled with the facts, fitting `room` characters and never spoken before."""
    short = dict(values, said=_short(values.get("said", ""), 3)) if values.get("said") else dict(values)
    words = values.get("who", "").split()
    if len(words) > 3:  # "the small teal one" → "the teal one" when the gap is short
        short.update(who=" ".join([words[0], *words[-2:]]), Who=_cap(" ".join([words[0], *words[-2:]])))
    own = technique.lines.get(kind, [])
    named = [p for p in own if FACT_SLOT.search(p)]
    for bank in (named, catalogue().common.get(kind, []), own):
        forms = bank + [first for p in bank if (first := _first_sentence(p)) and FACT_SLOT.search(first)]
        for vals in (values, short):
            filled = [t for t in (_fill(p, vals) for p in forms) if t and len(t) <= room and norm(t) not in taken]
            if filled:
                longest = max(len(t) for t in filled)
                return rng.choice([t for t in filled if len(t) >= 0.8 * longest])
    return None


def pick_any(technique: Technique, values: dict[str, str], room: int, taken: set[str], rng: random.Random) -> str | None:
    """Nothing of the gap's kind fits: any phrase of the technique (or its short form) that does."""
    forms = [p for bank in technique.lines.values() for p in bank]
    forms += [f for p in forms if (f := _first_sentence(p))]
    filled = [t for t in (_fill(p, values) for p in forms) if t and len(t) <= room and norm(t) not in taken]
    return rng.choice(filled) if filled else None


def _first_sentence(phrase: str) -> str:
    """The phrase's first sentence (its short form for a short gap), or "" when it has one sentence."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z{])", phrase, maxsplit=1)
    return parts[0] if len(parts) == 2 and len(parts[0].split()) >= 2 else ""


def _speaker(technique: Technique, kind: str, n: int, lead: str, second: str) -> str:
    if technique.voice == "narrator":
        return "Narrator"
    if technique.voice == "lead":
        return lead if n % 3 != 2 or second == lead else second
    return "Narrator" if kind in ("open", "place", "close", "cut") else (lead if n % 2 == 0 else second)


def _refers(kind: str, text: str, filler: Filler) -> list[str]:
    """Which facts of the scene the line names (checked on the words, not assumed from its kind)."""
    low = text.lower()
    out = []
    if filler.base["place"] and filler.base["place"].removeprefix("the ").lower() in low:
        out.append("place")
    if any(c.role in low for c in filler.chars):
        out.append("character")
    if any(c.look and c.look in low for c in filler.chars):
        out.append("look")
    if kind == "action" and any(a in low for bank in catalogue().actions.values() for a in bank):
        out.append("action")
    if kind == "said" or '"' in text:
        out.append("said") if any(_short(s.text, 3).lower().rstrip(".") in low for s in filler.facts.said) else None
    return out


def title_of(technique: Technique, filler: Filler) -> str:
    subject = _cap(filler.base["Place"]) or _cap(filler.base["who"]) or "This Scene"
    return f"{subject}: {technique.name.title()}"[:50]


def gags(technique: Technique, gaps: list[Gap], filler: Filler, footage: float, rng: random.Random) -> list[ScriptEffect]:
    """A freeze with a caption on the strongest still (else motion peak), a zoom on a face to the camera or a
    loud hit, the technique's sound on a cut or hit."""
    beats = [b for g in gaps for b in g.beats] or []
    by = lambda kind: sorted((b for b in beats if b.kind == kind), key=lambda b: -b.strength)
    out: list[ScriptEffect] = []
    freeze = (by("still") or by("motion_peak"))[:1]
    captions = [c for c in (_fill(p, filler.values(gaps[0], "look") if gaps else filler.base) for p in technique.caption)
                if c and len(c) <= 40]
    if freeze and captions:
        out.append(ScriptEffect(kind="freeze_frame", at=freeze[0].t, duration=1.0, caption=rng.choice(captions),
                                sound="record_scratch"))
    zoom = (by("face_to_camera") or by("loud_hit"))[:1]
    if zoom:
        out.append(ScriptEffect(kind="zoom_punch_in", at=zoom[0].t, duration=1.2, sound="boing"))
    hit = (by("loud_hit") or by("cut"))[:1]
    if hit:
        out.append(ScriptEffect(kind="sound_effect", at=hit[0].t, duration=0.8, sound=technique.sound))
    return fit_effects(out, footage, "Nailed it.")
