from pathlib import Path

import pytest

from rag.ingest import ingest_path
from tools.core.types import ToolError

NOTE = """---
kind: {kind}
film: Sea Film
character: Bruno Fish
---
# Bruno Fish
## Looks
{looks}
## Habits
Bruno collects shiny spoons from shipwrecks.
"""


def _note(folder: Path, name: str, looks: str = "A striped orange fish with a tiny hat.", kind: str = "characters"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(NOTE.format(looks=looks, kind=kind), encoding="utf-8")
    return path


def test_ingest_is_idempotent_and_tracks_changes_and_deletions(tmp_path, make_kb):
    folder = tmp_path / "my knowledge ✨"  # spaces and unicode in paths
    _note(folder, "bruno.md")
    _note(folder / "sub", "other fish.md", looks="A purple eel with glasses.")
    kb = make_kb()

    first = ingest_path(kb, folder)
    assert len(first.added) == 2 and first.chunks_written == 4 and not first.failed
    assert kb.stats().total_chunks == 4

    again = ingest_path(kb, folder)
    assert again.chunks_written == 0 and len(again.unchanged) == 2

    _note(folder, "bruno.md", looks="A green pufferfish wearing sunglasses.")
    changed = ingest_path(kb, folder)
    assert len(changed.updated) == 1 and changed.chunks_written == 2
    hits = kb.search("green pufferfish sunglasses", k=1, filters={"kind": "characters"})
    assert "pufferfish" in hits[0].text and hits[0].title == "Bruno Fish > Looks"
    old = " ".join(h.text for h in kb.search("striped orange fish tiny hat", k=10))
    assert "tiny hat" not in old  # the old version's chunks are gone
    assert kb.stats().total_chunks == 4

    (folder / "sub" / "other fish.md").unlink()
    pruned = ingest_path(kb, folder)
    assert len(pruned.removed) == 1 and kb.stats().total_chunks == 2
    assert all("eel" not in h.text for h in kb.search("purple eel glasses", k=5))


def test_kind_change_moves_the_file_to_its_new_collection(tmp_path, make_kb):
    kb = make_kb()
    path = _note(tmp_path / "k", "bruno.md")
    ingest_path(kb, path)
    assert kb.stats().chunks_by_kind["characters"] == 2
    _note(tmp_path / "k", "bruno.md", kind="scenes")
    ingest_path(kb, path)
    counts = kb.stats().chunks_by_kind
    assert counts.get("characters", 0) == 0 and counts["scenes"] == 2


def test_bad_files_are_reported_and_good_ones_still_ingested(tmp_path, make_kb):
    folder = tmp_path / "mixed"
    _note(folder, "good.md")
    (folder / "broken.md").write_text("---\nkind: [oops\n---\nbody", encoding="utf-8")
    (folder / "empty.md").write_text("---\nkind: styles\n---\n\n", encoding="utf-8")
    (folder / "binary.md").write_bytes(b"\xff\xfe\x00bad")
    report = ingest_path(make_kb(), folder)
    assert len(report.added) == 1
    assert {Path(s).name for s in report.failed} == {"broken.md", "empty.md", "binary.md"}
    assert "front matter is invalid" in next(v for k, v in report.failed.items() if k.endswith("broken.md"))


def test_missing_path_and_bad_kind_are_clear_errors(tmp_path, make_kb):
    kb = make_kb()
    with pytest.raises(ToolError, match="does not exist"):
        ingest_path(kb, tmp_path / "nope")
    with pytest.raises(ToolError, match="not a valid knowledge kind"):
        ingest_path(kb, _note(tmp_path, "x.md"), kind="Bad Kind")


def test_persisted_and_reopened(tmp_path, make_kb):
    folder = tmp_path / "persist"
    _note(folder, "bruno.md")
    ingest_path(make_kb(tmp_path / "db"), folder)
    reopened = make_kb(tmp_path / "db")
    assert reopened.stats().total_chunks == 2
    assert ingest_path(reopened, folder).chunks_written == 0
    top = reopened.search("Bruno collects spoons", k=1)[0]
    assert top.title == "Bruno Fish > Habits" and top.source.endswith("persist/bruno.md")


def test_add_documents_scene_index_contract(make_kb):
    """The video scene index pushes scene descriptions with kind 'scenes' and film metadata."""
    kb = make_kb()
    scenes = [{"text": "A night harbour with lit windows and a grumpy fisherman on the pier.",
               "source": "samples/tide.mp4", "title": "Scene 4", "metadata": {"film": "The Tide Keeper", "start": 20.5}},
              {"text": "A sunset beach where a seagull flies across an orange sky.", "source": "samples/tide.mp4",
               "title": "Scene 5", "film": "The Tide Keeper", "start": 30.0},
              {"text": "Kids race bicycles through a seaside town.", "source": "films/luca.mp4",
               "title": "Race", "metadata": {"film": "Luca"}}]
    assert kb.add_documents("scenes", scenes) == 3
    assert kb.add_documents("scenes", scenes) == 0  # unchanged sources are skipped
    hits = kb.search("fisherman at night", k=3, filters={"film": "the tide keeper"})
    assert hits[0].title == "Scene 4" and hits[0].metadata["start"] == 20.5
    assert all(h.metadata["source"] == "samples/tide.mp4" for h in hits)
    luca = kb.search("bicycle race", k=3, filters={"film": "Luca", "kind": "scenes"})
    assert [h.title for h in luca] == ["Race"]
    # re-indexing a film with new descriptions replaces its old ones
    kb.add_documents("scenes", [{"text": "Only one scene now: a forest path.", "source": "samples/tide.mp4"}])
    assert kb.stats().chunks_by_kind["scenes"] == 2
    with pytest.raises(ToolError, match="has no text"):
        kb.add_documents("scenes", [{"source": "x"}])
    with pytest.raises(ToolError, match="not a valid knowledge kind"):
        kb.add_documents("Scenes!", [{"text": "x"}])


def test_search_edge_cases(make_kb):
    kb = make_kb()
    assert kb.search("anything") == []  # empty knowledge base is a normal state
    kb.add_documents("styles", [{"text": "Golden hour rim light on the sea.", "source": "s"}])
    assert kb.search("   ") == []
    assert kb.search("golden", k=0) == []
    assert kb.search("golden", filters={"kind": "unknown-kind"}) == []
    assert kb.search("golden", filters={"film": "Nonexistent"}) == []
    assert kb.search("golden light", filters={"kind": ["styles", "comedy"]})[0].kind == "styles"


def test_ingest_default_knowledge_uses_the_setting(tmp_path, make_kb):
    from rag.ingest import ingest_default_knowledge
    from tests.rag.conftest import rag_settings

    _note(tmp_path / "kdir", "bruno.md")
    kb = make_kb()
    report = ingest_default_knowledge(kb, rag_settings(tmp_path / "chroma", knowledge_dir=str(tmp_path / "kdir")))
    assert len(report.added) == 1
    with pytest.raises(ToolError, match="rag.knowledge_dir"):
        ingest_default_knowledge(kb, rag_settings(tmp_path / "chroma", knowledge_dir=str(tmp_path / "none")))
