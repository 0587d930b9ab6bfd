"""Planning a film library (which films, which dataset names) and the local executor from the CLI."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.dataset_cli import app
from tools.core.types import ToolError
from tools.dataset.library import dataset_name_for, discover_films, plan_library


def test_films_come_from_a_folder_or_a_glob(tmp_path):
    lib = tmp_path / "my films"
    (lib / "extras").mkdir(parents=True)
    for name in ("b.mp4", "a.MKV", "notes.txt", "extras/c.mp4"):
        (lib / name).write_bytes(b"x")
    assert [p.name for p in discover_films(lib)] == ["a.MKV", "b.mp4"]  # videos only, not recursive
    assert [p.name for p in discover_films(f"{lib}/**/*.mp4")] == ["b.mp4", "c.mp4"]
    assert discover_films(lib / "b.mp4") == [(lib / "b.mp4").resolve()]
    with pytest.raises(ToolError, match="No video files"):
        discover_films(_empty(tmp_path))
    with pytest.raises(ToolError, match="No files match"):
        discover_films(f"{lib}/*.avi")
    with pytest.raises(ToolError, match="not found"):
        discover_films(tmp_path / "missing")


def _empty(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


def test_each_film_gets_a_valid_unique_dataset_name():
    taken: set[str] = set()
    names = [dataset_name_for(Path(p), taken) for p in
             ("/a/Épisode 1 – the lake.mp4", "/b/Épisode 1 – the lake.mkv", "/c/ネコ.mp4", "/d/..hidden.mp4")]
    assert names == ["Episode_1_the_lake", "Episode_1_the_lake-2", "film", "hidden"]


def test_the_characters_stage_needs_references_for_the_library(tmp_path):
    films = [tmp_path / "a.mp4"]
    with pytest.raises(ToolError, match="--refs"):
        plan_library(films, None, None, None)
    jobs = plan_library(films, None, None, "filter")
    assert jobs[0].stages == ["extract", "filter"] and jobs[0].name == "a"


def _sets(tmp: Path) -> list[str]:
    pairs = [f"paths.datasets_dir={tmp / 'datasets'}", f"paths.runs_dir={tmp / 'runs'}", "dataset.executor=thread",
             "dataset.extract_mode=scenes", "video.detector=content"]
    return [x for p in pairs for x in ("--set", p)]


def test_cli_library_goes_on_after_a_broken_film_and_says_why(tmp_path, film_library):
    runner = CliRunner()
    res = runner.invoke(app, ["run", "--films", str(film_library["folder"]), "--until", "filter"] + _sets(tmp_path))
    assert res.exit_code == 1, res.output  # one film failed ...
    assert "3/4 films done" in res.output  # ... and the other three were built
    assert "broken_copy" in res.output and "not a readable media file" in res.output
    for name in ("Episode_1_the_lake", "episode_2_forest", "Episode_3"):
        assert (tmp_path / "datasets" / name / "metadata.json").is_file()
    run_dir = next((tmp_path / "runs").iterdir())
    assert (run_dir / "report.html").is_file() and (run_dir / "result.json").is_file()


def test_cli_rejects_mixed_or_unknown_library_options(tmp_path, film_library):
    runner = CliRunner()
    folder = str(film_library["folder"])
    res = runner.invoke(app, ["run", "--films", folder, "--name", "x"] + _sets(tmp_path))
    assert res.exit_code == 2 and "drop --name" in res.output
    res = runner.invoke(app, ["run", "--films", folder, "--executor", "spark"] + _sets(tmp_path))
    assert res.exit_code == 2 and "local or ray" in res.output
    res = runner.invoke(app, ["run", "--name", "x", "--executor", "ray"] + _sets(tmp_path))
    assert res.exit_code == 2 and "go with --films" in res.output
    res = runner.invoke(app, ["run", "--films", str(tmp_path / "nowhere")] + _sets(tmp_path))
    assert res.exit_code == 2 and "not found" in res.output  # a folder that is not there is bad input
