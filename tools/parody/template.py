"""The deterministic fallback: a parody script built from what the run knows of *this* scene, no model needed.

Each variant (tools/parody/templates.yaml) is one classic technique from knowledge/comedy: deadpan
narration, a mismatched voice-over, movie-trailer bathos, a nature documentary, what-they-said /
what-they-meant. It is filled with the scene's own material: a line said in it (from the film's
transcript), its place (from the user's scene words, then its description), and the cast — names
from the request, the knowledge base or the transcript, else generic roles named after what the
user described ("the big bunny" → The Big Bunny). Nothing is borrowed from another scene.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from tools.parody.models import ParodyScript, ScriptEffect, ScriptLine

TEMPLATES = Path(__file__).with_name("templates.yaml")
MAX_QUOTED = 70  # a longer line said in the scene is not quoted back
FALLBACK_LEAD = "Our Hero"
FALLBACK_SECOND = "A Passing Stranger"


@lru_cache(maxsize=1)
def templates() -> dict:
    return yaml.safe_load(TEMPLATES.read_text(encoding="utf-8"))


def _has(text: str, word: str) -> bool:
    return re.search(r"(?<![\w'])" + re.escape(word) + r"(?!\w)", text) is not None


def place_of(*texts: str) -> dict[str, str]:
    """The place words of the scene: the first text (the user's own words) that names a place wins."""
    data = templates()
    for text in texts:
        low = (text or "").lower()
        for entry in data["places"]:
            if any(_has(low, key) for key in entry["keys"]):
                return {k: v for k, v in entry.items() if k != "keys"}
    return dict(data["default_place"])


def place_from(description: str) -> str:
    """A noun phrase for the scene's place ("snow, ice or fog…" → "the snowy mountains")."""
    return place_of(description)["place"]


_ARTICLE = r"\b(?:(?:the|a|an|his|her|their|il|la|lo|un|una|uno)\s+|l['’])"


def generic_roles(*texts: str, limit: int = 2) -> list[str]:
    """Roles named after the living things the texts mention: "the big bunny wakes up" → "Big Bunny"."""
    data = templates()
    nouns = {w: w for w in data["animate"]} | dict(data["animate_it"])
    pattern = re.compile(_ARTICLE + r"((?:[a-zà-ù]+\s+){0,2}?)(" + "|".join(sorted(nouns, key=len, reverse=True))
                         + r")s?\b")
    found: list[str] = []
    for text in texts:
        for m in pattern.finditer((text or "").lower()):
            adjectives = [w for w in m.group(1).split() if w not in nouns and len(w) > 2]
            role = " ".join(w.capitalize() for w in [*adjectives, *nouns[m.group(2)].split()])
            if role not in found:
                found.append(role)
            if len(found) >= limit:
                return found
    if not found:  # "the scene where she says…": Our Heroine
        for text in texts:
            m = re.search(r"\b(" + "|".join(data["pronouns"]) + r")\b", (text or "").lower())
            if m:
                return [data["pronouns"][m.group(1)]]
    return found


def technique_of(iteration: int) -> str:
    return templates()["variants"][iteration % len(templates()["variants"])]["technique"]


def _quotable(lines: list[str]) -> list[str]:
    out = []
    for text in lines:
        text = " ".join(str(text).split()).strip(" -")
        if 2 <= len(text.split()) and len(text) <= MAX_QUOTED and text not in out:
            out.append(text)
    return out


def template_script(characters: list[str], description: str, duration: float, iteration: int = 0,
                    lines: list[str] | None = None, scene_words: str = "") -> ParodyScript:
    """A complete script for `duration` seconds of footage; lines are timed later by timing.fit_lines.

    `lines`: what is said in the scene (quoted back by the lead); `scene_words`: the user's words for the scene.
    """
    variant = templates()["variants"][iteration % len(templates()["variants"])]
    cast = [c for c in characters if c and c != "Narrator"] or generic_roles(scene_words, description) or [FALLBACK_LEAD]
    said = _quotable(lines or [])
    place = place_of(scene_words, description)
    fill = {"A": cast[0], "B": cast[1] if len(cast) > 1 else FALLBACK_SECOND, "Place": place["place"].removeprefix("the ").title(),
            "line": said[0] if said else "", "line2": said[1] if len(said) > 1 else "", **place}
    speaker = {"N": "Narrator", "A": fill["A"], "B": fill["B"]}
    out_lines = []
    for entry in variant["lines"]:
        slot, text = entry[0], entry[1]
        needs = re.findall(r"\{(line2?)\}", text)
        if needs and not all(fill[n] for n in needs):
            if len(entry) < 3:
                continue
            text = entry[2]
        out_lines.append(ScriptLine(character=speaker[slot], text=text.format(**fill)))
    out_lines = _fit_with_the_lead(out_lines, duration, fill["A"])
    out_effects = [ScriptEffect(kind=kind, at=round(frac * duration, 2), duration=1.0, caption=caption.format(**fill),
                                sound=sound) for kind, frac, caption, sound in variant["effects"]]
    out_effects.append(ScriptEffect(kind="sound_effect", at=round(0.95 * duration - 1.2, 2), duration=0.8,
                                    sound="rimshot"))
    return ParodyScript(title=variant["title"].format(**fill), lines=out_lines, effects=out_effects)


def _fit_with_the_lead(lines: list[ScriptLine], duration: float, lead: str) -> list[ScriptLine]:
    """The lines a short scene has room for, in order, and the lead among them (not only the Narrator)."""
    from tools.parody.timing import MIN_GAP_S, line_seconds

    room, used, kept = duration - 0.8, 0.0, []
    for line in lines:
        need = line_seconds(line.text) + (MIN_GAP_S if kept else 0.0)
        if used + need > room:
            break
        kept.append(line)
        used += need
    if kept and len(kept) < len(lines) and all(line.character != lead for line in kept):
        first = next((line for line in lines if line.character == lead), None)
        if first is not None:
            kept[-1] = first
    return kept or lines[:1]
