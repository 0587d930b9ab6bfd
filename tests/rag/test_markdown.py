from pathlib import Path

import pytest

from rag.markdown import chunk_document, read_document, split_front_matter
from tools.core.types import ToolError


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_front_matter_and_heading_paths(tmp_path):
    path = _write(tmp_path, "luca note.md", """---
kind: characters
film: Luca
characters: [Luca Paguro, Alberto Scorfano]
tags: sea, summer
---
# Luca Paguro
Intro line.
## Appearance
Blue-green scales.
### Human form
Curly hair.
## Voice
Soft.
```python
# not a heading inside a code fence
```
""")
    doc = read_document(path, "notes/luca note.md")
    assert doc.kind == "characters" and doc.title == "Luca Paguro"
    assert doc.metadata["film:luca"] is True
    assert doc.metadata["character:alberto scorfano"] is True and doc.metadata["character:alberto"] is True
    assert doc.metadata["tag:summer"] is True and doc.metadata["tags"] == "sea, summer"
    chunks = chunk_document(doc, max_chars=900)
    paths = [c.metadata["heading"] for c in chunks]
    assert paths == ["Luca Paguro", "Luca Paguro > Appearance", "Luca Paguro > Appearance > Human form",
                     "Luca Paguro > Voice"]
    # the heading path is part of the indexed text; the code-fence comment stayed body text
    assert chunks[2].text.startswith("Luca Paguro > Appearance > Human form\nCurly hair.")
    assert "not a heading" in chunks[3].body
    assert len({c.id for c in chunks}) == len(chunks)
    assert all(c.metadata["source_hash"] == doc.content_hash for c in chunks)


def test_long_sections_are_split_under_the_limit(tmp_path):
    paragraph = " ".join(f"Sentence number {i} about the sea." for i in range(40))
    path = _write(tmp_path, "long.md", f"# Long\n\n{paragraph}\n\n{paragraph}\n")
    chunks = chunk_document(read_document(path, "long.md"), max_chars=300)
    assert len(chunks) > 4
    assert all(len(c.body) <= 300 for c in chunks)
    assert all(c.metadata["heading"] == "Long" for c in chunks)
    # nothing lost: every sentence survives the split
    joined = " ".join(c.body for c in chunks)
    assert all(f"Sentence number {i} " in joined for i in range(40))


def test_file_without_front_matter_gets_default_kind_and_stem_title(tmp_path):
    doc = read_document(_write(tmp_path, "my_notes.txt", "plain words only"), "my_notes.txt")
    assert doc.kind == "notes" and doc.title == "my notes"
    assert [c.body for c in chunk_document(doc)] == ["plain words only"]


@pytest.mark.parametrize("text,needle", [
    ("---\nkind: [unclosed\n---\nbody", "front matter is invalid"),
    ("---\n- a list\n---\nbody", "must be a YAML mapping"),
    ("---\nkind: Bad Kind!\n---\nbody", "not a valid collection name"),
])
def test_bad_front_matter_is_a_clear_error(tmp_path, text, needle):
    with pytest.raises(ToolError, match=needle):
        read_document(_write(tmp_path, "bad.md", text), "bad.md")


def test_non_utf8_file_is_a_clear_error(tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    with pytest.raises(ToolError, match="not UTF-8"):
        read_document(path, "latin1.md")


def test_split_front_matter_leaves_plain_text_alone():
    assert split_front_matter("# Title\n---\nnot front matter") == ({}, "# Title\n---\nnot front matter")
