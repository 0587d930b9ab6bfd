"""The request, read once: its slots (with every name list the rules consult), its signals, the rules'
route and (for a capable model) the model's own choice. The understand node stores the reading in the
state; plan, the strategies and the report read it from there."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.planning.routing.model import model_routes, route_with_model
from agent.planning.routing.router import Route
from agent.planning.routing.signals import request_signals
from agent.planning.slots import RequestSlots, extract_slots, known_names
from tools.core.settings.loader import resolve_path


def presets(settings) -> list[str]:
    """Character preset names (configs/characters.yaml); none when the file is missing or broken."""
    try:
        from tools.media.character_presets import load_characters

        return [p.name for p in load_characters(settings).values()]
    except Exception:
        return []


def run_names(rt) -> tuple[list[str], list[str]]:
    """(character names, film titles) the knowledge base knows; read once per run."""
    if "known_names" not in rt.extras:
        rt.extras["known_names"] = known_names(rt.kb)
    return rt.extras["known_names"]


def run_lists(rt) -> tuple[list[str], list[str]]:
    """(character presets, existing datasets), read once per run."""
    if "route_lists" not in rt.extras:
        rt.extras["route_lists"] = (presets(rt.settings), datasets(rt.settings))
    return rt.extras["route_lists"]


def slots_of(rt, request: str) -> RequestSlots:
    """The request's own slots, with every name list the rules consult."""
    names, titles = run_names(rt)
    presets, datasets = run_lists(rt)
    return extract_slots(request, names, titles, presets=presets, datasets=datasets)


def request_slots(rt, state: dict) -> RequestSlots:
    """The request's own slots (extracted by the understand node, or here when planning directly)."""
    stored = (state.get("intent") or {}).get("slots")
    if stored:
        return RequestSlots.model_validate(stored)
    return slots_of(rt, state["request"])


def datasets(settings) -> list[str]:
    """Datasets that exist: folders under paths.datasets_dir with a metadata.json."""
    root = resolve_path(settings.paths.datasets_dir)
    try:
        return sorted(p.name for p in root.iterdir() if (p / "metadata.json").is_file())
    except OSError:
        return []


def rules_route(rt, state: dict) -> Route:
    """The rules' route of this state's request again (deterministic: the same as understand's)."""
    slots = request_slots(rt, state)
    signals = request_signals(state["request"], slots, film_given=bool(state.get("film")), inputs=rt.inputs)
    return rt.router.route(state["request"], signals)


def route_request(rt, request: str, slots: Any, *, film: str | None, inputs: list[str | Path],
                  job: str | None = None) -> Route:
    signals = request_signals(request, slots, film_given=bool(film), inputs=inputs)
    if job:  # the person chose the job (`--job`): no routing
        route = Route(job, 0.0, [(job, 1.0)], ["chosen by the person"], "user", signals)
        rt.trace.event("route", workflow=job, method="user", why=route.matched, confidence=1.0)
        return route
    route = rt.router.route(request, signals)
    rt.trace.event("route.rules", workflow=route.workflow, score=round(route.score, 3), matched=route.matched,
                   method=route.method, signals=[k for k, v in signals.items() if v],
                   ranking=[(n, c) for n, c in route.ranking[:5]], jobs=route.jobs, close=route.close)
    if model_routes(rt.settings):
        route = route_with_model(rt, request, route, bool(film), [str(p) for p in inputs])
    rt.trace.event("route", workflow=route.workflow, method=route.method, why=route.matched[:6],
                   confidence=route.confidence)
    return route


# Slot kinds an order can name without saying what to make of them, and what each names.
_NAMED = {"character": "a character", "scene": "a scene", "dataset": "a dataset"}


def lacking(wf, slots: Any, signals: dict[str, bool]) -> int:
    """How many required values of the job neither the request nor the run gives."""
    given = {"film": signals.get("film_given"), "input": signals.get("image_input") or signals.get("folder_input")}
    return sum(1 for p in wf.parameters.values() if p.required and not p.derive and not (
        given.get(p.source) if p.source in given else (p.source == "request" or (p.slot and slots.stated(p.slot)))))


def reading_of(rt, route: Route, slots: Any) -> dict[str, Any]:
    """The stored reading (intent.reading): what the plan node, the strategies and the report use."""
    takers: list[str] = []
    named = [kind for kind in _NAMED if slots.stated(kind) is not None]
    if route.method == "fallback" and named and not route.signals.get("question"):
        # An order that names something but no deliverable: the jobs that take it, best reading first.
        # Offered first: the jobs the request already gives everything for, then by the rules' ranking.
        rank = {name: i for i, (name, _) in enumerate(route.ranking)}
        takers = sorted({name for name, wf in rt.workflows.items() for p in wf.parameters.values()
                         if p.slot in named or (p.slot == "characters" and "character" in named)},
                        key=lambda n: (lacking(rt.workflows[n], slots, route.signals), rank.get(n, 99)))
    return {"method": route.method, "jobs": route.jobs, "close": route.close, "candidates": route.candidates[:5],
            "question": bool(route.signals.get("question")), "takers": takers,
            "names_what": " and ".join(_NAMED[k] for k in named)}
