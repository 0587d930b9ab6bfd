"""The notebook/CLI entry point: `Agent().run(request, film=...)`, `.stream(...)`, `.plan(...)`, `.resume(id)`."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterator

from agent.checkpoints import checkpointed_graph, load_run_setup, resume_point, save_run_setup
from agent.errors import AgentInputError
from agent.graph import build_graph, recursion_limit
from agent.result import RunResult
from agent.session import open_runtime
from tools.core.settings import Settings, load_settings
from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError
from tools.core.workspace import find_in_media_roots, new_run_id

__all__ = ["Agent", "AgentInputError", "check_film", "check_request", "history_messages"]


def check_request(request: str) -> str:
    if not isinstance(request, str) or not request.strip():
        raise AgentInputError("The request is empty: say what you want, e.g. \"make a funny parody of the ocean scene\"")
    if len(request) > 4000:
        raise AgentInputError(f"The request is {len(request)} characters long; keep it under 4000")
    return request.strip()


def check_film(film: str | Path | None, settings: Settings) -> Path | None:
    if film is None or str(film) == "":
        return None
    path = Path(film).expanduser()
    if not path.is_absolute() and not path.exists():  # a name in the film library, as tools resolve it
        path = find_in_media_roots(path, [resolve_path(r) for r in settings.paths.media_roots]) or path
    if not path.exists():
        raise AgentInputError(f"Film not found: {film}")
    from tools.media.probe import media_info

    try:
        info = media_info(path.resolve(), settings.video.ffprobe, limits=settings.limits)
    except ToolError as exc:
        raise AgentInputError(f"{film} is not a usable film: {exc.message}") from None
    if not info.has_video:
        raise AgentInputError(f"{film} has no video stream (it looks like an audio file)")
    return path.resolve()


def film_warnings(film: Path | None, settings: Settings) -> list[str]:
    if film is None:
        return []
    from tools.media.probe import media_info

    return [f"{film.name}: {w}" for w in media_info(film, settings.video.ffprobe, limits=settings.limits).warnings]


def check_inputs(inputs: list[str | Path] | None) -> list[Path]:
    named = [Path(p).expanduser().resolve() for p in inputs or []]
    missing = [str(p) for p in named if not p.exists()]
    if missing:
        raise AgentInputError(f"Input not found: {', '.join(missing)}")
    return named


class Agent:
    """An autonomous creative agent. Each `run` gets a folder `runs/<run_id>/` with its trace and report."""

    def __init__(self, config: str | Path | None = None, *, llm: Any = None, settings: Settings | None = None,
                 overrides: dict[str, Any] | None = None):
        overrides = dict(overrides or {})
        if isinstance(llm, str):
            overrides.setdefault("llm", {})["backend"] = llm
            llm = None
        self.settings = settings or load_settings(config, overrides or None)
        self._llm = llm  # a ready langchain-core chat model (tests, notebooks)
        self.last_result: RunResult | None = None

    # -- internals ------------------------------------------------------------------------------
    def _settings_for(self, strategy: str | None) -> Settings:
        if not strategy:
            return self.settings
        return self.settings.model_copy(update={"agent": self.settings.agent.model_copy(update={"strategy": strategy})})

    @staticmethod
    def _start_state(request: str, film: Path | None, run_id: str, settings: Settings,
                     history: list[tuple[str, str]] | None = None, review: bool = False, interactive: bool = False,
                     job: str | None = None) -> dict[str, Any]:
        return {"request": request, "film": str(film) if film else None, "run_id": run_id,
                "strategy": settings.agent.strategy, "iteration": 0, "react_steps": 0, "status": "running",
                "messages": history_messages(history), "review": review, "interactive": interactive, "job": job}

    def _events(self, graph, rt, inputs: dict | None, run_id: str, stop_before: list[str] | None = None) -> Iterator[dict]:
        config = {"configurable": {"thread_id": run_id}, "recursion_limit": recursion_limit(rt)}
        for mode, chunk in graph.stream(inputs, config, stream_mode=["updates", "custom"], interrupt_before=stop_before):
            if mode == "custom":
                yield chunk
                continue
            for node, update in (chunk or {}).items():
                if node == "__interrupt__":  # a pause: the run waits for a person's decision or answer
                    for pending in update:
                        if is_question(pending.value):
                            yield {"type": "question", "run_id": run_id, "question": pending.value}
                        else:
                            yield {"type": "review", "run_id": run_id, "review": pending.value}
                    continue
                if node.startswith("__"):
                    continue
                yield {"type": "node", "node": node, "update": update or {}}
        snapshot = graph.get_state(config)
        yield {"type": "state", "state": snapshot.values, "review": pending_review(snapshot)}

    def _result(self, state: dict, rt, started: float, review: dict | None = None) -> RunResult:
        root = rt.ctx.workspace.root
        report = None
        try:
            from agent.report import render_report

            report = str(render_report(root))
        except ImportError:
            pass
        except Exception as exc:  # a report failure must not lose the run
            rt.trace.event("report.error", error=f"{type(exc).__name__}: {exc}")
        result = RunResult(
            run_id=rt.ctx.workspace.run_id, run_dir=str(root), request=state.get("request", ""),
            film=state.get("film"), status=state.get("status", "done"), final_answer=state.get("final_answer", ""),
            plan=state.get("plan") or {}, step_results=state.get("step_results") or {},
            artifacts=state.get("artifacts") or [], quality=state.get("quality") or [],
            evidence=state.get("evidence") or [], iterations=state.get("iteration", 0) + 1,
            trace_path=str(root / "trace.jsonl"), report_path=report, seconds=round(time.perf_counter() - started, 3),
        )
        asked = review if is_question(review) else None
        review = None if asked else review
        result.review, result.question = review, asked
        # What the run waits for, for `animstudio review RUN_ID` and `animstudio answer RUN_ID`.
        for name, pending, status in (("review.json", review, "awaiting_review"), ("question.json", asked, "needs_input")):
            if pending is not None:
                result.status = status
                (root / name).write_text(json.dumps(pending, indent=2, ensure_ascii=False), encoding="utf-8")
            else:
                (root / name).unlink(missing_ok=True)
        self.last_result = result
        return result

    # -- public API ---------------------------------------------------------------------------------
    def stream(self, request: str, film: str | Path | None = None, *, strategy: str | None = None,
               run_id: str | None = None, history: list[tuple[str, str]] | None = None,
               inputs: list[str | Path] | None = None, review: bool | None = None, interactive: bool = False,
               job: str | None = None) -> Iterator[dict]:
        """Yield node updates ({type: node}), progress events ({type: progress}) and finally {type: result}.

        `inputs`: other files or folders the user names for this run (e.g. a refs/ folder of
        character images); tools may read them like the film. `review` (default agent.review): pause
        at the workflow's review points ({type: review}); the result then has status
        "awaiting_review" and `Agent.resume(run_id, review={"action": ...})` continues the run.
        A request that leaves out what its job needs pauses with a question ({type: question}; status
        "needs_input"); `Agent.resume(run_id, answer={"option": ...} or {"value": ...})` continues it.
        `interactive`: a person can answer now, so close readings and an unnamed scene are asked too
        (otherwise the run goes ahead with the best and says what else it could have done). `job`: plan
        this job instead of routing (a workflow name).
        """
        request = check_request(request)
        named = check_inputs(inputs)
        film_path = check_film(film, self.settings)
        check_job(job, self.settings)
        run_id = run_id or new_run_id()
        settings = self._settings_for(strategy)
        started = time.perf_counter()
        with checkpointed_graph(settings, run_id, film_path, self._llm, named, new_run=True) as (rt, graph):
            save_run_setup(rt.ctx.workspace.root, settings, named)
            rt.trace.event("run.start", run_id=run_id, request=request, film=str(film_path) if film_path else None,
                           strategy=settings.agent.strategy, llm=settings.llm.backend)
            for warning in film_warnings(film_path, settings):  # e.g. a truncated film: say what is usable
                rt.trace.event("film.warning", warning=warning)
                yield {"type": "notice", "message": warning}
            review_on = settings.agent.review if review is None else bool(review)
            start_state = self._start_state(request, film_path, run_id, settings, history, review=review_on,
                                            interactive=interactive, job=job)
            state: dict = {}
            paused = None
            for event in self._events(graph, rt, start_state, run_id):
                if event["type"] == "state":
                    state, paused = event["state"], event["review"]
                else:
                    yield event
            yield {"type": "result", "result": self._result(state, rt, started, paused)}

    def run(self, request: str, film: str | Path | None = None, *, strategy: str | None = None,
            run_id: str | None = None, history: list[tuple[str, str]] | None = None,
            inputs: list[str | Path] | None = None, on_event=None, review: bool | None = None,
            interactive: bool = False, job: str | None = None) -> RunResult:
        """Run a request to the end (or to a pause: a review, a question) and return the typed result.

        `history`: earlier (role, text) turns."""
        result = None
        for event in self.stream(request, film, strategy=strategy, run_id=run_id, history=history, inputs=inputs,
                                 review=review, interactive=interactive, job=job):
            if on_event:
                on_event(event)
            if event["type"] == "result":
                result = event["result"]
        assert result is not None
        return result

    def resume(self, thread_id: str, on_event=None, review: dict | None = None,
               answer: dict | str | None = None, plan_only: bool = False,
               timeline: str | Path | None = None) -> RunResult:
        """Continue a killed run from its last checkpoint; finished steps are not repeated (agent/checkpoints.py).

        `timeline`: a finished run's timeline changed in an editor (.otio, .kdenlive, .fcpxml, ...): its
        render is redone from it and scored as the next iteration (agent/timeline_edit.py).

        A run paused for review continues with the person's decision: `review={"action": "approve"}`,
        `{"action": "reject", "note": ...}` or `{"action": "edit", "lines": [...]}` / `{"action": "edit",
        "scene": N}` (agent/nodes/review.py). A run waiting for input continues with the answer:
        `answer={"option": KEY}` or `{"value": "refs/"}` (agent/planning/questions.py). `plan_only`: stop
        before the first tool runs (the answered run's plan, as `Agent.plan` shows it; resume again to run it)."""
        if timeline is not None:
            from agent.timeline_edit import rerender_from_timeline

            return rerender_from_timeline(self, thread_id, timeline, on_event)
        settings, named = load_run_setup(self.settings, thread_id)
        started = time.perf_counter()
        with checkpointed_graph(settings, thread_id, None, self._llm, named) as (rt, graph):
            snapshot = resume_point(graph, thread_id)
            if snapshot.values.get("film"):
                rt.ctx.workspace.allow_file(snapshot.values["film"])
            if not snapshot.next:
                return self._result(snapshot.values, rt, started)  # already finished
            pending = pending_review(snapshot)
            if is_question(pending):
                command = answer_command(rt, thread_id, pending, answer if answer is not None else review,
                                         snapshot.values)
            else:
                command = review_command(thread_id, pending, review)
            rt.trace.event("run.resume", run_id=thread_id, next=list(snapshot.next),
                           review=(review or {}).get("action") if isinstance(review, dict) else None)
            state: dict = {}
            paused = None
            for event in self._events(graph, rt, command, thread_id, ["execute"] if plan_only else None):
                if event["type"] == "state":
                    state, paused = event["state"], event["review"]
                elif on_event:
                    on_event(event)
            return self._result(state, rt, started, paused)

    def plan(self, request: str, film: str | Path | None = None, *, strategy: str | None = None,
             inputs: list[str | Path] | None = None, interactive: bool = True, job: str | None = None) -> dict[str, Any]:
        """Dry run: the same graph, stopped before execute (understand → retrieve (∥ web) → plan); no tool runs.
        A request that leaves out what its job needs stops at its question (`question` in the result)."""
        from langgraph.checkpoint.memory import InMemorySaver

        request = check_request(request)
        named = check_inputs(inputs)
        film_path = check_film(film, self.settings)
        check_job(job, self.settings)
        run_id = "plan-" + new_run_id()
        settings = self._settings_for(strategy)
        with open_runtime(settings, run_id, film_path, self._llm, named) as rt:
            graph = build_graph(rt, InMemorySaver(), interrupt_before=["execute"])
            config = {"configurable": {"thread_id": run_id}, "recursion_limit": recursion_limit(rt)}
            graph.invoke(self._start_state(request, film_path, run_id, settings, interactive=interactive, job=job),
                         config)
            state = graph.get_state(config).values
        return {"run_id": run_id, "intent": state["intent"], "plan": state["plan"], "order": state.get("pending", []),
                "refusal": state.get("refusal"), "question": state.get("question"),
                "evidence": state.get("evidence", []),
                "run_dir": str(rt.ctx.workspace.root)}


def check_job(job: str | None, settings: Settings) -> None:
    if job is None:
        return
    from agent.session import workflows_for

    known = workflows_for(settings)
    if job not in known:
        raise AgentInputError(f"Unknown job {job!r}; jobs: {', '.join(sorted(known))}")


def is_question(payload: Any) -> bool:
    """A pause payload that is a question (needs_input), not a review."""
    return isinstance(payload, dict) and payload.get("pause") == "input"


def answer_command(rt, run_id: str, pending: dict, answer: Any, values: dict):
    """What resumes a run waiting for input: the answer, checked in full first (nothing resumes on a bad one)."""
    from langgraph.types import Command

    from agent.nodes.ask import stated_start
    from agent.planning.questions import AnswerError, resolve_answer
    from agent.planning.routing.reading import run_lists

    if answer is None:
        options = ", ".join(o["key"] for o in pending.get("options") or [])
        raise AgentInputError(f"Run {run_id!r} waits for input: {pending.get('question')}"
                              + (f" (options: {options})" if options else "")
                              + " — answer with `animstudio answer RUN_ID ...`, the studio, or Agent.resume(answer=...)")
    try:
        parsed, _ = resolve_answer(pending, answer, values.get("request", ""), run_lists(rt)[1], stated_start(values))
    except (AnswerError, ValueError) as exc:
        raise AgentInputError(f"Answer to run {run_id!r}: {exc}") from None
    return Command(resume=parsed.model_dump(exclude_none=True))


def pending_review(snapshot) -> dict | None:
    """The payload of the review the run is paused at, if any."""
    interrupts = getattr(snapshot, "interrupts", ()) or ()
    return interrupts[0].value if interrupts else None


def review_command(run_id: str, pending: dict | None, decision: dict | None):
    """What resumes the graph: the person's decision for a paused run, nothing for a killed one."""
    from langgraph.types import Command

    from agent.nodes.review import ReviewError, check_decision

    if pending is None:
        if decision is not None:
            raise AgentInputError(f"Run {run_id!r} is not waiting for a review")
        return None
    if decision is None:
        raise AgentInputError(f"Run {run_id!r} is waiting for a {pending.get('kind')} review: "
                              "approve, edit or reject it (animstudio review RUN_ID, or the studio)")
    try:
        check_decision(pending, decision)
    except ReviewError as exc:
        raise AgentInputError(f"Review of run {run_id!r}: {exc}") from None
    return Command(resume=decision if isinstance(decision, dict) else decision.model_dump())


def history_messages(history: list[tuple[str, str]] | None) -> list:
    from langchain_core.messages import AIMessage, HumanMessage

    return [HumanMessage(content=t) if role == "you" else AIMessage(content=t) for role, t in history or []]
