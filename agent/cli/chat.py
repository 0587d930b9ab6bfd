"""`animstudio chat`: a REPL that keeps the conversation, the film and the last run between turns."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from tools.core.settings import Settings
from tools.media.timecode import format_timecode

HELP = """Commands:
  /plan            the last run's plan        /tools        registered tools
  /history         this conversation          /film PATH    set the film for the next requests
  /strategy NAME   react | cot | tot          /report       path of the last run's report
  /resume          continue an interrupted run                /quit         leave (Ctrl-D too)
  /review on|off   pause to approve, edit or reject the scene and the script before the render
Anything else is a request for the agent."""


class ChatSession:
    def __init__(self, settings: Settings, film: Path | None = None, console: Console | None = None,
                 review: bool | None = None, ask: Callable[[str], str] | None = None):
        from agent.api import Agent

        self.agent = Agent(settings=settings)
        self.console = console or Console()
        self.ask = ask or (lambda question: self.console.input(question))
        self.film = film
        self.strategy: str | None = None
        self.history: list[tuple[str, str]] = []
        self.last = None
        self.interrupted_run: str | None = None
        self.review = settings.agent.review if review is None else review

    def handle(self, line: str) -> bool:
        """Process one input line; False means leave."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            return self._command(line)
        self._request(line)
        return True

    def _command(self, line: str) -> bool:
        cmd, _, arg = line.partition(" ")
        arg = arg.strip()
        if cmd in ("/quit", "/exit", "/q"):
            return False
        if cmd == "/help":
            self.console.print(HELP)
        elif cmd == "/plan":
            if self.last:
                from agent.cli.console import print_plan

                print_plan(self.console, {"plan": self.last.plan, "order": None})
            else:
                self.console.print("No run yet.")
        elif cmd == "/tools":
            from tools.core.registry import all_tools

            for spec in all_tools():
                self.console.print(f"[bold]{spec.name}[/] — {spec.description.splitlines()[0][:90]}")
        elif cmd == "/history":
            for role, text in self.history or [("", "(empty)")]:
                self.console.print(f"[bold]{role}[/] {text}")
        elif cmd == "/film":
            path = Path(arg).expanduser()
            if not path.exists():
                self.console.print(f"[red]Film not found:[/] {arg}")
            else:
                self.film = path
                self.console.print(f"Film set to {path}")
        elif cmd == "/strategy":
            if arg not in ("react", "cot", "tot"):
                self.console.print("Strategies: react, cot, tot")
            else:
                self.strategy = arg
                self.console.print(f"Strategy: {arg}")
        elif cmd == "/review":
            if arg not in ("on", "off"):
                self.console.print(f"Review is {'on' if self.review else 'off'}; /review on or /review off.")
            else:
                self.review = arg == "on"
                self.console.print(f"Review {arg}.")
        elif cmd == "/report":
            self.console.print(self.last.report_path if self.last and self.last.report_path else "No report yet.")
        elif cmd == "/resume":
            if not self.interrupted_run:
                self.console.print("Nothing to resume.")
            else:
                self._execute(lambda printer: self.agent.resume(self.interrupted_run, on_event=printer), "(resume)")
        else:
            self.console.print(f"Unknown command {cmd}. /help lists them.")
        return True

    def pick_scene(self, text: str) -> str:
        """Search the scene before the run; when the best is not clearly ahead, the user picks (Enter: the best)."""
        from agent.planning.slots import extract_slots
        from agent.planning.slots.extract import is_scene_job
        from tools.core.context import make_context
        from tools.core.registry import invoke
        from tools.core.settings.loader import resolve_path
        from tools.core.workspace import Workspace

        if self.film is None or not is_scene_job(text):
            return text
        slots = extract_slots(text)
        settings = self.agent.settings
        workspace = Workspace(resolve_path(settings.paths.runs_dir) / "chat-scenes",
                              media_roots=[resolve_path(r) for r in settings.paths.media_roots])
        workspace.allow_file(self.film)
        args = {"film": str(self.film), "query": slots.value("scene") or text, "said": slots.value("said") or "",
                "position": slots.value("position") or "", "at_s": slots.value("at"), "top_k": 3}
        found = invoke("find_scene", args, make_context(settings, workspace))
        if not found.ok or not found.result.get("ambiguous"):
            return text
        choices = found.result["candidates"]
        self.console.print(f"[yellow]Not sure which scene you mean[/] (confidence {found.result['confidence']:.2f}):")
        for n, match in enumerate(choices, 1):
            scene = match["scene"]
            said = "; ".join(line["text"] for line in scene.get("lines") or [])[:80]
            self.console.print(f"  {n}. {scene['start_timecode']}–{scene['end_timecode']} score {match['score']:.2f}: "
                               f"{said or scene['description'][:80]}  ({workspace.root / scene['keyframe']})"
                               if scene.get("keyframe") else f"  {n}. {scene['start_timecode']}: {said}")
        try:
            answer = self.ask(f"Which one? 1-{len(choices)} (Enter: 1): ").strip()
        except (EOFError, KeyboardInterrupt):
            return text
        if not answer.isdigit() or not 2 <= int(answer) <= len(choices):
            return text
        scene = choices[int(answer) - 1]["scene"]
        at = scene.get("keyframe_time") or (scene["start"] + scene["end"]) / 2
        return f"{text} — the scene at {format_timecode(at)}"

    def _request(self, text: str) -> None:
        text = self.pick_scene(text)
        history = list(self.history[-6:])
        self.history.append(("you", text))
        # Interactive: what the request leaves out (the film, a scene, the line to say...) is asked by the run
        # itself (needs_input), the same question the CLI, the studio and the API show.
        self._execute(lambda printer: self.agent.run(text, film=self.film, strategy=self.strategy,
                                                     history=history, on_event=printer, review=self.review,
                                                     interactive=True), text)

    def _execute(self, call, label: str) -> None:
        from agent.api import AgentInputError
        from agent.cli.console import EventPrinter, print_result

        printer = EventPrinter(self.console)
        try:
            result = call(printer)
        except KeyboardInterrupt:
            printer.close()
            run_dir = self.agent.settings.paths.runs_dir
            self.interrupted_run = _latest_run(run_dir)
            self.console.print(f"[yellow]Interrupted.[/] /resume continues run {self.interrupted_run}.")
            return
        except AgentInputError as exc:
            printer.close()
            self.console.print(f"[red]{exc}[/]")
            return
        printer.close()
        from agent.cli.question_prompt import answer_until_done
        from agent.cli.review_prompt import review_until_done

        while result.status in ("awaiting_review", "needs_input"):
            before = (result.status, result.question)
            if result.status == "awaiting_review":
                result = review_until_done(self.agent, result, self.console)
            else:
                result = answer_until_done(self.agent, result, self.console, ask=self.ask)
                if result.status == "needs_input" and result.question == before[1]:
                    self.console.print(f"Run {result.run_id} waits for input: answer it later with "
                                       f"`animstudio answer {result.run_id} ...`.")
                    break
        if result.film and self.film is None:  # a film given in an answer stays for the next requests
            self.film = Path(result.film)
        self.last = result
        self.interrupted_run = None
        self.history.append(("agent", result.final_answer.splitlines()[0] if result.final_answer else result.status))
        print_result(self.console, result)

    def loop(self) -> None:
        self.console.print("[bold]Animation AI Studio[/] chat — /help for commands, /quit to leave.")
        while True:
            try:
                line = self.console.input("[bold cyan]you>[/] ")
            except KeyboardInterrupt:
                self.console.print("\n(Ctrl-C) type /quit to leave.")
                continue
            except EOFError:
                self.console.print()
                break
            if not self.handle(line):
                break
        self.console.print("Bye.")


def _latest_run(runs_dir) -> str | None:
    from tools.core.settings.loader import resolve_path

    runs = sorted((p for p in resolve_path(runs_dir).glob("*") if (p / "settings.json").exists()),
                  key=lambda p: p.stat().st_mtime)
    return runs[-1].name if runs else None
