"""`animstudio`: run, chat, plan, tools, config, doctor, demo, report, export (+ kb and dataset sub-apps)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from agent.cli.errors import EXIT_BAD_INPUT, EXIT_FAILED, fail, guard, run_exit_code
from tools.core.settings import load_settings
from tools.core.settings.loader import dotted_overrides, resolve_path

app = typer.Typer(help="Animation AI Studio: an autonomous creative agent for animated films.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
tools_app = typer.Typer(help="List and call the registered tools.", no_args_is_help=True)
config_app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)
app.add_typer(tools_app, name="tools")
app.add_typer(config_app, name="config")
console = Console(stderr=True)
out = Console()

@app.callback()
def _startup() -> None:
    """Every subcommand: children started from here are stopped when the command is interrupted."""
    from tools.core.child_processes import install_signal_handlers

    install_signal_handlers()


ConfigOpt = typer.Option(None, "--config", "-c", help="A YAML config file layered over configs/default.yaml.")
LlmOpt = typer.Option(None, "--llm", help="LLM backend: local | openai | fake.")
SetOpt = typer.Option(None, "--set", help="Override a setting, e.g. --set agent.max_iterations=2 (repeatable).")


def _settings(config: Optional[Path], llm: Optional[str], sets: Optional[list[str]], strategy: str | None = None):
    overrides: dict[str, Any] = dotted_overrides(sets or [])
    if llm:
        overrides.setdefault("llm", {})["backend"] = llm
    if strategy:
        overrides.setdefault("agent", {})["strategy"] = strategy
    return load_settings(config, overrides or None)


def _fail(message: str, hint: str = "", code: int = EXIT_BAD_INPUT) -> None:
    fail(message, hint, code)


_guard = guard


def _interactive(as_json: bool) -> bool:
    """A person at a terminal can answer questions now; --json or piped input cannot."""
    import sys

    return not as_json and sys.stdin.isatty()


def _run_with_display(agent, request: str | None, film: Optional[Path], as_json: bool, resume: str | None,
                      run_id: str | None = None, inputs: list[Path] | None = None, review: bool | None = None,
                      decision: dict | None = None, job: str | None = None, answer: dict | None = None,
                      timeline: Path | None = None):
    from agent.cli.console import EventPrinter, print_result

    printer = None if as_json else EventPrinter(console)
    try:
        if resume:
            result = agent.resume(resume, on_event=printer, review=decision, answer=answer, timeline=timeline)
        else:
            result = agent.run(request, film=film, run_id=run_id, inputs=inputs, on_event=printer, review=review,
                               interactive=_interactive(as_json), job=job)
    finally:
        if printer:
            printer.close()
    if not as_json:
        from agent.cli.question_prompt import answer_until_done
        from agent.cli.review_prompt import review_until_done

        result = review_until_done(agent, result, console)
        while _interactive(as_json) and result.status == "needs_input":
            asked = result.question
            result = review_until_done(agent, answer_until_done(agent, result, console), console)
            if result.status == "needs_input" and result.question == asked:
                break  # left waiting (Ctrl-D / an empty answer): `animstudio answer` continues it
    if as_json:
        out.print_json(json.dumps(result.summary_json(), default=str))
    else:
        print_result(out, result)
        if result.status == "needs_input" and result.question:
            from agent.cli.question_prompt import show_question

            show_question(out, result.question)
            out.print(f"Answer it: animstudio answer {result.run_id} VALUE (or --option KEY)")
    return result


ReviewOpt = typer.Option(None, "--review/--no-review",
                         help="Pause to approve, edit or reject the scene and the script before the render.")


@app.command()
@_guard
def run(request: Optional[str] = typer.Argument(None, help="What you want, in plain words."),
        film: Optional[Path] = typer.Option(None, "--film", "-f", help="A film file to work on."),
        llm: Optional[str] = LlmOpt, config: Optional[Path] = ConfigOpt,
        strategy: Optional[str] = typer.Option(None, "--strategy", help="react | cot | tot"),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
        resume: Optional[str] = typer.Option(None, "--resume", help="Resume a killed run by its thread/run id."),
        run_id: Optional[str] = typer.Option(None, "--run-id", help="Name the run (also its thread id)."),
        inputs: Optional[list[Path]] = typer.Option(None, "--input", "-i",
                                                    help="Another file or folder for this run, e.g. refs/ (repeatable)."),
        review: Optional[bool] = ReviewOpt, sets: Optional[list[str]] = SetOpt,
        job: Optional[str] = typer.Option(None, "--job", help="Plan this job (a workflow name) instead of routing."),
        timeline: Optional[str] = typer.Option(None, "--timeline", help="Also write each edit's timeline in these "
                                               "formats (kdenlive,mlt,fcpxml,fcp7,edl; .otio always); with --resume: "
                                               "a timeline you edited, to re-render and score.")):
    """Run a request through the agent; leaves runs/<run_id>/ with trace, artifacts and report.

    A request that leaves out what its job needs asks for it: at a terminal, then and there; with --json
    (or no terminal) the run stops with exit code 2 and the question in the output (`animstudio answer`)."""
    from agent.api import Agent
    from agent.cli.export_cli import timeline_option

    if not resume and not request:
        _fail("give a request, e.g. animstudio run \"make a funny parody of the ocean scene\" --film film.mp4")
    edited, formats = timeline_option(timeline, bool(resume))
    if formats:
        sets = [*(sets or []), f"video.timeline_formats={json.dumps(formats)}"]
    settings = _settings(config, llm, sets, strategy)
    if run_id and not resume:  # said before any output; Agent.run claims the folder atomically
        from tools.core.workspace import run_folder

        if run_folder(resolve_path(settings.paths.runs_dir), run_id).exists():
            _fail(f"Run id {run_id!r} is already taken by an earlier run",
                  f"choose another --run-id, or continue that run with --resume {run_id}")
    agent = Agent(settings=settings)
    result = _run_with_display(agent, request, film, as_json, resume, run_id, inputs, review, job=job,
                               timeline=edited)
    raise typer.Exit(run_exit_code(result))


def _pending(settings, run_id: str, name: str, what: str) -> dict:
    """The question or review a run waits for (its run folder's `name`), or a clear failure."""
    from tools.core.workspace import run_folder

    pending_file = run_folder(resolve_path(settings.paths.runs_dir), run_id) / name
    if not pending_file.exists():
        _fail(f"run {run_id!r} is not waiting for {what} (no {pending_file})")
    return json.loads(pending_file.read_text(encoding="utf-8"))


@app.command("answer")
@_guard
def answer_cmd(run_id: str = typer.Argument(..., help="The run waiting for input (status needs_input)."),
               value: Optional[str] = typer.Argument(None, help="The answer: a path, a time range, a line..."),
               option: Optional[str] = typer.Option(None, "--option", help="Pick one of the question's options by key."),
               config: Optional[Path] = ConfigOpt, as_json: bool = typer.Option(False, "--json"),
               sets: Optional[list[str]] = SetOpt):
    """Answer the question a run waits for (no answer: show it and ask), then let the run go on."""
    from agent.api import Agent
    from agent.cli.question_prompt import read_answer, show_question

    settings = _settings(config, None, sets)
    question = _pending(settings, run_id, "question.json", "input")
    if option is not None:
        answer = {"option": option}
    elif value is not None:
        answer = read_answer(question, value)
    elif _interactive(as_json):
        show_question(console, question)
        answer = read_answer(question, console.input("[bold]answer>[/] "))
    else:
        _fail(f"run {run_id!r} waits for: {question.get('question')}", "give the answer: animstudio answer RUN_ID VALUE")
    result = _run_with_display(Agent(settings=settings), None, None, as_json, run_id, answer=answer)
    raise typer.Exit(run_exit_code(result))


@app.command("review")
@_guard
def review_cmd(run_id: str = typer.Argument(..., help="The run waiting for a review."),
               approve: bool = typer.Option(False, "--approve", help="Approve what the run shows."),
               reject: bool = typer.Option(False, "--reject", help="Stop the run here."),
               edit: Optional[Path] = typer.Option(None, "--edit", help="A JSON file: {title, lines: [{character, text}]}."),
               scene: Optional[int] = typer.Option(None, "--scene", help="Use this candidate scene (scene review)."),
               note: str = typer.Option("", "--note", help="Why, for the trace."),
               config: Optional[Path] = ConfigOpt, as_json: bool = typer.Option(False, "--json"),
               sets: Optional[list[str]] = SetOpt):
    """Answer the review a run waits for (no option: show it and ask), then let the run go on."""
    from agent.api import Agent
    from agent.cli.review_prompt import ask_review

    settings = _settings(config, None, sets)
    pending = _pending(settings, run_id, "review.json", "a review")
    chosen = [flag for flag, on in (("--approve", approve), ("--reject", reject), ("--edit", edit is not None),
                                    ("--scene", scene is not None)) if on]
    if len(chosen) > 1:
        _fail(f"choose one of {', '.join(chosen)}")
    if approve or reject:
        decision = {"action": "approve" if approve else "reject", "note": note}
    elif edit is not None:
        try:
            decision = {"action": "edit", "note": note, **json.loads(edit.read_text(encoding="utf-8"))}
        except (OSError, ValueError) as exc:
            _fail(f"--edit {edit}: {exc}")
    elif scene is not None:
        decision = {"action": "edit", "scene": scene, "note": note}
    else:
        decision = ask_review(console, pending)
    result = _run_with_display(Agent(settings=settings), None, None, as_json, run_id, decision=decision)
    raise typer.Exit(run_exit_code(result))


@app.command()
@_guard
def plan(request: str = typer.Argument(..., help="What you want, in plain words."),
         film: Optional[Path] = typer.Option(None, "--film", "-f"), llm: Optional[str] = LlmOpt,
         config: Optional[Path] = ConfigOpt, strategy: Optional[str] = typer.Option(None, "--strategy"),
         as_json: bool = typer.Option(False, "--json"),
         inputs: Optional[list[Path]] = typer.Option(None, "--input", "-i", help="Another file or folder (repeatable)."),
         sets: Optional[list[str]] = SetOpt):
    """Dry run: show the plan (workflow, tools, arguments) without running any tool."""
    from agent.api import Agent
    from agent.cli.console import print_plan

    preview = Agent(settings=_settings(config, llm, sets, strategy)).plan(request, film=film, inputs=inputs)
    if as_json:
        out.print_json(json.dumps(preview, default=str))
    else:
        print_plan(out, preview)


@app.command()
@_guard
def chat(film: Optional[Path] = typer.Option(None, "--film", "-f"), llm: Optional[str] = LlmOpt,
         config: Optional[Path] = ConfigOpt, review: Optional[bool] = ReviewOpt, sets: Optional[list[str]] = SetOpt):
    """An interactive session that keeps the conversation and the last run between turns."""
    from agent.cli.chat import ChatSession

    ChatSession(_settings(config, llm, sets), film=film, console=out, review=review).loop()


@app.command()
@_guard
def serve(host: Optional[str] = typer.Option(None, "--host", help="Address to listen on (default studio.host, 127.0.0.1)."),
          port: Optional[int] = typer.Option(None, "--port", help="Port (default studio.port, 8765)."),
          config: Optional[Path] = ConfigOpt, sets: Optional[list[str]] = SetOpt):
    """The studio in a browser, and its HTTP API (OpenAPI at /docs): queue, follow, review and resume runs."""
    from agent.studio import serve as serve_studio
    from tools.media.sample_film import make_sample_film

    settings = _settings(config, None, sets)
    film = resolve_path(settings.paths.samples_dir) / "the_tide_keeper.mp4"
    if not film.exists():  # so the library has a film to try the studio on
        console.print(f"[bold]Making the sample film[/] {film} …")
        make_sample_film(film)
    serve_studio(settings, host=host, port=port, print_line=console.print)


@tools_app.command("list")
def tools_list(as_json: bool = typer.Option(False, "--json"),
               family: Optional[str] = typer.Option(None, "--family")):
    """Every registered tool with its JSON schema."""
    from rich.table import Table

    from tools.core.registry import all_tools

    specs = all_tools(family)
    if as_json:
        out.print_json(json.dumps([s.schema() for s in specs]))
        return
    table = Table("tool", "family", "resources", "arguments", "description", title=f"{len(specs)} tools")
    for s in specs:
        props = s.args_model.model_json_schema().get("properties", {})
        table.add_row(s.name, s.family, ",".join(s.resources) or "-", ", ".join(props),
                      s.description.splitlines()[0][:80])
    out.print(table)
    out.print("Full schemas: animstudio tools list --json")


@tools_app.command("call")
@_guard
def tools_call(name: str, args: str = typer.Option("{}", "--args", help="Arguments as a JSON object."),
               config: Optional[Path] = ConfigOpt, sets: Optional[list[str]] = SetOpt):
    """Call one tool, validated exactly as when the agent calls it; its result as JSON on stdout."""
    from tools.core.context import make_context
    from tools.core.registry import get_tool, invoke
    from tools.core.trace import Trace
    from tools.core.workspace import Workspace, new_run_id

    settings = _settings(config, None, sets)
    try:
        parsed = json.loads(args)
    except json.JSONDecodeError as exc:
        _fail(f"--args is not valid JSON: {exc}")
    spec = get_tool(name)
    run_id = "tool-" + new_run_id()
    ws = Workspace.create(resolve_path(settings.paths.runs_dir), run_id,
                          [resolve_path(p) for p in settings.paths.media_roots], new=True)
    if isinstance(parsed, dict):  # paths the user typed are theirs to name, relative to where they are
        for key, role in spec.path_roles.items():
            value = parsed.get(key)
            if role == "input" and isinstance(value, str) and value.strip() and "\x00" not in value:
                typed = Path(value).expanduser()
                if typed.exists():
                    parsed[key] = str(ws.allow_file(typed))
    ctx = make_context(settings, ws, trace=Trace(ws.root / "trace.jsonl"))
    try:
        from agent.llm import create_chat_model

        ctx.llm = create_chat_model(settings, ctx.scheduler, ctx.trace)
    except Exception:
        ctx.llm = None  # tools that need an LLM say so themselves
    outcome = invoke(name, parsed, ctx)
    out.print_json(json.dumps({"run_dir": str(ws.root), **outcome.model_dump(mode="json")}, default=str))
    if not outcome.ok:
        bad_input = outcome.error_kind in ("validation", "unknown_tool")
        fail(outcome.error or "the tool failed", outcome.hint, EXIT_BAD_INPUT if bad_input else EXIT_FAILED)


@config_app.command("show")
@_guard
def config_show(config: Optional[Path] = ConfigOpt, sets: Optional[list[str]] = SetOpt,
                as_json: bool = typer.Option(False, "--json")):
    """The effective settings after all layers (default.yaml ← file ← env ← flags)."""
    import yaml

    data = _settings(config, None, sets).model_dump(mode="json")
    out.print_json(json.dumps(data)) if as_json else out.print(yaml.safe_dump(data, sort_keys=False))


@config_app.command("doc")
def config_doc():
    """Print the settings reference (docs/configuration.md is generated by this)."""
    from agent.cli.config_doc import render

    sys.stdout.write(render())


docs_app = typer.Typer(help="The generated parts of the docs.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("sync")
def docs_sync():
    """Regenerate docs/configuration.md and the generated tables of docs/architecture.md from the code."""
    from agent.cli.docs_gen import sync

    changed = sync()
    out.print("\n".join(f"updated {p}" for p in changed) or "the docs already match the code")


@app.command()
@_guard
def doctor(config: Optional[Path] = ConfigOpt, llm: Optional[str] = LlmOpt, sets: Optional[list[str]] = SetOpt):
    """Check Python, torch, CUDA/NVML, ffmpeg, espeak-ng and every configured model (an openai endpoint is
    probed: models, json_schema/json_object/tools/streaming, tokens/s)."""
    from agent.cli.doctor import print_doctor

    print_doctor(out, _settings(config, llm, sets))


@app.command()
@_guard
def demo(llm: Optional[str] = LlmOpt, config: Optional[Path] = ConfigOpt, sets: Optional[list[str]] = SetOpt,
         request: str = typer.Option("make a funny parody of the ocean scene", "--request"),
         as_json: bool = typer.Option(False, "--json")):
    """Make the sample film if needed and run the parody demo on the embedded offline defaults."""
    from agent.api import Agent
    from tools.media.sample_film import make_sample_film

    settings = _settings(config, llm, sets)
    film = resolve_path(settings.paths.samples_dir) / "the_tide_keeper.mp4"
    if not film.exists():
        console.print(f"[bold]Making the sample film[/] {film} …")
        make_sample_film(film)
    result = _run_with_display(Agent(settings=settings), request, film, as_json, None)
    raise typer.Exit(run_exit_code(result))


@app.command()
@_guard
def report(run_id: str, config: Optional[Path] = ConfigOpt,
           open_browser: bool = typer.Option(True, "--open/--no-open", help="Open it in a browser.")):
    """(Re)build runs/<run_id>/report.html and open it."""
    from agent.report import render_report
    from tools.core.workspace import run_folder

    settings = load_settings(config)
    run_dir = run_folder(resolve_path(settings.paths.runs_dir), run_id)  # a bad id is refused, never followed
    if not run_dir.is_dir():
        _fail(f"no run {run_id!r} in {run_dir.parent}")
    path = render_report(run_dir)
    out.print(str(path))
    if open_browser and sys.stdout.isatty():
        import webbrowser

        webbrowser.open(path.as_uri())


@app.command("export")
@_guard
def export(run_id: str = typer.Argument(..., help="The run whose edits to export."),
           formats: Optional[list[str]] = typer.Option(None, "--format", "-F",
                                                       help="otio | kdenlive | mlt | fcpxml | fcp7 | edl (repeatable or "
                                                            "comma-separated; default: all)."),
           render: bool = typer.Option(False, "--render", help="Render the MLT timeline with melt and compare it "
                                                               "with the project's own render."),
           config: Optional[Path] = ConfigOpt, sets: Optional[list[str]] = SetOpt):
    """Write the timelines of a run's edits (parody, cut, subtitled scene) for an editor; the run report links them."""
    from agent.cli.export_cli import export_run

    export_run(_settings(config, None, sets), run_id, formats, render, out)


def _mount(module: str, name: str, help_text: str) -> None:
    try:
        sub = __import__(module, fromlist=["app"]).app
    except ImportError:
        return
    app.add_typer(sub, name=name, help=help_text)


_mount("agent.cli.kb_cli", "kb", "The knowledge base: ingest, search, list, stats.")
_mount("agent.cli.dataset_cli", "dataset", "The movie→LoRA dataset pipeline.")
_mount("agent.cli.asr_cli", "asr", "Speech models: assemble the multilingual Whisper base.")
_mount("agent.cli.models_cli", "models", "Local LLM writers: list, install (opt-in downloads).")


if __name__ == "__main__":
    app()
