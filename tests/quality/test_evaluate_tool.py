"""evaluate_media through the registry: sandboxed paths, combined verdict, blame, the JSON artifact."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.settings import settings_from_dict
from tools.core.trace import Trace
from tools.core.workspace import Workspace

SRT = """1
00:00:00,500 --> 00:00:01,900
Good morning, Pip!

2
00:00:02,000 --> 00:00:03,800
Who stole my fish?
"""
LINES = [{"text": "Good morning, Pip!", "start": 0.5, "end": 1.9, "speaker": "Brine"},
         {"text": "Who stole my fish?", "start": 2.0, "end": 3.8, "speaker": "Brine"}]


def _ctx(tmp_path: Path):
    settings = settings_from_dict({"quality": {"target_lufs": -18.0}, "llm": {"backend": "local"}})
    ws = Workspace(tmp_path / "run 1")
    return make_context(settings, ws, trace=Trace(ws.root / "trace.jsonl")), ws


def test_good_result_passes_and_writes_report(media, tmp_path: Path) -> None:
    ctx, ws = _ctx(tmp_path)
    if "spoken" not in media:
        pytest.skip("espeak-ng is not installed")
    shutil.copy(media["spoken"], ws.root / "final.mp4")
    (ws.root / "final.srt").write_text(SRT, encoding="utf-8")
    out = invoke("evaluate_media", {"video": "final.mp4", "target_duration": 4, "lines": LINES,
                                    "subtitles": "final.srt", "request": "a parody"}, ctx)
    assert out.ok, out.error
    report = out.result["report"]
    assert report["passed"] and report["score"] > 0.9
    by_name = {r["scorer"]: r for r in report["reports"]}
    assert by_name["script"]["skipped"] and "too small" in by_name["script"]["reasons"][0]
    assert by_name["images"]["skipped"]
    assert set(report["weights_used"]) == {"video", "audio", "speech", "subtitles"}
    assert by_name["speech"]["metrics"]["failed_lines"] == 0, by_name["speech"]
    assert "side file" in by_name["burned_subtitles"]["reasons"][0]
    saved = json.loads((ws.root / out.result["report_path"]).read_text())
    assert saved["score"] == report["score"]
    assert any(e["kind"] == "quality.score" for e in ctx.trace.read())


def test_bad_result_fails_with_targeted_blame(media, tmp_path: Path) -> None:
    ctx, ws = _ctx(tmp_path)
    if "spoken_black" not in media:
        pytest.skip("espeak-ng is not installed")
    shutil.copy(media["spoken_black"], ws.root / "final.mp4")
    (ws.root / "final.srt").write_text(SRT.replace("Who stole my fish?", "Who stole my fish? " * 4), encoding="utf-8")
    out = invoke("evaluate_media", {"video": "final.mp4", "lines": LINES, "subtitles": "final.srt"}, ctx)
    assert out.ok, out.error
    report = out.result["report"]
    assert not report["passed"]
    assert "render" in report["blame"] and "subtitles" in report["blame"]
    assert "script" not in report["blame"] and "voices" not in report["blame"]
    codes = {f["code"] for f in report["findings"]}
    assert {"black_picture", "subtitle_too_fast"} <= codes


def test_untrusted_and_broken_paths(media, tmp_path: Path) -> None:
    ctx, ws = _ctx(tmp_path)
    escape = invoke("evaluate_media", {"video": "../../etc/passwd"}, ctx)
    assert not escape.ok and "outside" in escape.error
    (ws.root / "empty.mp4").write_bytes(b"")
    out = invoke("evaluate_media", {"video": "empty.mp4"}, ctx)
    assert out.ok  # a broken input is a failing score with the reason, not a crash
    video = next(r for r in out.result["report"]["reports"] if r["scorer"] == "video")
    assert not video["passed"] and "empty" in video["reasons"][0]
    missing_img = invoke("evaluate_media", {"images": ["nope.png"]}, ctx)
    assert not missing_img.ok and "not found" in missing_img.error.lower()
