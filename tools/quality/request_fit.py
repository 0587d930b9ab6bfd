"""Request fit: is the script about what the user asked for, in this scene, with this film's people?

Deterministic checks, so the decision stands with the embedded model (no judge needed):
- **this scene, not another**: the script's embedding against the request's scene words plus this
  scene's text (seen and said) versus every other scene's text. A script written for another scene
  sits closer to that scene.
- **named characters exist**: every speaker with a proper name is named in the request, the knowledge
  base or the film's transcript. Generic roles ("Narrator", "the big rabbit", "A Passing Fish") are fine.
- **no place words of another scene**: "ocean" in a forest scene's script, when the film's ocean is
  another scene and neither this scene nor the request mention it.
Every failure blames `script`; the findings carry the unknown names and foreign words for the rewrite.
"""
from __future__ import annotations

import re
from typing import Sequence

from tools.core.findings import Code
from tools.core.places import kinds_evidenced, kinds_named, place_nouns, stem
from tools.core.settings.sections import QualitySettings
from tools.quality.report import Check, ScoreReport, linear
from tools.quality.scene_fit import Embed, SceneInfo, request_scene_words

SCENE_WORDS_MIN = 0.2  # cosine similarity at which a script is recognisably about a scene
ROLES = {"narrator", "announcer", "commentator", "voice", "voiceover", "crowd", "everyone", "all", "chorus",
         "audience", "host", "reporter", "stranger", "someone", "nobody"}
_ARTICLES = {"the", "a", "an", "our", "your", "some", "that", "this", "another", "one", "il", "la", "lo", "un", "una"}
# Place nouns come from the one place vocabulary (tools/core/places.yaml) the script writer uses too.
PLACES = place_nouns()


def _tokens(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-zÀ-ÖØ-öø-ÿ]+", text or "")}


def is_generic_role(speaker: str) -> bool:
    """"Narrator", "the big bunny", "A Passing Fish", "Our Hero": roles, not names to check."""
    words = [w.lower() for w in re.findall(r"[A-Za-zÀ-ÖØ-öø-ÿ']+", speaker)]
    if not words:
        return True
    if len(words) == 1 and words[0] in ROLES:
        return True
    return words[0] in _ARTICLES and not any(w.endswith("'s") for w in words)


_NOT_NAMES = {"i", "i'm", "i'll", "i've", "i'd", "ok", "okay", "tv", "mr", "mrs", "ms", "dr"}
# Words that open a sentence before a name ("And Pip…", "Meanwhile Gull…"); capitalised only by position.
_OPENERS = {"and", "but", "so", "then", "now", "oh", "well", "meanwhile", "suddenly", "yes", "no", "hey", "e", "ma",
            "poi", "ecco"}


_CAP = r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'-]*"
_RUN = re.compile(rf"{_CAP}(?:[ \t]+{_CAP})*")


def mentioned_names(text: str) -> list[str]:
    """Capitalised runs that read as names: inside a sentence ("This is Zorblax"), or two capitalised words
    opening one ("Zorblax Quenterby has a plan"). A single capitalised word opening a sentence is not a name."""
    found: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+|[\n\"“”]", text or ""):
        body = sentence.strip()
        for m in _RUN.finditer(body):
            words = [w for w in m.group(0).split() if w.lower().strip("'") not in _NOT_NAMES]
            opening = not body[:m.start()].strip(" '(-")
            if opening and len(words) > 1 and words[0].lower() in _OPENERS:
                # "And Girl steps up": the opener is not part of the name; what follows it is mid-sentence
                words, opening = words[1:], False
            if words and (not opening or len(words) > 1):
                found.append(" ".join(words))
    return list(dict.fromkeys(found))


def name_known(name: str, known: Sequence[str], texts: Sequence[str]) -> bool:
    """All the name's words (case aside) belong to one known name, or appear in the request/transcript texts."""
    words = _tokens(name)
    if not words:
        return False
    if any(words <= _tokens(k) for k in known):  # "Alberto" for "Alberto Scorfano"
        return True
    return any(words <= _tokens(t) for t in texts if t)


