"""The answer scorer: a ReAct answer or a free plan's result, scored on what the user gets.

- it exists and addresses the request (sentence-embedding similarity of request and answer);
- every file it names exists, and when the run made files the answer names them;
- tool errors count: the share of tool calls that failed lowers the score, all of them failing fails.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Sequence

from tools.core.findings import Code
from tools.core.settings.sections import QualitySettings
from tools.quality.report import Check, ScoreReport, linear
from tools.quality.scene_fit import Embed

FILE_WORD = re.compile(r"[\w./\\-]+\.(?:mp4|mkv|mov|webm|png|jpe?g|webp|wav|mp3|flac|srt|ass|json|txt|html|"
                       r"safetensors|csv|md|zip)\b", re.IGNORECASE)


def named_files(answer: str) -> list[str]:
    return list(dict.fromkeys(m.group(0).removeprefix("./") for m in FILE_WORD.finditer(answer or "")))


def score_answer(request: str, answer: str, made: Sequence[str], exists: Callable[[str], bool], calls: int,
                 errors: int, q: QualitySettings, embed: Embed | None = None,
                 files_listed: bool = False) -> ScoreReport:
    """`made`: the run's artifact paths; `exists`: whether a named path is a real, non-empty file;
    `files_listed`: the final answer lists the made files itself (the plan's answer does)."""
    check = Check("answer", q.scorer_pass)
    check.metrics.update(tool_calls=calls, tool_errors=errors, files_made=len(made))
    if not answer.strip():
        check.add(0.0, 3.0, "there is no answer", Code.answer_missing, hard=True)
        return check.report()
    if embed is not None and request.strip():
        vectors = embed([request, answer[:2000]])
        similarity = float(vectors[0] @ vectors[1])
        check.metrics["relevance"] = round(similarity, 3)
        floor = q.answer_relevance_min
        check.add(linear(similarity, floor, floor - 0.15), 2.0,
                  f"the answer does not address the request (similarity {similarity:.2f} < {floor:.2f})",
                  Code.answer_off_request, hard=True, similarity=round(similarity, 3))
    named = named_files(answer)
    missing = [n for n in named if not exists(n)]
    check.metrics["files_named"] = named[:12]
    check.add(1 - len(missing) / len(named) if named else 1.0, 2.0,
              f"the answer names files that do not exist: {', '.join(missing[:4])}", Code.answer_file_missing,
              hard=True, fail_below=1.0, files=missing[:8])
    if made and not files_listed:
        names = {Path(p).name for p in made}
        told = [n for n in names if n in answer]
        check.add(len(told) / len(names) if told else 0.0, 1.0,
                  f"the answer names none of the {len(names)} files the run made" if not told else
                  f"the answer names {len(told)} of the {len(names)} files the run made", Code.answer_files_unnamed)
    if calls:
        ratio = errors / calls
        check.add(1 - ratio, 1.5, f"{errors} of {calls} tool calls failed", Code.tool_errors,
                  hard=errors == calls, errors=errors, calls=calls)
    return check.report()
