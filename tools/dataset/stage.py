"""What every stage tool returns, and the bookkeeping they share."""
from __future__ import annotations

import time
from collections import Counter

from pydantic import Field

from tools.core.context import ToolContext
from tools.core.types import Artifact, ToolResult
from tools.dataset.metadata import DatasetStore, StageSummary

# The dataset stages in the order they run, each with the tool that runs it: the pipeline, the
# CLI's --from/--until and status table, the studio's library page and the steps of
# workflows/movie_to_lora.yaml all follow this table (tests/dataset/test_cli_workflow.py).
STAGE_TOOLS: dict[str, str] = {
    "extract": "dataset_extract", "filter": "dataset_filter", "characters": "dataset_characters",
    "caption": "dataset_caption", "export": "dataset_export", "train": "dataset_train_lora", "infer": "dataset_infer",
}
STAGES: tuple[str, ...] = tuple(STAGE_TOOLS)


class StageResult(ToolResult):
    dataset: str
    stage: str
    counts: dict[str, int]
    reasons: dict[str, int] = Field(default_factory=dict)
    redone: int = 0
    reused: int = 0
    seconds: float = 0.0
    metadata_path: str = ""
    notes: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        why = "; ".join(f"{k}: {v}" for k, v in sorted(self.reasons.items(), key=lambda kv: -kv[1])[:5])
        text = f"{self.stage} [{self.dataset}]: {counts} (redone {self.redone}, reused {self.reused}, {self.seconds:.1f}s)"
        problems = [n for n in self.notes if n.startswith("problem: ")]
        return text + (f"; dropped because {why}" if why else "") + "".join(f"; {p}" for p in problems)


class StageClock:
    """Counts what a stage did and turns it into a saved StageSummary + StageResult."""

    def __init__(self, stage: str, fingerprint: str = ""):
        self.stage, self.fingerprint = stage, fingerprint
        self.start = time.perf_counter()
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.redone = 0
        self.reused = 0
        self.notes: list[str] = []

    def finish(self, ctx: ToolContext, store: DatasetStore, extra_artifacts: list[Artifact] | None = None) -> StageResult:
        seconds = round(time.perf_counter() - self.start, 3)
        summary = StageSummary(stage=self.stage, fingerprint=self.fingerprint, seconds=seconds,
                               counts=dict(self.counts), reasons=dict(self.reasons), redone=self.redone,
                               reused=self.reused, notes=self.notes)
        store.finish_stage(summary)
        ctx.trace.event("dataset.stage", dataset=store.meta.name, **summary.model_dump())
        artifacts = [Artifact(path=ctx.workspace.relative(store.path), kind="json",
                              metadata={"dataset": store.meta.name, "stage": self.stage})]
        return StageResult(dataset=store.meta.name, stage=self.stage, counts=dict(self.counts),
                           reasons=dict(self.reasons), redone=self.redone, reused=self.reused, seconds=seconds,
                           metadata_path=str(store.path), notes=self.notes,
                           artifacts=artifacts + list(extra_artifacts or []))