def foreign_places(script: str, own: Sequence[str], others: Sequence[str]) -> list[str]:
    """Place words the script uses whose place this scene and the request never show but another scene does.

    "Shows" reads the scene's facts through the place vocabulary: a description saying "trees" shows a
    forest, so a script set in "the forest" is not blamed for it (a rewrite could not remove a place the
    scene's own facts put there, and the loop would never converge)."""
    used = _tokens(script) & PLACES
    here_words = {stem(w) for t in own for w in _tokens(t)}
    there_words = {stem(w) for t in others for w in _tokens(t)}
    here, there = kinds_evidenced(own), kinds_evidenced(others)
    foreign = []
    for word in used:
        kinds = kinds_named(word)
        if stem(word) in here_words or kinds & here:
            continue
        if stem(word) in there_words or kinds & there:
            foreign.append(word)
    return sorted(foreign)


def score_request_fit(lines: Sequence[tuple[str, str]], request: str, used: SceneInfo, scenes: Sequence[SceneInfo],
                      known_names: Sequence[str], q: QualitySettings, embed: Embed | None = None,
                      title: str = "", film_transcript: str = "", known_text: str = "") -> ScoreReport:
    """`lines`: (speaker, text) pairs; `known_names`: the cast the knowledge base lists for this film;
    `known_text`: what the knowledge base says about the film (its places and people)."""
    script = " ".join([title, *(text for _, text in lines)]).strip()
    if not script:
        return ScoreReport.failure("request_fit", Code.script_empty, "the script has no lines")
    check = Check("request_fit", q.scorer_pass)
    others = [s for s in scenes if not used.holds(s) and s.text]
    words = request_scene_words(request)
    if embed is not None and others and (used.text or words):
        own_text = f"{words}. {used.text}".strip(". ")
        vectors = embed([script, own_text, *(s.text for s in others)])
        sims = vectors[1:] @ vectors[0]
        own, best = float(sims[0]), int(sims[1:].argmax())
        deficit = float(sims[1 + best]) - own
        check.metrics.update(scene_similarity=round(own, 3), best_other=others[best].index,
                             best_other_similarity=round(float(sims[1 + best]), 3))
        # A script with no words of any scene is near none of them: only a clear lead of another scene counts.
        recognisable = float(sims[1 + best]) >= SCENE_WORDS_MIN
        check.add(linear(deficit, q.script_scene_margin, q.script_scene_margin + 0.1) if recognisable else 1.0, 2.0,
                  f"the script reads as written for scene #{others[best].index} ({others[best].description[:60]!r}) "
                  f"rather than this one (similarity {own:.2f} vs {float(sims[1 + best]):.2f})", Code.script_off_request,
                  hard=True, scene=used.index, closer=others[best].index)
    texts = [request, used.transcript, film_transcript, known_text]
    speakers = list(dict.fromkeys(s.strip() for s, _ in lines if s.strip()))
    named = [n for _, text in lines for n in mentioned_names(text)]
    check.metrics.update(speakers=speakers, named=list(dict.fromkeys(named))[:12], known_names=list(known_names)[:12])
    unknown = [s for s in speakers if not is_generic_role(s) and not name_known(s, known_names, texts)]
    unknown += [n for n in dict.fromkeys(named) if n not in unknown and not is_generic_role(n)
                and not name_known(n, [*known_names, *speakers], texts)]
    for name in unknown:
        what = "speaks" if name in speakers else "is named"
        check.add(0.0, 1.5, f"{name!r} {what} but is not a character of this film (not in the request, the "
                  f"knowledge base or the transcript)", Code.unknown_character, hard=True, name=name)
    if not unknown:
        check.add(1.0, 1.5)
    foreign = foreign_places(script, [used.text, request], [s.text for s in others])
    check.metrics["foreign_places"] = foreign
    check.add(0.0 if foreign else 1.0, 1.5, f"the script names places of another scene: {', '.join(foreign)}"
              if foreign else None, Code.foreign_place, hard=True, words=foreign)
    return check.report()
