"""The generated docs match the code: the settings reference, the state table, the trace events, the layers."""
from agent.cli.docs_gen import COMMAND, ROOT, render_region, rendered_docs, state_rows, trace_events


def test_generated_docs_match_the_code():
    for path, text in rendered_docs().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is out of date: run `{COMMAND}`"


def test_the_trace_event_list_covers_what_the_code_emits():
    kinds = {e.kind: e for e in trace_events()}
    assert {"run.start", "run.resume", "node.start", "node.end", "tool.call", "llm.call", "scheduler.switch",
            "dataset.stage"} <= set(kinds)
    assert "tools/core/registry.py" in kinds["tool.call"].files and "step" in kinds["tool.call"].fields
    assert len(kinds) >= 50


def test_the_state_table_names_who_writes_each_key():
    rows = {key: (reducer, writers) for key, _, reducer, writers in state_rows()}
    assert "node_log" not in rows
    assert rows["evidence"] == ("merge_by_id", "retrieve, web")
    assert "plan" in rows["plan"][1] and "reflect" in rows["plan"][1] and rows["quality"][0] == "append"
    assert "inputs" in rows["request"][1]


def test_the_layer_diagram_is_drawn_from_the_imports_top_down():
    region = render_region("layers")
    assert "<!-- generated: layers -->" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    # tiers in order, agent first and tools/core last; arrows only for imports that exist
    assert region.index('agent["agent/"]') < region.index('tools_video["tools/video/"]') < region.index(
        'tools_core["tools/core/"]')
    assert "tools_parody --> tools_video" in region and "agent --> workflows" in region
    assert "tools_core --> " not in region and "tools_video --> tools_quality" not in region


def test_where_things_are_names_real_folders_and_files():
    """A renamed or moved module leaves no stale row in the architecture page's "Where things are" table."""
    import re

    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    rows = [r.split(" | ") for r in table.splitlines() if r.startswith("| ") and not r.startswith("| ---")][1:]
    assert len(rows) >= 20
    missing = []
    for row in rows:
        folder = row[1].strip("` ")
        if folder.endswith("/"):
            assert (ROOT / folder).is_dir(), f"{folder} in 'Where things are' does not exist"
        for name in re.findall(r"`([\w./<>*-]+\.(?:py|yaml|md)|[\w./-]+/)`", row[2]):
            if "<" in name or "*" in name:
                continue
            bases = [ROOT, ROOT / "docs"] + ([ROOT / folder] if folder.endswith("/") else [])
            if not any((base / name).exists() for base in bases):
                missing.append(f"{name} (row: {row[0].strip('| ')})")
    assert not missing, "named in 'Where things are' but not found: " + "; ".join(missing)
