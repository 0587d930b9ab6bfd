"""With an LLM: the model writes within the chosen technique, one line per slot, each with its word budget.

The engine's script gives the slots (where a line can go, how many words fit there, what happens there).
The model answers a line per slot it wants to fill; the engine then keeps a line that fits, shortens a
too-long one at a sentence or clause boundary (the rest goes to the next slot when the model left that
one empty), and fills with its own line only what the model left empty or unusable. Every line says
where it came from: `model`, `model_repaired` or `engine`.
Drafting stops when the next call, at the speed measured on the first (tokens/s), would pass the budget.
"""
from __future__ import annotations

import re
import time

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.prompts import PromptBook
from tools.core.structured_output import invoke_structured
from tools.parody.beats import CHARS_PER_WORD, LINE_GAP_S
from tools.parody.comedy import Written, norm
from tools.parody.facts import SceneFacts
from tools.parody.models import ParodyScript, ScriptDraft, ScriptEffect, ScriptLine
from tools.parody.techniques import Technique
from tools.parody.timing import SPEECH_CPS, clean_text, fit_effects, line_seconds, nonsense_reason

PROMPTS = PromptBook.beside(__file__)
MIN_WORDS = 3
# Words a line cut short may not end on: they announce a word that the cut took away.
DANGLING = frozenset("""a an the of for to in on at by with from into and or but so if than that this these those
my your his her its our their i you he she we they is am are was were be been has have had will would can could
do does not no very il lo la gli le un una di da con su per e o ma che""".split())
GAP_S = 0.3  # between two lines in one slot
MAX_RUN_ON_S = 0.8  # how far a line may run past its slot's end (≈ 11 characters): its moment stays its own


class Slot(BaseModel):
    """A gap of the beat timeline that the engine wrote for: the model may write its line instead."""

    start: float
    end: float
    room: int  # characters that fit in the gap at the voice's speed
    kind: str
    hint: str  # the engine's line(s) there
    speaker: str
    lines: list[int]  # the engine's lines in this gap


def slots_of(written: Written) -> list[Slot]:
    out: list[Slot] = []
    script = written.script
    for g in sorted(set(written.gap_of)):
        idx = [i for i, k in enumerate(written.gap_of) if k == g]
        gap = written.gaps[g]
        first = script.lines[idx[0]]
        out.append(Slot(start=first.start, end=gap.end, room=max(len(first.text), int((gap.end - first.start - 0.1) * SPEECH_CPS)),
                        kind=written.slots[idx[0]], hint=" / ".join(script.lines[i].text for i in idx),
                        speaker=first.character, lines=idx))
    return out


def prompt(slots: list[Slot], facts: SceneFacts, technique: Technique, request: str, cast: list[str],
           feedback: list[str]) -> str:
    rows = [f"{i}. at {s.start:.1f}s, at most {max(MIN_WORDS, int(s.room / CHARS_PER_WORD))} words, "
            f"{s.speaker} speaks, a {s.kind} line (e.g. {s.hint})" for i, s in enumerate(slots, 1)]
    redo = PROMPTS("script_feedback", problems="\n- ".join(feedback[:6])) if feedback else ""
    return PROMPTS("slot_request", request=request or "a funny parody of this scene", technique=technique.name,
                   facts="\n- ".join(facts.summary()[:14]), cast=", ".join(cast) or "none named",
                   slots="\n".join(rows), feedback=redo)


def shorten(text: str, room: int) -> tuple[str, str]:
    """(the part that fits `room` characters, the rest), cut at a sentence, then a clause, then a word."""
    if len(text) <= room:
        return text, ""
    for pattern in (r"(?<=[.!?])\s+", r"(?<=[,;:])\s+"):
        parts = re.split(pattern, text)
        head = ""
        for k, part in enumerate(parts):
            if len((head + " " + part).strip()) > room:
                if head and len(head.split()) >= MIN_WORDS:
                    return head.strip(), " ".join(parts[k:]).strip()
                break
            head = (head + " " + part).strip()
    words = text.split()
    head = []
    for w in words:
        if len(" ".join(head + [w])) > room:
            break
        head.append(w)
    # A cut inside a sentence must not end on a word that needs the next one ("I am a.").
    while head and head[-1].strip(",;:").lower() in DANGLING:
        head.pop()
    if len(head) < MIN_WORDS:  # too little is left to say anything: a short first sentence, or nothing
        first_sentence = re.split(r"(?<=[.!?])\s+", text, maxsplit=1)[0]
        if len(first_sentence) <= room:
            return first_sentence, text[len(first_sentence):].strip()
        return "", text
    cut = " ".join(head).rstrip(",;:")
    return (cut + ("." if cut and cut[-1].isalnum() else "")), " ".join(words[len(head):])


