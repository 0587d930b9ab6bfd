"""Text from tools, models and films is shown as written: brackets in it are not taken for rich markup."""
from __future__ import annotations

from rich.console import Console
from rich.text import Text

from agent.cli.console import node_line, print_result
from agent.result import RunResult


def test_a_summary_with_brackets_keeps_them_in_the_progress_line():
    update = {"step_results": {"extract": {"ok": True, "tool": "dataset_extract", "seconds": 1.0,
                                           "summary": "extract [my_frames]: done=37 [bold]x"}}}
    assert "extract [my_frames]: done=37 [bold]x" in Text.from_markup(node_line("execute", update)).plain


def test_the_final_answer_is_printed_as_written():
    console = Console(record=True, width=200)
    result = RunResult(run_id="r1", run_dir="/tmp/r1", request="a dataset", status="passed",
                       final_answer="filter [sintel_frames]: kept=13",
                       trace_path="/tmp/r1/trace.jsonl", report_path="/tmp/r1/report.html", seconds=1.0)
    print_result(console, result)
    assert "filter [sintel_frames]: kept=13" in console.export_text()
