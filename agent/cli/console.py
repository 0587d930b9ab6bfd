"""Rich rendering of agent events, results and plans for the terminal."""
from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from agent.result import RunResult

NODE_ICONS = {"understand": "🧠", "retrieve": "📚", "web": "🌐", "plan": "🗺️ ", "execute": "🛠️ ",
              "evaluate": "📏", "reflect": "🔁", "review": "⏸ ", "finish": "🏁"}


class EventPrinter:
    """Prints a readable trace of node updates and drives progress bars from progress events."""

    def __init__(self, console: Console):
        self.console = console
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                 TimeElapsedColumn(), console=console, transient=True)
        self.tasks: dict[str, Any] = {}
        self._started = False  # started on the first progress event: an early error stays one line

    def close(self) -> None:
        if self._started:
            self.progress.stop()

    def __call__(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "progress" and not self._started:
            self.progress.start()
            self._started = True
        if kind == "progress":
            desc = event.get("description", "working")
            total = event.get("total") or 100
            if desc not in self.tasks:
                self.tasks[desc] = self.progress.add_task(desc, total=total)
            self.progress.update(self.tasks[desc], completed=event.get("completed", 0), total=total)
            if event.get("done"):
                self.progress.remove_task(self.tasks.pop(desc))
        elif kind == "node":
            self.console.print(node_line(event["node"], event.get("update") or {}))
        elif kind == "review":
            payload = event.get("review") or {}
            self.console.print(f"⏸  [bold]review[/] the run waits for your decision on the {payload.get('kind')} "
                               f"(step {payload.get('step')})")
        elif kind == "notice":
            self.console.print(f"[yellow]⚠ {escape(str(event.get('message', '')))}[/]")


def clip_words(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters at a word boundary, with … when something was cut."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:-") + "…"


def node_line(node: str, update: dict) -> str:
    """One line (rich markup) saying what a node just did; the studio shows it as plain text."""
    icon = NODE_ICONS.get(node, "•")
    if node == "understand":
        i = update.get("intent") or {}
        return f"{icon} [bold]understand[/] task={i.get('task')} workflow={i.get('workflow')} " \
               f"(similarity {i.get('workflow_similarity', 0):.2f}) film={escape(str(i.get('film')))}"
    if node in ("retrieve", "web"):
        ev = update.get("evidence") or []
        titles = ", ".join(clip_words(e.get("title") or e.get("id", ""), 40) for e in ev[:4])
        return f"{icon} [bold]{node}[/] {len(ev)} evidence item(s){': ' + escape(titles) if titles else ''}"
    if node == "plan":
        p = update.get("plan") or {}
        steps = " → ".join(s["tool"] for s in p.get("steps", [])) or "(no tool steps)"
        return f"{icon} [bold]plan[/] strategy={p.get('strategy')} workflow={p.get('workflow')}: {steps}"
    if node == "execute":
        for sid, res in (update.get("step_results") or {}).items():
            mark = "[green]✓[/]" if res.get("ok") else "[red]✗[/]"
            text = res.get("summary") if res.get("ok") else res.get("error")
            return f"{icon} {mark} [bold]{sid}[/] ({res.get('tool')}, {res.get('seconds', 0):.2f}s) " \
                   f"{escape(clip_words(text, 160))}"
        return f"{icon} [bold]execute[/]"
    if node == "evaluate":
        q = (update.get("quality") or [{}])[-1]
        parts = ", ".join(f"{r['scorer']} {r['score']:.2f}" for r in q.get("reports", []))
        verdict = "[green]pass[/]" if q.get("passed") else "[yellow]below threshold[/]"
        return f"{icon} [bold]evaluate[/] score {q.get('combined', 0):.2f} {verdict} ({parts})"
    if node == "reflect":
        return f"{icon} [bold]reflect[/] iteration {update.get('iteration')}: redo {escape(str(update.get('pending') or 'nothing'))}"
    if node == "review":
        last = (update.get("reviews") or [{}])[-1]
        return f"{icon} [bold]review[/] {last.get('kind', '')}: {last.get('action', '')}"
    if node == "finish":
        return f"{icon} [bold]finish[/] {update.get('status')}"
    return f"{icon} {node}"


def print_result(console: Console, result: RunResult) -> None:
    console.print(Panel(Text(result.final_answer or "(no answer)"), title=f"Run {result.run_id} — {result.status}",
                        subtitle=f"{result.seconds:.1f}s"))
    if result.artifacts:
        table = Table("kind", "file", title="Artifacts")
        for path, art in zip(result.artifact_paths(), result.artifacts):
            table.add_row(art.get("kind", ""), str(path))
        console.print(table)
    console.print(f"Run folder: {result.run_dir}\nTrace: {result.trace_path}"
                  + (f"\nReport: {result.report_path}" if result.report_path else ""))


def print_plan(console: Console, preview: dict) -> None:
    plan = preview["plan"]
    tree = Tree(f"[bold]Plan[/] strategy={plan.get('strategy')} workflow={plan.get('workflow')}")
    by_id = {s["id"]: s for s in plan.get("steps", [])}
    for sid in preview.get("order") or list(by_id):
        step = by_id[sid]
        node = tree.add(f"[bold]{sid}[/] → {step['tool']}" + (f" (after {', '.join(step['depends_on'])})"
                                                             if step.get("depends_on") else ""))
        node.add(json.dumps(step.get("args"), ensure_ascii=False)[:200])
    if preview.get("question"):
        tree.add(f"(waits for input: {preview['question'].get('question')})")
    elif not by_id:
        tree.add("(no tool steps: the agent would answer from knowledge)")
    console.print(tree)
    if preview.get("question"):
        from agent.cli.question_prompt import show_question

        show_question(console, preview["question"])
    refusal = preview.get("refusal")
    if refusal:
        lines = [f"{u['problem']} — {('set ' + u['setting'] + ': ') if u['setting'] else ''}{u['fix']}"
                 for u in refusal["unmet"]]
        console.print(Panel("\n".join(lines), title=f"would stop before {refusal['step']} ({refusal['tool']})",
                            border_style="yellow"))
    if plan.get("reasoning"):
        console.print(Panel(Text(plan["reasoning"][:1200]), title="reasoning"))