def _assign(answer: ScriptDraft, slots: list[Slot], problems: list[str]) -> tuple[dict[int, list[DraftLine]], set[int]]:
    """(slot → the model's lines for it, ids of lines moved to another slot). A numbered line goes to its slot;
    lines without a number fill the slots in order, as many to a slot as its room holds (a gap of 4 s takes two
    short lines). A line numbered for a slot that does not exist or already has one (the model miscounted:
    writer-1.5b wrote slots 1, 2, 3, 5 for four slots) goes to the nearest slot left empty."""
    given: dict[int, list[DraftLine]] = {}
    strays: list[DraftLine] = []
    k, used = 1, 0.0
    for line in answer.lines:
        if line.slot:
            if 1 <= line.slot <= len(slots) and line.slot not in given:
                given[line.slot] = [line]
            else:
                strays.append(line)
            continue
        need = line_seconds(clean_text(line.text))
        while k <= len(slots) and (k in given and used + GAP_S + need > slots[k - 1].end - slots[k - 1].start):
            k, used = k + 1, 0.0
        if k > len(slots):
            problems.append("a line beyond the last slot was left out")
            continue
        used += need + (GAP_S if k in given else 0.0)
        given.setdefault(k, []).append(line)
    moved: set[int] = set()
    for line in strays:
        empty = [j for j in range(1, len(slots) + 1) if j not in given]
        if not empty:
            problems.append(f"a second line for slot {line.slot}, or no such slot, was left out ({line.text[:60]!r})")
            continue
        j = min(empty, key=lambda e: (abs(e - line.slot), e))
        problems.append(f"a line for slot {line.slot} went to the empty slot {j}")
        given[j] = [line]
        moved.add(id(line))
    return given, moved


def _without_speaker_label(text: str, names: set[str]) -> str:
    """"Narrator: Meet the hermit." → "Meet the hermit.": the speaker is a field of the line, not words to
    say or subtitle. Only a cast name counts ("Elsewhere: the night." is a line)."""
    for name in sorted((n for n in names if n and n.strip()), key=len, reverse=True):
        m = re.match(rf"\s*{re.escape(name.strip())}\s*:\s*(?=\S)", text, flags=re.IGNORECASE)
        if m:
            return text[m.end():]
    return text


def _needs(lines: list[str]) -> float:
    """Seconds these lines take one after the other."""
    return sum(line_seconds(t) for t in lines) + GAP_S * max(0, len(lines) - 1)


def _slack_after(k: int, slots: list[Slot], given: dict[int, list[DraftLine]], engine: ParodyScript) -> float:
    """How far a line of slot k may run past its slot's end: into the pause after it and the part of the next
    slot its own lines (the model's, else the engine's) leave free, always ending GAP_S before them. Only
    between two slots of one stretch of footage (no line of the film's own dialogue in between)."""
    if k >= len(slots):
        return 0.0
    slot, nxt = slots[k - 1], slots[k]
    if nxt.start - slot.end > LINE_GAP_S + 0.2:  # the film's own dialogue (or a padded cut) lies between
        return 0.0
    need = max(_needs([clean_text(m.text) for m in given.get(k + 1, [])]), _needs([engine.lines[i].text for i in nxt.lines]))
    free = (nxt.end - nxt.start) - min(need, nxt.end - nxt.start)
    return min(MAX_RUN_ON_S, max(0.0, nxt.start + free - GAP_S - slot.end))


