"""needs_input: what the agent asks a person when a request leaves out what its job needs.

A question is data (`PendingQuestion`: kind, question, why, options and what each does, the flag
that gives the answer up front) so the CLI, chat, the studio and the API present it the same way.
The run pauses on it with the same LangGraph interrupt the review uses (agent/nodes/ask.py); the
answer (`InputAnswer`: an option's key or a typed value) is checked here and becomes typed
parameter values (`answers`, provenance "answer") the plan node fills the job with.

Kinds: film (no film given), refs (a folder of reference pictures), dataset (an existing dataset),
time (a start and an end), line (the words to say), scene (which scene), choice (which job, when a
request names something but no deliverable, or two jobs read it equally well).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from workflows import Workflow
from workflows.loader import Parameter

QuestionKind = Literal["film", "refs", "dataset", "time", "line", "scene", "choice"]
PARTIAL = "partial"  # the option that runs the part of the job that does not need the answer
SEARCH = "search"  # the option that searches the film with the whole request (scene questions)
JOB_KEY, PARTIAL_KEY, FILM_KEY = "__job__", "__partial__", "__film__"  # a job / a partial run / the film

# Slot kinds → what is asked (anything else is a choice).
_SLOT_KINDS: dict[str, QuestionKind] = {"dataset": "dataset", "start_s": "time", "end_s": "time", "said": "line",
                                        "scene": "scene"}


class AnswerOption(BaseModel):
    key: str = Field(description="what to send back as `option`")
    label: str
    does: str = Field("", description="what choosing it does")
    job: str | None = None  # the job it runs
    value: Any = None  # the value it gives the parameter (a dataset name, a film path)


class PendingQuestion(BaseModel):
    """What the run waits for (`status: needs_input`). Answer with an option's key, or a typed value."""

    pause: Literal["input"] = "input"  # tells it apart from a review payload
    kind: QuestionKind
    question: str
    why: str = ""
    job: str | None = None  # the job the question is about
    jobs: list[str] = Field(default_factory=list)  # every job of the plan, in order
    parameters: list[str] = Field(default_factory=list)  # what the answer fills
    options: list[AnswerOption] = Field(default_factory=list)
    free_text: bool = True  # a typed value is accepted (a path, a time, a line)
    how: str = ""  # how to give it up front next time: `--film PATH`, `--input refs/`
    run_id: str | None = None
    request: str = ""


class InputAnswer(BaseModel):
    option: str | None = Field(None, max_length=80, description="the key of one of the question's options")
    value: str | None = Field(None, max_length=2000, description="a typed answer: a path, a time range, a line")


class AnswerError(ValueError):
    """An answer that does not fit the question; the message says what would."""


def ask_kind(param: Parameter) -> QuestionKind:
    if param.source == "film":
        return "film"
    if param.source == "input":
        return "refs"
    return _SLOT_KINDS.get(param.slot or "", "choice")


def _library_films(settings: Any, limit: int = 6) -> list[Path]:
    from tools.core.settings.loader import resolve_path
    from tools.media.probe import MEDIA_EXTENSIONS

    films: list[Path] = []
    for root in settings.paths.media_roots:
        folder = resolve_path(root)
        if folder.is_dir():
            films += [f for f in sorted(folder.rglob("*")) if f.is_file() and f.suffix.lower() in MEDIA_EXTENSIONS
                      and f.suffix.lower() not in (".wav", ".mp3", ".flac", ".m4a", ".ogg", ".opus", ".aac")]
    return films[:limit]


def film_question(wf: Workflow, settings: Any, jobs: list[str]) -> PendingQuestion:
    options = [AnswerOption(key=f"film{i}", label=f.name, does=f"{wf.title or wf.name} on {f.name}", value=str(f))
               for i, f in enumerate(_library_films(settings), 1)]
    return PendingQuestion(kind="film", job=wf.name, jobs=jobs, parameters=[FILM_KEY], options=options,
                           question=f"Which film? {(wf.title or wf.name).capitalize()} needs one.",
                           why="no film was given to this run", how="--film PATH (the studio: pick or upload a film)")


