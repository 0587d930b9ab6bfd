"""The loop converges: a repair whose output is what the previous iteration already had is not carried on.

A blamed step is redone with the evaluation's findings. When it comes back with the same output as
before (the template fallback writing the same lines for the same scene, a search finding the same
scene), every step after it would get the same inputs and the evaluation would raise the same blame:
the iteration is stopped there and the run ends with the reason and what the user can change.
Outputs are compared by a fingerprint of what the steps after them read of it (the `${steps.x.…}`
references of the plan), without run-specific paths, timings and iteration numbers, which differ every
iteration without changing what the user gets.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

_VOLATILE_KEYS = re.compile(r"(^|_)(seconds|elapsed|path|paths|dir|file|files|artifacts|iteration|run_id|created|"
                            r"timings?|budget_s|log)$")
_PATHLIKE = re.compile(r"(^|/)(runs|tmp)/|\.(json|mp4|wav|srt|ass|png|jpg|txt|mkv|webm|otio)$", re.IGNORECASE)


def _content(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _content(v) for k, v in sorted(value.items()) if not _VOLATILE_KEYS.search(str(k))}
    if isinstance(value, list):
        return [_content(v) for v in value]
    if isinstance(value, str) and _PATHLIKE.search(value):
        return "<file>"
    if isinstance(value, float):
        return round(value, 3)
    return value


_REF = re.compile(r"\$\{steps\.([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+)*)\}")


def consumed(plan_steps: list[Any], step_id: str) -> list[str]:
    """The parts of `step_id`'s output its dependants read (`${steps.script.script}` → "script")."""
    paths: set[str] = set()
    for step in plan_steps:
        for m in _REF.finditer(json.dumps(getattr(step, "args", {}), default=str)):
            if m.group(1) == step_id:
                paths.add(m.group(2).lstrip("."))
    return sorted(paths)


def _pick(value: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def fingerprint(result: Any, paths: list[str] | None = None) -> str:
    """A hash of what a step produced as its dependants see it (the `paths` they read, or all of it),
    without the parts that change every iteration by construction (paths, timings, iteration numbers)."""
    seen = {p: _pick(result, p) for p in paths} if paths and "" not in paths else result
    blob = json.dumps(_content(seen), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def unchanged_repair(step_id: str, tool: str, result: dict, state: dict) -> str | None:
    """Why the run stops here, or None to go on.

    It stops when this step is one the evaluation blamed (a root of the redo), its output is what the
    previous iteration had, and every other blamed step already ran again this iteration with an
    unchanged output too: the rest of the redo only follows from them, so it would repeat itself."""
    iteration = state.get("iteration", 0)
    roots = set(state.get("redo_roots") or [])
    if iteration == 0 or not result.get("unchanged") or step_id not in roots:
        return None
    results = state.get("step_results") or {}
    for other in roots - {step_id}:
        res = results.get(other) or {}
        if res.get("iteration") != iteration or not res.get("unchanged"):
            return None
    pending = list(state.get("pending") or [])[1:]
    blamed = sorted({str(f.get("code")) for f in state.get("feedback") or []
                     if f.get("iteration") == iteration - 1 and f.get("code")})
    return (f"iteration {iteration + 1} stopped: the repair of step '{step_id}' ({tool}) produced the same output as "
            f"iteration {iteration}, so {', '.join(pending) or 'nothing after it'} would repeat it and the evaluation "
            f"would blame the same things again ({', '.join(blamed) or 'the same findings'}). What you can change: "
            "name another scene or tone in the request, use a larger writer (`animstudio models install writer-1.5b`, "
            "then --set llm.local.model_path=…, or --llm openai with a server), or accept this result "
            "(agent.quality_threshold).")
