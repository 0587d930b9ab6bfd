"""A run as its page shows it, folded from the run's events: log lines, the plan filling in, progress.

The same fold serves the first render (from the stored events) and the live stream (event by event),
so a reload shows exactly what a watcher saw.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from agent.report.svg import plan_svg


@dataclass
class RunView:
    run_id: str
    status: str = "queued"
    log: list[dict[str, Any]] = field(default_factory=list)  # {seq, text}
    steps: list[dict[str, Any]] = field(default_factory=list)
    step_status: dict[str, str] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)  # steps still to run; the graph runs them in order
    workflow: str | None = None
    strategy: str | None = None
    score: float | None = None
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)
    review: dict[str, Any] | None = None
    error: str | None = None
    last_seq: int = 0

    def apply(self, event: dict[str, Any]) -> set[str]:
        """Fold one event in; return which parts of the page changed (log, plan, progress, status, review)."""
        self.last_seq = max(self.last_seq, int(event.get("seq", 0)))
        kind = event.get("type")
        changed: set[str] = set()
        if kind == "node":
            self.log.append({"seq": event.get("seq", 0), "text": event.get("text", "")})
            changed.add("log")
            if event.get("plan"):
                plan = event["plan"]
                self.steps, self.workflow, self.strategy = plan.get("steps", []), plan.get("workflow"), plan.get("strategy")
                self.step_status = {}
                changed.add("plan")
            if event.get("steps"):
                self.step_status.update(event["steps"])
                changed.add("plan")
            if "pending" in event:
                self.pending = list(event["pending"] or [])
                changed.add("plan")
            if event.get("score") is not None:
                self.score = event["score"]
                changed.add("status")
        elif kind == "progress":
            if event.get("done"):
                self.progress.pop(event["description"], None)
            else:
                self.progress[event["description"]] = event
            changed.add("progress")
        elif kind == "status":
            said = _status_line(event)
            if said:  # the run's own turns (cancelled, resumed, stopped) belong to its story too
                self.log.append({"seq": event.get("seq", 0), "text": said})
                changed.add("log")
            self.status = event.get("status", self.status)
            self.error = event.get("error") if self.status == "error" else None
            if event.get("score") is not None:
                self.score = event["score"]
            if self.status not in ("running", "waiting_for_gpu", "queued"):
                self.progress.clear()
                changed.update(("progress", "plan"))  # no step runs any more
            if self.status != "awaiting_review":
                self.review = None
            changed.add("status")
        elif kind == "review":
            self.review = event.get("review")
            changed.add("review")
        return changed

    @property
    def running_step(self) -> str | None:
        """The step executing now: the first one still pending while the run runs (execute takes them in order)."""
        if self.status != "running":
            return None
        return self.pending[0] if self.pending else None

    @property
    def plan_markup(self) -> Markup:
        status = dict(self.step_status)
        if self.running_step:
            status[self.running_step] = "running"
        return Markup(plan_svg(self.steps, status))

    @property
    def progress_items(self) -> list[dict[str, Any]]:
        items = []
        for e in self.progress.values():
            total = e.get("total") or 0
            done = e.get("completed", 0) or 0
            pct = min(100.0, 100.0 * done / total) if total else None
            items.append({"description": e["description"], "total": total, "pct": pct,
                          "count": f"{_number(done)} of {_number(total)}" if total else ""})
        return items


def _status_line(event: dict[str, Any]) -> str | None:
    status = event.get("status")
    if status == "cancelled":
        return "cancelled" + (f": {event['note']}" if event.get("note") else "")
    if status == "queued" and event.get("resume"):
        return "resumed: queued again from the last checkpoint"
    if status in ("error", "interrupted"):
        return f"stopped ({status})"
    return None


def _number(value: float) -> str:
    """A progress count as people write it: 3, not 3.0; 2.5 stays 2.5."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def fold(run_id: str, events: list[dict[str, Any]]) -> RunView:
    view = RunView(run_id)
    for event in sorted(events, key=lambda e: e.get("seq", 0)):
        view.apply(event)
    return view
