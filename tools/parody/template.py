"""The deterministic fallback: a parody script built from what the run knows, no model needed.

Each variant is one classic technique from knowledge/comedy: deadpan narration, a mismatched
voice-over (sports commentary / nature documentary / movie trailer), a freeze-frame caption with a
record scratch, and bathos. The iteration picks another variant, so a blamed script really changes.
"""
from __future__ import annotations

from tools.parody.models import ParodyScript, ScriptEffect, ScriptLine

# (technique, title, lines as (speaker slot, text), effects). Slots: N = narrator, A/B = characters.
_VARIANTS: list[tuple[str, str, list[tuple[str, str]], list[tuple[str, float, str, str]]]] = [
    ("deadpan narration", "{A} and the Very Serious {Place}", [
        ("N", "This is {A}. {A} has a plan."),
        ("A", "Today I conquer {place}!"),
        ("N", "{A} did not, in fact, have a plan."),
        ("B", "Is anyone else hearing dramatic music?"),
        ("N", "{Place}. Ancient. Vast. Mildly damp."),
        ("A", "Nailed it. Nobody saw that."),
    ], [("freeze_frame", 0.38, "Narrator: he did not nail it.", "record_scratch"),
        ("zoom_punch_in", 0.7, "", "boing")]),
    ("mismatched voice-over", "{Place}: The Olympic Final", [
        ("N", "And {A} steps up for the final attempt."),
        ("A", "Stay calm. Be the wave."),
        ("N", "The crowd holds its breath. Mostly fish."),
        ("B", "Judges give it a solid four."),
        ("A", "Four? That was at least a six!"),
        ("N", "A new personal best in confidence."),
    ], [("speed_ramp", 0.3, "", "whoosh"), ("freeze_frame", 0.72, "Score: 4.0", "rimshot")]),
    ("movie-trailer bathos", "{A}: Rise of the {Place}", [
        ("N", "In a world where {place} never stops."),
        ("N", "One hero dared to get slightly wet."),
        ("A", "I was born for this moment."),
        ("B", "You were born on Tuesday."),
        ("N", "This summer. Bring a towel."),
    ], [("zoom_punch_in", 0.25, "", "whoosh"), ("freeze_frame", 0.62, "Rated S for Splashy", "record_scratch")]),
    ("nature documentary", "Planet {Place}", [
        ("N", "Here we observe the wild {A} in its habitat."),
        ("A", "Why is that man whispering about me?"),
        ("N", "Note the proud display. It impresses no one."),
        ("B", "We can all hear you, you know."),
        ("N", "Truly, nature is a mystery. A soggy one."),
    ], [("freeze_frame", 0.45, "Specimen: confused", "ding"), ("speed_ramp", 0.78, "", "sad_trombone")]),
]

_PLACES = [("ocean", "the ocean"), ("sea", "the sea"), ("underwater", "the deep"), ("beach", "the beach"),
           ("forest", "the forest"), ("night", "the night town"), ("sunset", "the sunset"), ("town", "the town"),
           ("sky", "the sky")]


def place_from(description: str) -> str:
    """A noun phrase for the scene from its description ("ocean or sea under a blue sky…" → "the ocean")."""
    low = (description or "").lower()
    for key, phrase in _PLACES:
        if key in low:
            return phrase
    return "this place"


def technique_of(iteration: int) -> str:
    return _VARIANTS[iteration % len(_VARIANTS)][0]


def template_script(characters: list[str], description: str, duration: float, iteration: int = 0) -> ParodyScript:
    """A complete script for `duration` seconds of footage; lines are timed later by timing.fit_lines."""
    _, title, lines, effects = _VARIANTS[iteration % len(_VARIANTS)]
    cast = [c for c in characters if c and c != "Narrator"] or ["Our Hero"]
    a = cast[0]
    b = cast[1] if len(cast) > 1 else "A Passing Fish"
    place = place_from(description)
    fill = {"A": a, "B": b, "place": place, "Place": place.removeprefix("the ").title()}
    speaker = {"N": "Narrator", "A": a, "B": b}
    out_lines = [ScriptLine(character=speaker[slot], text=text.format(**fill)) for slot, text in lines]
    out_effects = [ScriptEffect(kind=kind, at=round(frac * duration, 2), duration=1.0, caption=caption.format(**fill),
                                sound=sound) for kind, frac, caption, sound in effects]
    out_effects.append(ScriptEffect(kind="sound_effect", at=round(0.95 * duration - 1.2, 2), duration=0.8,
                                    sound="rimshot"))
    return ParodyScript(title=title.format(**fill), lines=out_lines, effects=out_effects)