def missing_question(wf: Workflow, missing: list[str], values: dict[str, Any], jobs: list[str],
                     datasets: list[str], inputs: list[str]) -> PendingQuestion:
    """The first missing required parameter as a question; the partial run of the job when one exists."""
    name = missing[0]
    param = wf.parameters[name]
    kind = ask_kind(param)
    job = wf.title or wf.name
    covered = [n for n in missing if ask_kind(wf.parameters[n]) == kind] if kind == "time" else [name]
    options: list[AnswerOption] = []
    how, question, why = "", f"{job.capitalize()} needs {param.description or name}.", f"the request does not say {name}"
    if kind == "refs":
        who = values.get("character") or "the character"
        question = f"Where are the reference pictures of {who}? (a folder with one sub-folder per character)"
        how = f"--input refs/ (refs/{who}/*.png)"
    elif kind == "dataset":
        stated = values.get(name)
        why = f"there is no dataset {stated!r}" if stated else "the request names no dataset"
        question = f"Which dataset? {job.capitalize()} works on one that exists."
        options = [AnswerOption(key=d, label=d, does=f"{job} on {d}", value=d) for d in datasets[:8]]
        how = "name it in the request (e.g. \"… on harbour_set\")"
    elif kind == "time":
        start = values.get("start")
        question = (f"Cut from {start:g} s to when?" if start is not None else "Which part: from when to when?") + \
            " (e.g. 0:12 to 0:27, or \"the first 20 seconds\")"
        how = "say it in the request: \"from 0:12 to 0:27\""
    elif kind == "line":
        question = f"What should {values.get('character') or 'the voice'} say?"
        how = "quote it in the request: say 'Ahoy!'"
    elif kind == "scene":
        question = "Which scene? Describe what is seen, or quote a line said in it."
        options = [AnswerOption(key=SEARCH, label="search with my whole request",
                                does="find the scene that best matches the request as written")]
        how = "name it in the request: \"the scene where …\""
    elif kind == "choice" and param.slot == "character":
        folders = [p.name for raw in inputs for p in sorted(Path(raw).iterdir()) if Path(raw).is_dir() and p.is_dir()]
        folders += [c.strip() for c in str(values.get("__character_options__") or "").split(",") if c.strip()]
        question = f"Which character? {job.capitalize()} is for one."
        options = [AnswerOption(key=f, label=f, does=f"{job} for {f}", value=f) for f in dict.fromkeys(folders)][:8]
    if param.without:
        kept = ", ".join(param.without)
        options.append(AnswerOption(key=PARTIAL, label=f"go ahead without {name}",
                                    does=f"run only the steps that do not need it ({kept})", job=wf.name))
    return PendingQuestion(kind=kind, question=question, why=why, job=wf.name, jobs=jobs, parameters=covered,
                           options=options, how=how, free_text=kind != "choice" or not options)


def choice_question(jobs: list[tuple[str, str]], why: str, request: str) -> PendingQuestion:
    """Which job: (name, title) pairs, best reading first."""
    options = [AnswerOption(key=name, label=title or name, does=f"plan it as {title or name}", job=name)
               for name, title in jobs]
    return PendingQuestion(kind="choice", question="What would you like me to make? " +
                           " or ".join(o.label for o in options) + "?", why=why, job=jobs[0][0] if jobs else None,
                           jobs=[jobs[0][0]] if jobs else [], options=options, free_text=False,
                           how="say what you want back: \"cut …\", \"draw …\", \"what do they say in …\"",
                           request=request)


# ---- the answer ------------------------------------------------------------------------------------


