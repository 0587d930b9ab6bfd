"""`animstudio run --resume RUN_ID --timeline edited.otio`: re-render a finished run from a timeline the
user changed in an editor, and score it like any iteration.

The step whose render the timeline describes gets the new render as its result (its lines moved with
the voices the user moved, its spans from the new cuts); the steps that read that result (a parody's
score) run again; evaluate scores the iteration and finish writes the answer, result.json and the
report. Nothing the agent generates is redone: the user's edit is the iteration."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agent.checkpoints import checkpointed_graph, load_run_setup, resume_point
from agent.errors import AgentInputError
from tools.core.registry import invoke
from tools.core.types import ToolError

SHIFTED_KEYS = ("video", "path", "duration", "planned_duration", "expected_duration", "subtitles")


def _maker(state: dict, video: str) -> str | None:
    """The step whose artifacts hold the render the timeline describes."""
    for sid, res in (state.get("step_results") or {}).items():
        if any(a.get("path") == video for a in res.get("artifacts") or []):
            return sid
    return None


def _last_video(state: dict) -> str:
    """The run's final video (or its last one): what an edited timeline without our metadata describes."""
    videos = [a for a in state.get("artifacts") or [] if a.get("kind") == "video"]
    final = [a for a in videos if (a.get("metadata") or {}).get("final")]
    return str((final or videos or [{}])[-1].get("path") or "")


def _downstream(plan: dict, step_id: str) -> list[dict]:
    """Steps that read `step_id`'s result, directly or through another such step, in plan order."""
    hit, out = {step_id}, []
    for step in plan.get("steps") or []:
        if step["id"] != step_id and set(step.get("depends_on") or []) & hit:
            hit.add(step["id"])
            out.append(step)
    return out


def _shift_lines(lines: list[dict], moved: dict[float, float]) -> list[dict]:
    """A voice the user moved takes its line with it (matched by where it was heard, ±0.3 s)."""
    out = []
    for line in lines:
        line = dict(line)
        old = next((o for o in moved if abs(float(line.get("start", -9)) - o) <= 0.3), None)
        if old is not None:
            delta = moved[old] - old
            line["start"], line["end"] = round(line["start"] + delta, 3), round(line["end"] + delta, 3)
        out.append(line)
    return out


def _new_result(old: dict[str, Any], render: dict[str, Any], spans: list[dict], moved: dict[float, float],
                source: str) -> dict[str, Any]:
    new = dict(old)
    values = {"video": render["path"], "path": render["path"], "duration": render["duration"],
              "planned_duration": render["expected_duration"], "expected_duration": render["expected_duration"],
              "subtitles": render.get("subtitles")}
    for key in SHIFTED_KEYS:
        if key in old:
            new[key] = values[key]
    if isinstance(old.get("lines"), list):
        new["lines"] = _shift_lines(old["lines"], moved)
    if isinstance(old.get("timeline"), list):
        if len(old["timeline"]) == len(spans):  # same pieces: each keeps the name the edit gave it (title, replay)
            spans = [{**sp, "kind": was.get("kind", sp["kind"])} for sp, was in zip(spans, old["timeline"])]
        new["timeline"] = spans
    if "changes" in old:
        new["changes"] = [f"re-rendered from the edited timeline {source}"]
    for key in ("timelines", "not_kept"):
        if key in render:
            new[key] = render[key]
    return new


