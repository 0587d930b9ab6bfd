"""The tool contract: schema from the signature, validation as observation, sandboxed paths,
resources acquired, errors reported and never raised."""
import json
from pathlib import Path

import pytest

from tools.core.context import make_context
from tools.core.registry import InputPath, OutputPath, as_langchain_tools, get_tool, invoke, tool
from tools.core.scheduler import ResourceScheduler
from tools.core.trace import Trace
from tools.core.types import Artifact, ToolError, ToolResult
from tools.core.workspace import Workspace


class EchoResult(ToolResult):
    text: str
    count: int


CALLS: list[dict] = []


@tool(family="test", resources=("sdxl",))
def t_echo(ctx, text: str, count: int = 1, src: InputPath | None = None, dst: OutputPath | None = None) -> EchoResult:
    """Repeat a text.

    Args:
        text: What to repeat.
        count: How many times.
        src: A file to read.
        dst: Where to write.
    """
    CALLS.append({"resident": ctx.scheduler.resident(), "src": src, "dst": dst, "low": ctx.low_memory})
    arts = []
    if dst:
        dst.write_text(text * count)
        arts.append(Artifact(path=ctx.workspace.relative(dst), kind="text"))
    return EchoResult(text=text * count, count=count, artifacts=arts)


@tool(family="test")
def t_fails(ctx, mode: str) -> dict:
    """Fail on purpose."""
    if mode == "tool":
        raise ToolError("expected failure", "do something else")
    raise ZeroDivisionError("boom")


class FakeOOM(Exception):
    pass


FakeOOM.__name__ = "OutOfMemoryError"


@tool(family="test", resources=("sdxl",))
def t_oom(ctx, always: bool = False) -> dict:
    """Run out of memory unless in low-memory mode."""
    if always or not ctx.low_memory:
        raise FakeOOM("CUDA out of memory. Tried to allocate 2.00 GiB")
    return {"low_memory": ctx.low_memory}


@pytest.fixture
def ctx(isolated_settings, tmp_path):
    ws = Workspace(tmp_path / "ws", [])
    CALLS.clear()
    return make_context(isolated_settings, ws, trace=Trace(tmp_path / "trace.jsonl"),
                        scheduler=ResourceScheduler(trace=Trace(None)))


def test_schema_comes_from_signature_and_docstring():
    schema = get_tool("t_echo").schema()
    fn = schema["function"]
    assert fn["name"] == "t_echo" and fn["description"] == "Repeat a text."
    props = fn["parameters"]["properties"]
    assert set(props) == {"text", "count", "src", "dst"}  # ctx never appears
    assert props["text"]["description"] == "What to repeat."
    assert props["count"]["default"] == 1
    assert fn["parameters"]["required"] == ["text"]
    json.dumps(schema)  # serialisable as OpenAI function format


def test_valid_call_returns_typed_result_and_acquires_resources(ctx):
    out = invoke("t_echo", {"text": "ab", "count": 2, "dst": "out/echo.txt"}, ctx)
    assert out.ok, out.error
    assert out.result["text"] == "abab"
    assert CALLS[-1]["resident"] == ["sdxl"]  # the registry made the declared resource resident
    assert (ctx.workspace.root / "out/echo.txt").read_text() == "abab"
    assert out.artifacts[0].path == "out/echo.txt"
    events = [e for e in ctx.trace.read() if e["kind"] == "tool.call"]
    assert events[-1]["tool"] == "t_echo" and events[-1]["ok"]


@pytest.mark.parametrize("args, fragment", [
    ({"count": 2}, "missing required argument 'text'"),
    ({"text": "a", "count": "many"}, "argument 'count'"),
    ({"text": "a", "colour": "red"}, "unknown argument 'colour'"),
    (["a"], "must be a JSON object"),
])
def test_invalid_arguments_never_reach_the_function(ctx, args, fragment):
    out = invoke("t_echo", args, ctx)
    assert not out.ok and out.error_kind == "validation"
    assert fragment in out.error
    assert "ERROR (validation)" in out.observation()
    assert CALLS == []


def test_paths_from_the_model_are_sandboxed(ctx):
    for bad in ({"text": "a", "dst": "../../evil.txt"}, {"text": "a", "src": "/etc/passwd"}):
        out = invoke("t_echo", bad, ctx)
        assert not out.ok and out.error_kind == "validation"
    assert CALLS == []


def test_unknown_tool_suggests_names(ctx):
    out = invoke("t_ecko", {}, ctx)
    assert out.error_kind == "unknown_tool" and "t_echo" in out.hint


def test_tool_errors_and_exceptions_are_reported_not_raised(ctx):
    out = invoke("t_fails", {"mode": "tool"}, ctx)
    assert (out.ok, out.error_kind, out.error, out.hint) == (False, "tool", "expected failure", "do something else")
    out = invoke("t_fails", {"mode": "crash"}, ctx)
    assert out.error_kind == "unexpected" and "ZeroDivisionError" in out.error
    tb = [e for e in ctx.trace.read() if e["kind"] == "tool.exception"]
    assert tb and "ZeroDivisionError" in tb[0]["traceback"]


def test_out_of_memory_retries_once_in_low_memory_mode(ctx):
    out = invoke("t_oom", {}, ctx)
    assert out.ok and out.result == {"low_memory": True}
    out = invoke("t_oom", {"always": True}, ctx)
    assert not out.ok and "even after" in out.error


def test_as_langchain_tools_validates_like_the_agent(ctx):
    tools = {t.name: t for t in as_langchain_tools(ctx, ["t_echo"])}
    assert tools["t_echo"].invoke({"text": "x", "count": 3}).startswith("text='xxx'")