def check_answer(question: dict[str, Any] | PendingQuestion, answer: dict[str, Any] | InputAnswer | str) -> InputAnswer:
    q = question if isinstance(question, PendingQuestion) else PendingQuestion.model_validate(question)
    if isinstance(answer, str):
        answer = {"option": answer} if any(o.key == answer for o in q.options) else {"value": answer}
    parsed = answer if isinstance(answer, InputAnswer) else InputAnswer.model_validate(answer)
    if parsed.option is not None:
        if parsed.option not in {o.key for o in q.options}:
            raise AnswerError(f"pick one of {[o.key for o in q.options]}, not {parsed.option!r}")
        return parsed
    if not (parsed.value or "").strip():
        raise AnswerError("the answer is empty: " + (f"pick one of {[o.key for o in q.options]} or " if q.options else "")
                          + "type a value")
    if not q.free_text:
        raise AnswerError(f"pick one of {[o.key for o in q.options]}")
    return parsed


def resolve_answer(question: dict[str, Any] | PendingQuestion, answer: Any, request: str, datasets: list[str],
                   stated_start: float | None = None) -> tuple[InputAnswer, dict[str, Any]]:
    """Check an answer fully (the option, the path, the dataset, the times) before a run resumes with it."""
    q = question if isinstance(question, PendingQuestion) else PendingQuestion.model_validate(question)
    parsed = check_answer(q, answer)
    return parsed, answer_values(q, parsed, request, datasets, stated_start)


def _path(value: str, want_dir: bool) -> Path:
    path = Path(value.strip().strip("\"'")).expanduser()
    if not path.exists():
        raise AnswerError(f"not found: {value}")
    if want_dir and not path.is_dir():
        raise AnswerError(f"{value} is not a folder (give the folder with one sub-folder of pictures per character)")
    return path.resolve()


def answer_values(q: PendingQuestion, answer: InputAnswer, request: str, datasets: list[str],
                  stated_start: float | None = None) -> dict[str, Any]:
    """The typed values an answer gives: {parameter: value}; JOB_KEY/PARTIAL_KEY for a job or a partial run."""
    option = next((o for o in q.options if o.key == answer.option), None)
    if option is not None:
        if option.key == PARTIAL:
            return {PARTIAL_KEY: q.parameters[0], JOB_KEY: option.job or q.job}
        if option.key == SEARCH:
            return {q.parameters[0]: request}
        if q.kind == "choice" and option.job and option.value is None:
            return {JOB_KEY: option.job}
        return {q.parameters[0]: option.value}
    text = " ".join((answer.value or "").split())
    if q.kind == "film":
        return {FILM_KEY: str(_path(text, want_dir=False))}
    if q.kind == "refs":
        return {q.parameters[0]: str(_path(text, want_dir=True))}
    if q.kind == "dataset":
        if text not in datasets:
            raise AnswerError(f"there is no dataset {text!r}; datasets: {', '.join(datasets) or 'none yet'}")
        return {q.parameters[0]: text}
    if q.kind == "time":
        return _times(q, text, stated_start)
    if q.kind == "line":
        return {q.parameters[0]: text.strip("\"'“”«»")}
    if q.kind == "scene":
        from agent.planning.slots import extract_slots, scene_answer_phrase

        phrase = scene_answer_phrase(text)
        return {q.parameters[0]: extract_slots(phrase).value("scene") or phrase}
    return {q.parameters[0]: text}


def _times(q: PendingQuestion, text: str, stated_start: float | None) -> dict[str, Any]:
    from agent.planning.slots import extract_slots

    found = extract_slots(f"from {text}" if re.match(r"\d", text) else text)
    start, end = found.value("start_s"), found.value("end_s")
    if end is None and stated_start is not None:
        # The start is known and the question asked "to when?": "to 1:35", or just "1:35", is the end.
        lead = "" if re.match(r"\s*(to|until|till|a|fino)\b", text, re.I) else "to "
        single = extract_slots(f"from {stated_start:g} s {lead}{text}")
        start, end = single.value("start_s"), single.value("end_s")
    if start is None or end is None or end <= start:
        raise AnswerError("give a start and an end, e.g. \"0:12 to 0:27\" or \"the first 20 seconds\"")
    names = q.parameters if len(q.parameters) == 2 else ["start", "end"]
    return {names[0]: float(start), names[1]: float(end)}
