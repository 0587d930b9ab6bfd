"""All prompts are YAML templates rendered one way; every prompt the code asks for exists."""
import re
from pathlib import Path

import pytest

from tools.core.prompts import PromptBook, load_prompts

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"""\b(?:PROMPTS|prompt)\(\s*["'](\w+)["']""")


def prompt_books() -> list[Path]:
    return sorted(p for p in (ROOT / "agent").rglob("prompts.yaml")) + sorted((ROOT / "tools").rglob("prompts.yaml"))


def test_every_prompt_the_code_renders_is_in_the_yaml_beside_it():
    asked = 0
    for source in [*(ROOT / "agent").rglob("*.py"), *(ROOT / "tools").rglob("*.py")]:
        names = CALL.findall(source.read_text(encoding="utf-8"))
        if not names or source.name == "prompts.py":
            continue
        book = source.parent / "prompts.yaml"
        while not book.exists() and book.parent != ROOT:  # agent/nodes/* use agent/prompts.yaml
            book = book.parent.parent / "prompts.yaml"
        assert book.exists(), f"{source} renders prompts but has no prompts.yaml above it"
        missing = set(names) - set(load_prompts(book))
        assert not missing, f"{source.relative_to(ROOT)} asks for {missing} not in {book.relative_to(ROOT)}"
        asked += len(names)
    assert asked >= 10


def test_the_four_tool_prompts_live_in_their_family_yaml():
    expected = {"parody": {"script_system", "script_request", "script_feedback"},
                "quality": {"judge_line", "judge_line_request"}, "video": {"scene_caption"},
                "dataset": {"frame_caption"}}
    for family, names in expected.items():
        assert names <= set(PromptBook(ROOT / "tools" / family / "prompts.yaml").names())


def test_rendering_fills_values_keeps_braces_in_values_and_names_a_missing_prompt(tmp_path):
    path = tmp_path / "prompts.yaml"
    path.write_text("greet: |\n  Hello {who}, literal {{braces}}.\n", encoding="utf-8")
    book = PromptBook(path)
    assert book("greet", who="{Nemo}") == "Hello {Nemo}, literal {braces}."
    with pytest.raises(KeyError, match="no prompt 'farewell'.*greet"):
        book("farewell")
    for yaml_file in prompt_books():
        assert load_prompts(yaml_file), yaml_file
