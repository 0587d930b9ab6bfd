"""Test tools and workflows for the studio: a quick note workflow, one with a script review, one that
holds a GPU resource (imported by the studio tests and the CLI subprocesses)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tools.core.registry import tool
from tools.core.types import Artifact, ToolResult

LINES = [{"character": "Narrator", "text": "The lighthouse keeper counts the waves."},
         {"character": "Keeper", "text": "Forty one. Forty two. I lost count."}]


class Text(ToolResult):
    text: str


@tool(family="test")
def st_note(ctx, text: str) -> Text:
    """Write a note file.

    Args:
        text: Note text.
    """
    path = ctx.workspace.unique_output("note", ".txt")
    path.write_text(text, encoding="utf-8")
    return Text(text=text, artifacts=[Artifact(path=ctx.workspace.relative(path), kind="text")])


@tool(family="test")
def st_draft(ctx, topic: str) -> dict:
    """Draft a short two-line script about a topic.

    Args:
        topic: What the script is about.
    """
    script = {"title": f"All about {topic}", "lines": [{**ln, "start": 1.0 + 3 * i, "end": 3.5 + 3 * i}
                                                        for i, ln in enumerate(LINES)], "effects": []}
    return {"script": script, "text": "\n".join(f"{ln['character']}: {ln['text']}" for ln in LINES),
            "footage_duration": 12.0, "characters": ["Narrator", "Keeper"], "source": "llm"}


@tool(family="test")
def st_score(ctx, score: float) -> dict:
    """Report a fixed quality score.

    Args:
        score: The combined score to report.
    """
    return {"combined": score, "passed": score >= 0.7, "reasons": [f"scored {score}"], "blame": []}


@tool(family="test")
def st_find(ctx, query: str) -> dict:
    """Find a scene: sure of itself when the query says "clearly", torn between two otherwise.

    Args:
        query: The scene in plain words.
    """
    scores = (0.9, 0.2) if "clearly" in query else (0.41, 0.39)
    scenes = [{"index": 3, "start": 4.0, "end": 9.0, "description": "waves against the lighthouse rocks",
               "keyframe": "scenes/scene_0003.jpg"},
              {"index": 7, "start": 20.0, "end": 26.0, "description": "the keeper climbs the spiral stairs",
               "keyframe": "scenes/scene_0007.jpg"}]
    return {"query": query, "matches": [{"scene": sc, "score": sc_score} for sc, sc_score in zip(scenes, scores)]}


@tool(family="test", resources=("sdxl",))
def st_gpu(ctx, label: str) -> Text:
    """Hold the GPU for STUDIO_TEST_GPU_S seconds and log when (a GPU-heavy step).

    Args:
        label: Written to the log.
    """
    start = time.time()
    time.sleep(float(os.environ.get("STUDIO_TEST_GPU_S", "0.8")))
    log = Path(os.environ["STUDIO_TEST_GPU_LOG"])
    with log.open("a") as fh:
        fh.write(json.dumps({"label": label, "start": start, "end": time.time()}) + "\n")
    return Text(text=label)


@tool(family="test")
def st_reel(ctx, seconds: float) -> Text:
    """Run an external program for a while (a long render), the first time only: once resumed, the
    reel is quick (a marker in the run folder says it was started before).

    Args:
        seconds: How long the first run of the program takes.
    """
    from tools.core.child_processes import run_child

    marker = ctx.workspace.root / "reel.started"
    first = not marker.exists()
    marker.write_text("started", encoding="utf-8")
    run_child(["sleep", str(seconds if first else 0.1)], what="reel", timeout_s=seconds + 30)
    return Text(text="reel rendered")


NOTES = """
name: studio_notes
description: write a note about a topic and score it
examples: [write a note about a topic, jot down a note]
parameters:
  topic: {type: str, default: "the sea", description: the topic}
steps:
  - id: note
    tool: st_note
    args: {text: "a note about ${params.topic}"}
  - id: score
    tool: st_score
    args: {score: 0.9}
checks:
  - {kind: steps_succeeded}
answer: "Noted: ${steps.note.text}"
"""

REVIEWED = """
name: studio_reviewed
description: draft a two-line script about a topic, let a person review it, then write it out
examples: [draft a script about a topic for me to check, write a short script I can review]
parameters:
  topic: {type: str, default: "lighthouses", description: the topic}
steps:
  - id: draft
    tool: st_draft
    args: {topic: "${params.topic}"}
  - id: final
    tool: st_note
    args: {text: "${steps.draft.text}"}
review:
  - {step: draft, kind: script}
checks:
  - {kind: steps_succeeded}
answer: "Final script written: ${steps.final.text}"
"""

SCENES = """
name: studio_scenes
description: pick a scene of a film by its description and write down what it shows
examples: [note what happens in the scene, which scene shows the stairs]
parameters:
  scene: {type: str, default: "the stairs", description: the scene}
steps:
  - id: find
    tool: st_find
    args: {query: "${params.scene}"}
  - id: describe
    tool: st_note
    args: {text: "${steps.find.matches.0.scene.description}"}
review:
  - {step: find, kind: scene, when: unsure, min_score: 0.3, min_margin: 0.05}
checks:
  - {kind: steps_succeeded}
answer: "Scene: ${steps.describe.text}"
"""

GPU = """
name: studio_gpu
description: paint a picture on the graphics card
examples: [paint a picture on the gpu, render an image with the graphics card]
parameters:
  label: {type: str, default: "picture", description: a label}
steps:
  - id: paint
    tool: st_gpu
    args: {label: "${params.label}"}
checks:
  - {kind: steps_succeeded}
answer: "Painted ${steps.paint.text}"
"""

REEL = """
name: studio_reel
description: render the long film reel with the external reel program, then note it
examples: [render the long reel with the external program]
parameters:
  seconds: {type: float, default: 30, description: how long the reel program runs}
steps:
  - id: reel
    tool: st_reel
    args: {seconds: "${params.seconds}"}
  - id: note
    tool: st_note
    args: {text: "${steps.reel.text}"}
checks:
  - {kind: steps_succeeded}
answer: "Reel: ${steps.note.text}"
"""


def write_workflows(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("notes", NOTES), ("reviewed", REVIEWED), ("scenes", SCENES), ("gpu", GPU), ("reel", REEL)):
        (folder / f"{name}.yaml").write_text(text)
    return folder
