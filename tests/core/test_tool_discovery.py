"""Tools register by discovery: every module of every family package is imported, none is listed."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools.core import registry

ROOT = Path(__file__).resolve().parents[2]

TOOL_SOURCE = textwrap.dedent('''
    from tools.core.registry import tool

    @tool(family="test")
    def {name}(ctx, text: str) -> dict:
        """Say a text back.

        Args:
            text: What to say.
        """
        return {{"text": text}}
''')


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    """A package laid out like tools/: a framework package and a family with a brand-new module."""
    root = tmp_path / "discovered_tools"
    for folder in ("", "core", "brushes", "brushes/deep"):
        (root / folder).mkdir(exist_ok=True)
        (root / folder / "__init__.py").write_text("")
    (root / "brushes" / "fresh_module.py").write_text(TOOL_SOURCE.format(name="d_fresh_brush"))
    (root / "brushes" / "deep" / "nested.py").write_text(TOOL_SOURCE.format(name="d_nested_brush"))
    (root / "core" / "helper.py").write_text(TOOL_SOURCE.format(name="d_framework_helper"))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "discovered_tools"
    for name in ("d_fresh_brush", "d_nested_brush", "d_framework_helper"):
        registry._REGISTRY.pop(name, None)
    registry._LOADED.discard("discovered_tools")
    for mod in [m for m in sys.modules if m.startswith("discovered_tools")]:
        del sys.modules[mod]


def test_a_new_module_in_a_family_registers_without_being_listed(fake_root):
    assert "discovered_tools.brushes.fresh_module" in registry.family_modules(fake_root)
    registry.load_tools(fake_root)
    assert registry.get_tool("d_fresh_brush").family == "test"
    assert registry.get_tool("d_nested_brush").name == "d_nested_brush"  # sub-packages too
    assert "d_framework_helper" not in {s.name for s in registry.all_tools()}  # core is not a family


def test_every_module_of_the_shipped_families_is_imported():
    registry.load_builtin_tools()
    on_disk = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
               for p in (ROOT / "tools").glob("*/**/*.py") if p.relative_to(ROOT / "tools").parts[0] != "core"}
    assert on_disk and not on_disk - set(sys.modules)
    assert {"dataset_extract", "render_edit", "write_parody_script", "synthesize_speech"} <= {s.name for s in registry.all_tools()}


def test_discovery_keeps_heavy_libraries_out_of_start_up():
    code = ("import sys; from tools.core.registry import load_builtin_tools; load_builtin_tools(); "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers', 'faster_whisper') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", "a tool module imports a heavy library at top level: import it inside the function"


def test_a_tool_with_a_mutable_default_is_refused_at_registration():
    def t_shared_list(ctx, names: list[str] = []) -> dict:  # noqa: B006 (the point of the test)
        """A list default would be shared by every direct call."""
        return {"names": names}

    with pytest.raises(TypeError, match="mutable default"):
        registry.tool(family="test")(t_shared_list)
    assert "t_shared_list" not in {s.name for s in registry.all_tools()}


def test_a_shipped_tool_belongs_to_the_family_whose_folder_holds_it():
    registry.load_builtin_tools()
    shipped = [s for s in registry.all_tools() if s.func.__module__.startswith("tools.")]  # not tests' own
    assert len(shipped) >= 30
    wrong = [f"{s.name}: family {s.family!r} in {s.func.__module__}" for s in shipped
             if s.func.__module__.split(".")[:2] != ["tools", s.family]]
    assert not wrong, wrong
