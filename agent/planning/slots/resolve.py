"""Merging the request's slots with the model's filling, past runs and defaults, with provenance.

Rules, in order, for a workflow parameter bound to a slot kind:
0. the person answered the run's question for it → that value; with a capable model (`llm.backend:
   openai`) a checked model value that differs from the rules' reading corrects it (the model read the
   request too); with the embedded model the rules decide;
1. the request states it → that value; a model value replaces it only when it *refines* it (keeps
   every content word the user wrote), e.g. "the dragon bit" → "the bit where the dragon attacks";
2. the request is silent → a model value that passes the kind's check (grounded in the request,
   a known name, a sane number...);
3. a past run's value, for style only (the tone; the length follows the scene);
4. for the scene, the whole request is the query (no default ever names a scene);
5. the workflow's default.
"""
from __future__ import annotations

import re
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.planning.slots.models import RequestSlots, SlotValue, content_words

# Past runs lend only these. Not the length: it follows *this* scene unless the request names one.
STYLE_KINDS = {"tone"}
@dataclass
class CheckContext:
    request: str
    known_names: list[str] = field(default_factory=list)

    def grounded(self, value: Any) -> bool:
        return bool(content_words(value) & content_words(self.request))


Check = Callable[[Any, CheckContext], tuple[Any, str]]


def _check_text(max_words: int) -> Check:
    def check(value: Any, ctx: CheckContext) -> tuple[Any, str]:
        text = " ".join(str(value or "").split())
        if not text:
            return None, "empty"
        if len(text.split()) > max_words:
            return None, f"longer than {max_words} words"
        if not ctx.grounded(text):
            return None, "shares no word with the request (made up)"
        return text, ""
    return check


def _check_tone(value: Any, ctx: CheckContext) -> tuple[Any, str]:
    text = " ".join(str(value or "").split())
    if not text or len(text.split()) > 4:
        return None, "not a short tone"
    if len(text) > 12 and text.lower() in ctx.request.lower():
        return None, "a copy of the request, not a tone"
    return text, ""


def _check_names(value: Any, ctx: CheckContext) -> tuple[Any, str]:
    names = value if isinstance(value, list) else [value]
    allowed = {n.lower() for n in ctx.known_names}
    request = ctx.request.lower()
    kept = [str(n).strip() for n in names if str(n).strip()
            and (str(n).strip().lower() in allowed or re.search(r"\b" + re.escape(str(n).strip().lower()) + r"\b", request))]
    dropped = [str(n) for n in names if str(n).strip() and str(n).strip() not in kept]
    why = f"dropped names found nowhere in the request, knowledge base or transcript: {dropped}" if dropped else ""
    return (kept or None), why


def _length_follows_the_scene(value: Any, ctx: CheckContext) -> tuple[Any, str]:
    return None, "the length follows the scene unless the request names one"


def _never(value: Any, ctx: CheckContext) -> tuple[Any, str]:
    return None, "only the request can state this"


# kind → how a model's value for it is checked; other jobs register their kinds here.
MODEL_CHECKS: dict[str, Check] = {
    "scene": _check_text(30), "said": _check_text(30), "tone": _check_tone, "characters": _check_names,
    "duration": _length_follows_the_scene, "extend": _never, "position": _never, "at": _never,
}


