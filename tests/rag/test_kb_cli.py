import json

from typer.testing import CliRunner

from agent.cli.kb_cli import app

runner = CliRunner()


def test_kb_cli_ingest_search_list_stats_remove(tmp_path, embedder):
    notes = tmp_path / "notes dir"
    notes.mkdir()
    (notes / "gull.md").write_text("---\nkind: characters\nfilm: The Tide Keeper\n---\n# Gull\n"
                                   "## Looks\nA white seagull with grey wings and an orange beak.\n", encoding="utf-8")
    opts = ["--set", f"rag.persist_dir={tmp_path / 'db'}"]

    result = runner.invoke(app, ["ingest", str(notes), *opts])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output
    assert "1 unchanged" in runner.invoke(app, ["ingest", str(notes), *opts]).output

    result = runner.invoke(app, ["search", "seagull beak colour", "--film", "The Tide Keeper", "--json", *opts])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["title"] == "Gull > Looks" and "orange beak" in hits[0]["text"]
    assert json.loads(runner.invoke(app, ["search", "seagull", "--film", "Luca", "--json", *opts]).output) == []

    listing = runner.invoke(app, ["list", *opts])
    assert "gull.md" in listing.output and "characters" in listing.output
    stats = runner.invoke(app, ["stats", *opts])
    assert "characters" in stats.output and "sources: 1" in stats.output

    source = json.loads(runner.invoke(app, ["search", "gull", "--json", *opts]).output)[0]["source"]
    assert runner.invoke(app, ["remove", source, *opts]).exit_code == 0
    again = runner.invoke(app, ["remove", source, *opts])
    assert again.exit_code == 2 and "No chunks for source" in again.stderr


def test_kb_cli_errors_are_clear(tmp_path, embedder):
    opts = ["--set", f"rag.persist_dir={tmp_path / 'db'}"]
    missing = runner.invoke(app, ["ingest", str(tmp_path / "missing"), *opts])
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    bad_mode = runner.invoke(app, ["search", "x", "--mode", "telepathy", *opts])
    assert bad_mode.exit_code == 2 and "--mode" in bad_mode.stderr
    bad_setting = runner.invoke(app, ["stats", "--set", "rag.retreival=vector"])
    assert bad_setting.exit_code == 2 and "did you mean" in bad_setting.stderr and not bad_setting.stdout
