"""The one typed state of the agent graph, with reducers on every key parallel branches write.

Values are plain JSON-able dicts/lists (pydantic models are dumped at node boundaries) so the
SQLite checkpointer stores them without custom serialisers and a killed run resumes exactly.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import BaseModel, Field
from typing_extensions import TypedDict


def merge_by_id(left: list[dict] | None, right: list[dict] | None) -> list[dict]:
    """Append, replacing items whose `id` is already present (evidence from parallel branches)."""
    out = list(left or [])
    index = {item.get("id"): i for i, item in enumerate(out)}
    for item in right or []:
        key = item.get("id")
        if key in index:
            out[index[key]] = item
        else:
            index[key] = len(out)
            out.append(item)
    return out


def merge_dicts(left: dict | None, right: dict | None) -> dict:
    return {**(left or {}), **(right or {})}


def merge_artifacts(left: list[dict] | None, right: list[dict] | None) -> list[dict]:
    out = list(left or [])
    index = {a.get("path"): i for i, a in enumerate(out)}
    for art in right or []:
        if art.get("path") in index:
            out[index[art["path"]]] = art
        else:
            index[art.get("path")] = len(out)
            out.append(art)
    return out


def append(left: list | None, right: list | None) -> list:
    return list(left or []) + list(right or [])


class AgentState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    request: str
    film: str | None
    run_id: str
    strategy: str
    intent: dict[str, Any]
    evidence: Annotated[list[dict], merge_by_id]
    plan: dict[str, Any]
    step_results: Annotated[dict[str, dict], merge_dicts]
    pending: list[str]  # step ids still to run in this iteration, in scheduler order
    artifacts: Annotated[list[dict], merge_artifacts]
    quality: Annotated[list[dict], append]  # one entry per iteration
    iteration: int
    feedback: list[dict]  # findings of every evaluation so far (tools/core/findings.Finding), newest last
    react_steps: int
    final_answer: str
    status: str
    review: bool  # pause at the workflow's review points (agent.review / --review)
    reviews: Annotated[list[dict], append]  # decisions taken: step, kind, iteration, action, note
    refusal: dict[str, Any]  # a planned step whose model is not configured (agent/planning/readiness.py)
    interactive: bool  # a person can answer now (a terminal, chat, the studio): close readings are asked too
    job: str | None  # the job the person chose up front (`--job`), instead of routing
    question: dict[str, Any] | None  # what the run waits for (agent/planning/questions.PendingQuestion)
    answers: Annotated[dict[str, Any], merge_dicts]  # typed values the person's answers gave (parameter → value)
    inputs: Annotated[list[str], append]  # files and folders given in answers since the run started
    fingerprints: Annotated[dict[str, str], merge_dicts]  # step id → its last output's fingerprint (converge.py)
    redo_roots: list[str]  # the steps the last evaluation blamed or that failed (reflect), before their dependants
    stop_reason: str  # why the loop stopped before its cap (a repair that changed nothing), and what to change


# ---- typed views of the state's parts (used by nodes, the Agent API and the CLI) -------------

class SubTask(BaseModel):
    id: str = Field(description="short id, e.g. 'find_scene'", max_length=32)
    description: str = Field(description="what this sub-task achieves", max_length=100)


class Intent(BaseModel):
    """What the model is asked to read from the request (kept small: every field costs decoding time)."""

    goal: str = Field(description="one sentence: what the user wants", max_length=160)
    task: Literal["parody", "dataset", "image", "library", "video_edit", "voice", "analysis", "question",
                  "other"] = "other"
    film: str | None = Field(default=None, description="film title the request is about, if any", max_length=60)
    scene: str | None = Field(default=None, description="scene or moment named in the request", max_length=120)
    characters: list[str] = Field(default_factory=list, description="character names mentioned", max_length=4)
    tone: str | None = Field(default=None, description="tone or style asked for, e.g. funny", max_length=40)
    needs_fresh_facts: bool = Field(default=False, description="true only if recent/online facts are needed")
    subtasks: list[SubTask] = Field(default_factory=list, max_length=4)


class UnderstoodIntent(Intent):
    """The understand node's result: the model's reading grounded in the request's own slots, and the route."""

    language: str = "en"
    workflow: str | None = None
    workflow_similarity: float = 0.0
    slots: dict[str, Any] = Field(default_factory=dict)  # RequestSlots: what the request itself states
    # The rules' reading of the request, stored once: method, jobs (two for two deliverables), the close
    # second reading, the jobs with evidence, whether it is a question (agent/planning/routing/reading.py).
    reading: dict[str, Any] = Field(default_factory=dict)


class StepResult(BaseModel):
    step_id: str
    tool: str
    ok: bool
    summary: str = ""
    result: Any = None
    error: str | None = None
    error_kind: str | None = None
    hint: str = ""
    seconds: float = 0.0
    iteration: int = 0
    optional: bool = False
    artifacts: list[dict] = Field(default_factory=list)
    fingerprint: str = ""  # of the output's content (agent/nodes/converge.py)
    unchanged: bool = False  # redone, and its output is the previous iteration's