def refines(kind: str, stated: Any, proposed: Any) -> bool:
    """Does the model's value keep everything the user wrote (a refinement, not a replacement)?"""
    if isinstance(stated, str) and isinstance(proposed, str):
        want = content_words(stated)
        return bool(want) and want <= content_words(proposed) and len(proposed) <= 4 * len(stated) + 40
    return False


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def resolve_one(name: str, kind: str | None, default: Any, stated: SlotValue | None, model: Any, past: Any,
                past_run: str, ctx: CheckContext, model_may_correct: bool = False) -> SlotValue:
    note = ""
    checked = None
    if not _empty(model) and kind is not None:
        checked, why = MODEL_CHECKS.get(kind, lambda v, c: (v, ""))(model, ctx)
        if why:
            note = f"model value {model!r} refused: {why}" if checked is None else f"model value trimmed: {why}"
    elif not _empty(model):
        checked = model
    if stated is not None and model_may_correct and checked is not None and checked != stated.value and not note:
        # A capable model read the request too: its value, checked like any model value (grounded in the
        # request, a known name...), corrects the rules' reading ("in Spanish" is a language, not a character).
        return SlotValue(value=checked, source="model", evidence=f"corrects the rules' {stated.evidence!r}",
                         note=f"the rules read {stated.value!r}")
    if stated is not None:
        if kind == "characters" and checked:
            merged = list(dict.fromkeys([*stated.value, *checked]))
            if merged != stated.value:
                return SlotValue(value=merged, source="model", evidence=f"adds to the request's {stated.evidence!r}",
                                 note=note)
        if checked is not None and checked != stated.value and refines(kind or "", stated.value, checked):
            return SlotValue(value=checked, source="model", evidence=f"refines the request's {stated.evidence!r}")
        if checked is not None and checked != stated.value and not note:
            note = f"model value {model!r} ignored: the request states {stated.value!r}"
        return stated.model_copy(update={"note": note})
    if checked is not None and (kind is not None or checked != default):
        return SlotValue(value=checked, source="model", evidence="the request is silent; filled by the model", note=note)
    if kind in STYLE_KINDS and not _empty(past):
        return SlotValue(value=past, source="past_run", evidence=f"run {past_run}", note=note)
    if kind == "scene":
        return SlotValue(value=ctx.request, source="request", evidence="no scene words: the whole request is the query",
                         note=note)
    return SlotValue(value=default, source="default", evidence=f"{name}'s declared default", note=note)


def resolve_slots(parameters: dict[str, Any], request_slots: RequestSlots, *, model: dict[str, Any] | None = None,
                  past: dict[str, Any] | None = None, past_run: str = "", run_values: dict[str, Any] | None = None,
                  known_names: list[str] | None = None, answers: dict[str, Any] | None = None,
                  model_may_correct: bool = False) -> dict[str, SlotValue]:
    """One SlotValue per workflow parameter. `parameters` maps names to objects with `slot`, `source`, `default`.
    `answers` (the person's answers to the run's questions) win over everything."""
    model, past, run_values, answers = model or {}, past or {}, run_values or {}, answers or {}
    ctx = CheckContext(request=request_slots.request, known_names=list(known_names or []))
    out: dict[str, SlotValue] = {}
    for name, param in parameters.items():
        if name in answers and not _empty(answers[name]):
            out[name] = SlotValue(value=answers[name], source="answer", evidence="the answer to the run's question")
            continue
        if getattr(param, "source", "llm") != "llm":
            if name in run_values:
                out[name] = SlotValue(value=run_values[name], source="run", evidence=f"given to this run ({param.source})")
            continue
        kind = getattr(param, "slot", None)
        stated = request_slots.stated(kind) if kind else None
        out[name] = resolve_one(name, kind, param.default, stated, model.get(name), past.get(name), past_run, ctx,
                                model_may_correct)
    for name, param in parameters.items():
        rule = getattr(param, "derive", None)
        if rule and name in out and _empty(out[name].value):
            value = derive_value(rule, {k: v.value for k, v in out.items()})
            if value:
                out[name] = SlotValue(value=value, source="derived", evidence=f"made by the rule {rule!r}")
    return out


def derive_value(rule: str, values: dict[str, Any]) -> str:
    """Fill `rule`'s {fields} from the other values ({film_stem}: the film's file name) as a safe name:
    letters, digits, - and _ only. A rule may hold alternatives, "a | b": the first whose fields all have
    values wins. Empty when none has."""
    fields = {k: v for k, v in values.items() if isinstance(v, str) and v.strip()}
    if fields.get("film"):
        fields["film_stem"] = Path(fields["film"]).stem
    for alternative in (a.strip() for a in rule.split("|")):
        names = re.findall(r"{(\w+)}", alternative)
        if all(field in fields for field in names):
            raw = alternative.format(**{k: fields[k] for k in names})
            return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_-]+", "_", raw)).strip("_-").lower()
    return ""
