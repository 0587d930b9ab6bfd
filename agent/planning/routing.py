"""From a request to a job: the request's slots and signals, the rules' route, and (for a capable
model) the model's own choice. Called by the understand node and by the planning benchmark."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.planning.model_route import model_routes, route_with_model
from agent.planning.router import Route
from agent.planning.signals import request_signals
from tools.core.settings.loader import resolve_path


def presets(settings) -> list[str]:
    """Character preset names (configs/characters.yaml); none when the file is missing or broken."""
    try:
        from tools.media.character_presets import load_characters

        return [p.name for p in load_characters(settings).values()]
    except Exception:
        return []


def datasets(settings) -> list[str]:
    """Datasets that exist: folders under paths.datasets_dir with a metadata.json."""
    root = resolve_path(settings.paths.datasets_dir)
    try:
        return sorted(p.name for p in root.iterdir() if (p / "metadata.json").is_file())
    except OSError:
        return []


def rules_route(rt, state: dict) -> Route:
    """The rules' route of this state's request again (deterministic: the same as understand's)."""
    from agent.planning.builders import request_slots

    slots = request_slots(rt, state)
    signals = request_signals(state["request"], slots, film_given=bool(state.get("film")), inputs=rt.inputs)
    return rt.router.route(state["request"], signals)


def route_request(rt, request: str, slots: Any, *, film: str | None, inputs: list[str | Path]) -> Route:
    signals = request_signals(request, slots, film_given=bool(film), inputs=inputs)
    route = rt.router.route(request, signals)
    rt.trace.event("route.rules", workflow=route.workflow, score=round(route.score, 3), matched=route.matched,
                   method=route.method, signals=[k for k, v in signals.items() if v],
                   ranking=[(n, c) for n, c in route.ranking[:5]])
    if model_routes(rt.settings):
        route = route_with_model(rt, request, route, bool(film), [str(p) for p in inputs])
    rt.trace.event("route", workflow=route.workflow, method=route.method, why=route.matched[:6],
                   confidence=route.confidence)
    return route
