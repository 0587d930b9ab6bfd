"""The `animstudio dataset` sub-app, the movie_to_lora workflow and the per-item executors."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from agent.cli.dataset_cli import app
from tools.dataset.executor import PoolExecutor, SerialExecutor, make_executor
from tools.dataset.frame_quality import score_frame_file
from workflows.loader import load_workflow

ROOT = Path(__file__).resolve().parents[2]


def _sets(tmp: Path) -> list[str]:
    pairs = [f"paths.datasets_dir={tmp / 'datasets'}", f"paths.runs_dir={tmp / 'runs'}", "dataset.executor=thread",
             "dataset.extract_mode=scenes", "video.detector=content", f"image.loras_file={tmp / 'loras.yaml'}"]
    return [x for p in pairs for x in ("--set", p)]


def test_cli_run_status_export(tmp_path, media):
    runner = CliRunner()
    res = runner.invoke(app, ["run", "--name", "cli set", "--film", str(media["film"])] + _sets(tmp_path))
    assert res.exit_code == 2 and "Invalid dataset name" in res.stderr and not res.stdout
    res = runner.invoke(app, ["run", "--name", "cli", "--film", str(media["film"]), "--refs", str(media["refs"]),
                              "--until", "caption"] + _sets(tmp_path))
    assert res.exit_code == 0, res.output
    assert "extract [cli]: done=11" in res.output and "caption [cli]" in res.output
    res = runner.invoke(app, ["status", "cli"] + _sets(tmp_path))
    assert res.exit_code == 0, res.output
    for text in ("near-duplicate", "too dark", "title/credit card", "alice_chr", "kept=6"):
        assert text in res.output, text
    res = runner.invoke(app, ["export", "cli", "--format", "diffusers"] + _sets(tmp_path))
    assert res.exit_code == 0 and (tmp_path / "datasets" / "cli" / "export" / "diffusers" / "bruno" / "metadata.jsonl").exists()
    res = runner.invoke(app, ["run", "--name", "cli", "--from", "filter", "--until", "extract"] + _sets(tmp_path))
    assert res.exit_code == 2 and "comes after" in res.stderr


def test_workflow_chains_every_stage_and_validates_against_the_registry():
    wf = load_workflow(ROOT / "workflows" / "movie_to_lora.yaml")
    plan = wf.instantiate({"film": "film.mp4", "name": "ds", "refs": "refs", "character": "alice"})
    assert [s.tool for s in plan.steps] == ["dataset_extract", "dataset_filter", "dataset_characters", "dataset_caption",
                                            "dataset_export", "dataset_train_lora", "dataset_infer"]
    assert plan.step("train").depends_on == ["export"] and plan.step("train").args["max_steps"] == 1000


def test_one_stage_order_for_pipeline_cli_and_workflow():
    from tools.dataset.pipeline import STAGE_RUNNERS, stage_range
    from tools.dataset.stage import STAGE_TOOLS, STAGES

    wf = load_workflow(ROOT / "workflows" / "movie_to_lora.yaml")
    assert [(s.id, s.tool) for s in wf.steps] == list(STAGE_TOOLS.items())
    assert set(STAGE_RUNNERS) == set(STAGES)
    assert stage_range("characters", "export") == ["characters", "caption", "export"]


def test_executors_agree_and_report_bad_items(tmp_path, media):
    import cv2

    from tests.dataset.synth import SCENES, scene_frame

    paths = []
    for n, scene in enumerate(SCENES[:4]):
        p = tmp_path / f"frame {n}.png"
        cv2.imwrite(str(p), scene_frame(scene, 0))
        paths.append(str(p))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    paths.append(str(bad))
    serial = dict(SerialExecutor().map(score_frame_file, paths))
    pooled = dict(make_executor("process", 2).map(score_frame_file, paths))
    assert isinstance(make_executor("process", 2), PoolExecutor)
    assert isinstance(serial[str(bad)], ValueError) and isinstance(pooled[str(bad)], ValueError)
    assert {p: serial[p] for p in paths[:-1]} == {p: pooled[p] for p in paths[:-1]}


def test_workflow_steps_chain_through_the_registry(tmp_path, media, settings_for):
    """Runs the workflow's first five steps as the agent's executor does: resolve refs, invoke."""
    from tools.core.context import make_context
    from tools.core.registry import invoke
    from workflows.plan import resolve_refs

    ctx = make_context(settings_for(tmp_path))
    ctx.workspace.allow_file(media["film"])
    ctx.workspace.allow_file(media["refs"])  # what the agent does for files the user named
    plan = load_workflow(ROOT / "workflows" / "movie_to_lora.yaml").instantiate(
        {"film": str(media["film"]), "name": "wf", "refs": str(media["refs"]), "character": "bruno"})
    steps: dict = {}
    for step in plan.steps[:5]:
        args = resolve_refs(step.args, {"params": plan.params, "steps": steps})
        out = invoke(step.tool, args, ctx)
        assert out.ok, (step.id, out.error)
        steps[step.id] = {**out.result, "summary": out.summary}
    assert steps["export"]["counts"]["character:bruno"] == 2
    assert (tmp_path / "datasets" / "wf" / "export" / "kohya" / "bruno" / "dataset_config.toml").exists()