def merge(engine: ParodyScript, slots: list[Slot], answer: ScriptDraft, allowed: dict[str, str],
          footage: float, spoken: set[str] = frozenset()) -> tuple[ParodyScript, list[str]]:
    """The engine's script with the model's lines in their slots (shortened, split, re-timed where needed);
    a line an earlier parody already spoke, or this script already says, is not kept (`spoken`: normalised lines).
    A line longer than its slot first runs on into the room the next slot leaves free (that slot's lines start
    later), and only then is shortened: "I'm searching for someone." was dropped from a 2-second slot for want
    of two characters while the next slot's line needed half of its own."""
    problems: list[str] = []
    given, moved = _assign(answer, slots, problems)
    lines: list[ScriptLine] = []
    carry: tuple[str, str] | None = None  # the rest of a split line, for the next slot the model left empty
    last_end = 0.0  # where the previous slot's last line ends (a re-timed one may run into this slot)
    for k, slot in enumerate(slots, 1):
        placed: list[ScriptLine] = []
        start = t = max(slot.start, round(last_end + GAP_S, 2)) if last_end else slot.start
        limit = slot.end + _slack_after(k, slots, given, engine)
        for mine in given.get(k, []):
            carry = None
            cand = _without_speaker_label(clean_text(mine.text), {mine.character, *allowed, *allowed.values()})
            why = nonsense_reason(cand) or ("an earlier parody spoke it" if norm(cand) in spoken else None) or (
                "said already in this script" if norm(cand) in {norm(l.text) for l in lines + placed} else None)
            if why:
                problems.append(f"slot {k}: {why} ({cand[:60]!r})")
                continue
            room = int((limit - t - 0.1) * SPEECH_CPS)
            head, rest = shorten(cand, room)
            if len(head.split()) < MIN_WORDS:
                problems.append(f"slot {k}: too long for its {room} characters ({cand[:80]!r})")
                continue
            if rest and norm(head) in {norm(l.text) for l in lines + placed}:  # two long lines, one opening
                problems.append(f"slot {k}: shortened, it says a line already said")
                continue
            who = allowed.get(mine.character.strip().lower(), slot.speaker)
            if rest:
                problems.append(f"slot {k}: shortened to fit {room} characters ({cand[:80]!r})")
                if len(rest.split()) >= MIN_WORDS and (k + 1) not in given:
                    carry = (_sentence(rest), who)
            placed.append(ScriptLine(character=who, text=head, start=round(t, 2), end=round(t + line_seconds(head), 2),
                                     source="model_repaired" if rest or id(mine) in moved else "model"))
            t = placed[-1].end + GAP_S
        if not given.get(k) and carry is not None and nonsense_reason(carry[0]) is None \
                and len(carry[0]) <= int((limit - start - 0.1) * SPEECH_CPS) \
                and norm(carry[0]) not in {norm(l.text) for l in lines}:
            text, who = carry
            placed.append(ScriptLine(character=who, text=text, start=start,
                                     end=round(start + line_seconds(text), 2), source="model_repaired"))
            carry = None
        if not placed:  # the engine's own lines, unless the model already said them in an earlier slot, later by
            # as much as the previous slot's line ran into this one
            said = {norm(l.text) for l in lines}
            shift = max(0.0, start - engine.lines[slot.lines[0]].start)
            placed = [engine.lines[i].model_copy(update={"start": round(engine.lines[i].start + shift, 2),
                                                          "end": round(engine.lines[i].end + shift, 2)})
                      for i in slot.lines if norm(engine.lines[i].text) not in said]
            if len(placed) < len(slot.lines):
                problems.append(f"slot {k}: the engine's line repeats one already said, left out")
        lines += placed
        last_end = placed[-1].end if placed else last_end
    title = clean_text(answer.title)[:50] if answer.title and nonsense_reason(clean_text(answer.title) + " x") is None \
        else engine.title
    effects = engine.effects or fit_effects([ScriptEffect(kind=e.kind, at=e.at, caption=e.caption)
                                             for e in answer.effects], footage, "Nailed it.")
    return engine.model_copy(update={"lines": lines, "title": title, "effects": effects}), problems


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:]


def draft(ctx: ToolContext, text: str, count: int, budget_s: float) -> tuple[list[ScriptDraft], list[str], dict]:
    """Up to `count` model answers; the count follows the speed measured on the first call."""
    from langchain_core.messages import HumanMessage, SystemMessage

    answers: list[ScriptDraft] = []
    notes: list[str] = []
    speed: dict = {}
    started = time.perf_counter()
    for k in range(count):
        elapsed = time.perf_counter() - started
        if k and speed:
            expected = speed["tokens"] / max(speed["tokens_per_s"], 1e-6)
            if elapsed + expected > budget_s:
                notes.append(f"stopped after {k} candidate(s): at {speed['tokens_per_s']:.1f} tokens/s the next "
                             f"(~{expected:.0f}s) would pass the {budget_s:.0f}s budget ({elapsed:.0f}s used)")
                break
        t0 = time.perf_counter()
        try:
            answer = invoke_structured(ctx.llm, [SystemMessage(content=PROMPTS("script_system")),
                                                 HumanMessage(content=text + ("" if not k else f"\nVariant {k + 1}: other jokes."))],
                                       ScriptDraft, retries=ctx.settings.llm.structured_retries, trace=ctx.trace,
                                       purpose=f"parody_script:{k}")
        except Exception as exc:  # a weak or unreachable model must not stop the parody: the engine writes it
            notes.append(f"candidate {k + 1}: the model failed ({type(exc).__name__}: {str(exc)[:120]})")
            if not speed:
                break
            continue
        seconds = time.perf_counter() - t0
        if not speed:
            tokens = max(1, len(answer.model_dump_json()) // 4)  # ≈ 4 characters a token
            speed = {"tokens": tokens, "seconds": round(seconds, 2), "tokens_per_s": round(tokens / max(seconds, 1e-3), 1)}
        answers.append(answer)
    return answers, notes, speed
