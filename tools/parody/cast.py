"""Who speaks in the parody: the characters the request named, else those the knowledge base knows for the film."""
from __future__ import annotations

import re
from pathlib import Path

from tools.core.context import ToolContext
from tools.core.film_titles import same_film
from tools.parody.models import ParodyScript

_NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'. -]{0,29}$")
_NOT_NAMES = {"none", "unknown", "n/a", "characters", "character", "narrator", "string", "null", "the", "a"}
MAX_CAST = 3


def valid_names(names: list[str]) -> list[str]:
    """Keep name-like entries (1–4 words of letters), drop placeholders a small model may write."""
    out: list[str] = []
    for raw in names:
        name = " ".join(str(raw).split()).strip(" .,'")
        if not name or name.lower() in _NOT_NAMES or not _NAME.match(name) or len(name.split()) > 4:
            continue
        name = " ".join(w[:1].upper() + w[1:] for w in name.split())
        if name not in out:
            out.append(name)
    return out[:MAX_CAST]


def film_words(film: str) -> str:
    return re.sub(r"[_\-.]+", " ", Path(film).stem).strip() if film else ""


def knowledge_cast(ctx: ToolContext, film: str, description: str) -> list[str]:
    """Character names from knowledge documents about this film, those named in the best passage first."""
    if ctx.knowledge is None:
        return []
    title = film_words(film)
    query = f"{title} characters in the scene: {description}".strip()
    try:
        hits = ctx.knowledge.search(query, k=6, filters={"kind": ["scenes", "films", "characters"]})
    except Exception as exc:  # the knowledge base is optional here; the template has a generic cast
        ctx.trace.event("parody.cast_lookup_failed", error=repr(exc))
        return []
    names: list[str] = []
    first_text = ""
    for hit in hits:
        meta = getattr(hit, "metadata", {}) or {}
        # Only documents about this film lend their names (a document about another film, or about no film,
        # does not: the Sintel trailer's parody once voiced Giulia, from Luca's notes).
        if title and not same_film(title, str(meta.get("film") or meta.get("films") or "")):
            continue
        found = [n.strip() for n in str(meta.get("characters") or "").split(",") if n.strip()]
        if found and not first_text:
            first_text = str(getattr(hit, "text", ""))
        names += [n for n in found if n not in names]
    order = {n: i for i, n in enumerate(names)}
    ranked = sorted(names, key=lambda n: (n not in first_text, order[n]))
    return valid_names(ranked)


def resolve_cast(ctx: ToolContext, characters: list[str], film: str, description: str) -> list[str]:
    title = film_words(film).lower()
    cast = [c for c in valid_names(characters) if c.lower() != title]  # a small model may name the film
    if not cast:
        cast = knowledge_cast(ctx, film, description)
    return cast


_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-zà-ÿ]{2,}(?:\s+[A-Z][a-zà-ÿ]{2,})?)\b")


def allowed_names(cast: list[str], request: str, said: list[str]) -> set[str]:
    """Who may speak: the cast (knowledge base or generic roles), names the request or the film's lines use."""
    names = {c for c in cast} | {"Narrator"}
    for text in [request, *said]:
        names |= {m.group(1) for m in _CAPITALISED.finditer(text or "") if m.group(1).lower() not in _NOT_NAMES}
    return names


def ground_speakers(script: ParodyScript, allowed: set[str], cast: list[str]) -> ParodyScript:
    """A speaker nobody named (a model's invention, e.g. "The Ocean's Revenge") becomes a cast member or the Narrator."""
    known = {n.lower(): n for n in allowed}
    substitutes = [c for c in cast if c != "Narrator"] or ["Narrator"]
    invented: dict[str, str] = {}
    lines = []
    for line in script.lines:
        who = " ".join(line.character.split())
        if who.lower() in known:
            who = known[who.lower()]
        else:
            who = invented.setdefault(who, substitutes[len(invented) % len(substitutes)])
        lines.append(line.model_copy(update={"character": who}))
    return script.model_copy(update={"lines": lines})