def rerender_from_timeline(agent, thread_id: str, timeline: str | Path, on_event=None):
    from agent.nodes.evaluate import evaluate
    from agent.nodes.execute import run_step
    from agent.nodes.finish import finish
    from tools.video.edl import EDL
    from tools.video.timeline.export import EDL_SUFFIX
    from tools.video.timeline.read import read_timeline, spans_of, timeline_to_edl
    from workflows import Plan

    path = Path(timeline).expanduser().resolve()
    if not path.is_file():
        raise AgentInputError(f"Timeline not found: {timeline}")
    settings, named = load_run_setup(agent.settings, thread_id)
    started = time.perf_counter()
    with checkpointed_graph(settings, thread_id, None, agent._llm, named) as (rt, graph):
        snapshot = resume_point(graph, thread_id)
        state = dict(snapshot.values)
        if snapshot.next:
            raise AgentInputError(f"Run {thread_id!r} has not finished: resume it first (animstudio run --resume "
                                  f"{thread_id}), then bring the edited timeline back")
        if state.get("film"):
            rt.ctx.workspace.allow_file(state["film"])
        try:
            tl = read_timeline(path)
        except ToolError as exc:
            raise AgentInputError(exc.message) from None
        video = str((tl.metadata.get("animstudio") or {}).get("video") or "")
        if not video:  # another editor's format keeps no metadata: the run's last rendered video
            video = _last_video(state)
        step_id = _maker(state, video)
        if step_id is None:
            raise AgentInputError(f"{path.name} is not the timeline of a render of run {thread_id!r}"
                                  + (f" (it describes {video})" if video else " (no animstudio metadata)"),)
        iteration = int(state.get("iteration", 0)) + 1
        out = Path(video).with_name(f"{Path(video).stem}_edited_{iteration}.mp4").as_posix()
        bases = [path.parent, (rt.ctx.workspace.root / video).parent]
        saved = rt.ctx.workspace.root / Path(video).with_name(Path(video).stem + EDL_SUFFIX)
        original = EDL.model_validate_json(saved.read_text(encoding="utf-8")) if saved.is_file() else None
        try:
            edited = timeline_to_edl(tl, bases, out, original)
        except (ToolError, ValueError) as exc:
            raise AgentInputError(f"{path.name}: {getattr(exc, 'message', None) or exc}") from None
        for f in edited.files:
            if f.is_file():
                rt.ctx.workspace.allow_file(f)  # the files the user's timeline plays are theirs to name
        rt.trace.event("run.timeline_edit", run_id=thread_id, timeline=str(path), step=step_id, iteration=iteration,
                       moved=[[a, b] for a, b in edited.moved.items()])
        outcome = invoke("render_edit", {"edl": edited.edl.model_dump(mode="json")}, rt.ctx, step=step_id)
        if not outcome.ok:
            raise AgentInputError(f"The edited timeline does not render: {outcome.error}", )
        old = state["step_results"][step_id]
        result = {**old, "iteration": iteration, "seconds": outcome.seconds,
                  "summary": f"re-rendered from {path.name}: {outcome.summary}",
                  "result": _new_result(old.get("result") or {}, outcome.result, spans_of(edited.edl), edited.moved,
                                        path.name),
                  "artifacts": [a.model_dump(mode="json") for a in outcome.artifacts]}
        if on_event:
            on_event({"type": "node", "node": "execute", "update": {"step_results": {step_id: result}}})
        state = {**state, "iteration": iteration, "step_results": {**state["step_results"], step_id: result},
                 "artifacts": list(state.get("artifacts") or []) + result["artifacts"]}
        plan = Plan.model_validate(state.get("plan") or {})
        for step in _downstream(state.get("plan") or {}, step_id):
            res = run_step(plan.step(step["id"]), state, rt).model_dump(mode="json")
            state["step_results"] = {**state["step_results"], step["id"]: res}
            state["artifacts"] = state["artifacts"] + res["artifacts"]
            if on_event:
                on_event({"type": "node", "node": "execute", "update": {"step_results": {step["id"]: res}}})
        scored = evaluate(state, rt)
        state["quality"] = list(state.get("quality") or []) + scored["quality"]
        state.update({k: v for k, v in scored.items() if k != "quality"})
        state["final_answer"] = ""  # composed again from the new results
        done = finish(state, rt)
        state.update(done)
        graph.update_state({"configurable": {"thread_id": thread_id}},
                           {"iteration": iteration, "step_results": {k: state["step_results"][k] for k in
                                                                      [step_id, *[s["id"] for s in _downstream(state["plan"], step_id)]]},
                            "artifacts": state["artifacts"], "quality": scored["quality"], **done}, as_node="finish")
        return agent._result(state, rt, started)
