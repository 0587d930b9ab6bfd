"""Imports only go down the order written in tools/core/layers.py, and no modules import each other.

Read from the source (every import, lazy ones too), the same way the declared-dependency test reads
third-party imports: a family importing a sibling passes every run and still ties the two together.
"""
from __future__ import annotations

from pathlib import Path

from tools.core.layers import RANK, SOURCE_DIRS, TIERS, cycles, edges, violations

ROOT = Path(__file__).resolve().parents[2]


def test_imports_only_go_down_the_layers():
    bad = violations(ROOT)
    assert not bad, "imports that go up or sideways:\n" + "\n".join(
        f"  {i.path}:{i.line}: imports {i.module}: {i.rule}" for i in bad)


def test_no_modules_import_each_other():
    circles = [c for d in ("tools", "rag", "workflows") for c in cycles(ROOT, d)]
    assert not circles, "import circles (split what both need into a module both import):\n" + "\n".join(
        "  " + " <-> ".join(c) for c in circles)


def test_every_package_has_a_place_in_the_order():
    units = {d.name for d in ROOT.iterdir() if d.name in SOURCE_DIRS}
    units |= {f"tools.{d.name}" for d in (ROOT / "tools").iterdir() if (d / "__init__.py").exists()}
    units.discard("tools")
    assert units <= set(RANK), f"not in tools/core/layers.py TIERS: {sorted(units - set(RANK))}"
    assert len(RANK) == sum(len(u) for u, _ in TIERS), "a unit is listed twice"


def _tree(tmp: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in list(path.parents)[:-1]:
            if parent != tmp and parent.is_relative_to(tmp) and not (parent / "__init__.py").exists():
                (parent / "__init__.py").write_text("")
        path.write_text(text)
    return tmp


def test_the_check_names_file_line_and_rule_of_the_old_sideways_imports(tmp_path):
    # Imports as they were before the shared vocabularies moved down (tools/audio/tts.py,
    # tools/video/scenes.py, tools/image/consistency.py), plus a lazy one and a relative one.
    root = _tree(tmp_path, {
        "tools/audio/tts.py": "from __future__ import annotations\n\nfrom tools.image.characters import VoicePreset\n",
        "tools/video/scenes.py": "import json\nfrom tools.quality.codes import Code\n",
        "tools/image/consistency.py": "def f():\n    from tools.dataset.identity import choose_backend\n",
        "tools/media/probe.py": "from ..video import scenes\n",
        "tools/quality/ok.py": "from tools.media import probe\nfrom tools.core.types import ToolError\n",
        "tools/core/types.py": "import agent.api\n",
        "agent/api.py": "from tools.parody import score\n",
    })
    found = {(i.path, i.line, i.source, i.target): i.rule for i in violations(root)}
    assert set(found) == {
        ("tools/audio/tts.py", 3, "tools.audio", "tools.image"),
        ("tools/video/scenes.py", 2, "tools.video", "tools.quality"),
        ("tools/image/consistency.py", 2, "tools.image", "tools.dataset"),
        ("tools/media/probe.py", 1, "tools.media", "tools.video"),
        ("tools/core/types.py", 1, "tools.core", "agent"),
    }
    assert "sideways" in found[("tools/video/scenes.py", 2, "tools.video", "tools.quality")]
    assert " up " in found[("tools/audio/tts.py", 3, "tools.audio", "tools.image")]
    assert edges(root)[("agent", "tools.parody")] == 1  # going down is fine and is drawn


def test_the_check_finds_the_old_circles(tmp_path):
    root = _tree(tmp_path, {
        "tools/dataset/identity/backend.py": "def f():\n    from tools.dataset.identity.dnn_backend import D\n",
        "tools/dataset/identity/dnn_backend.py": "from tools.dataset.identity.backend import Region\n",
        "tools/dataset/library.py": "def run():\n    from tools.dataset import ray_library\n",
        "tools/dataset/ray_library.py": "from tools.dataset.library import StageHost\n",
        "tools/dataset/fine.py": "from tools.dataset.library import StageHost\n",
    })
    assert sorted(cycles(root)) == [["tools.dataset.identity.backend", "tools.dataset.identity.dnn_backend"],
                            ["tools.dataset.library", "tools.dataset.ray_library"]]
