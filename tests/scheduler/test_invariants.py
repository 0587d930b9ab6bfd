"""Property test: random sequences of tool calls never break the rules, and OOM recovery works
through the real registry flow (evict, one low-memory retry, then a clear failure)."""
from __future__ import annotations

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.scheduler.fakes import FakeClock, FakeGPU, FakeModel, profile_16gb
from tools.core.context import make_context
from tools.core.registry import invoke, tool
from tools.core.scheduler import ResourceScheduler, SchedulerError
from tools.core.settings import settings_from_dict
from tools.core.trace import Trace
from tools.core.workspace import Workspace

ESTIMATES = {"llm": 11.0, "sdxl": 11.5, "tts": 3.5}
ACTIVATIONS = {"llm": 0.5, "sdxl": 3.0, "tts": 0.3}  # working memory a call needs on top of weights


@tool(family="test", resources=("sdxl",), name="_sched_test_render")
def _render(ctx, oom: bool = False) -> dict:
    """Test tool: allocates SDXL activations on the simulated GPU (less in low-memory mode)."""
    gpu: FakeGPU = ctx.extras["gpu"]
    ctx.extras.setdefault("low_memory_calls", []).append(ctx.low_memory)
    gb = 0.8 if ctx.low_memory else ACTIVATIONS["sdxl"]
    if oom and ctx.extras.get("always_oom"):
        gb = 99.0
    gpu.allocate("activations", gb)
    gpu.free("activations", immediately=True)
    return {"low_memory": ctx.low_memory}


@tool(family="test", resources=("tts", "sdxl"), name="_sched_test_voice_over_image")
def _voice_over_image(ctx) -> dict:
    """Test tool needing two resources at once."""
    return {"ok": True}


def _scheduler(gpu: FakeGPU, trace: Trace | None = None) -> ResourceScheduler:
    clock = FakeClock()
    sched = ResourceScheduler(profile_16gb(), trace or Trace(None), probe=gpu, poll_interval_s=0.05,
                              free_timeout_s=2.0, clock=clock, sleep=clock.sleep)
    for r, gb in ESTIMATES.items():
        sched.register(r, FakeModel(gpu, r, gb))
    return sched


def _check(sched: ResourceScheduler, gpu: FakeGPU) -> None:
    resident = set(sched.resident())
    for group in sched.profile.exclusive_groups:
        assert len(resident & set(group)) <= 1, f"exclusive group {group} broken: {resident}"
    assert sum(sched.profile.estimate(r) for r in resident) <= sched.profile.usable_gb + 1e-9
    loaded_on_gpu = {o for o in gpu.used if o in ESTIMATES}
    assert not {"llm", "sdxl"} <= loaded_on_gpu, f"both on the device: {gpu.used}"


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("use"), st.lists(st.sampled_from(["llm", "sdxl", "tts"]), min_size=1, max_size=2)),
        st.tuples(st.just("nested"), st.lists(st.sampled_from(["llm", "sdxl", "tts"]), min_size=2, max_size=2)),
        st.tuples(st.just("work"), st.sampled_from(["llm", "sdxl", "tts"])),
        st.tuples(st.just("evict_all"), st.just([])),
    ),
    min_size=1, max_size=25)


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_random_call_sequences_keep_the_invariant(ops):
    gpu = FakeGPU(lag_polls=2)
    sched = _scheduler(gpu)
    for kind, arg in ops:
        if kind == "use":
            try:
                with sched.use(*arg):
                    _check(sched, gpu)
            except SchedulerError as exc:  # only legal refusal: two exclusive members in one call
                assert set(arg) >= {"llm", "sdxl"}, exc
        elif kind == "nested":
            outer, inner = arg
            with sched.use(outer):
                try:
                    with sched.use(inner):
                        _check(sched, gpu)
                except SchedulerError:
                    assert inner in sched.conflicts(outer)
                _check(sched, gpu)
        elif kind == "work":  # a call that allocates working memory; OOM recovery if it does not fit
            with sched.use(arg):
                try:
                    gpu.allocate("activations", ACTIVATIONS[arg])
                except Exception as exc:
                    sched.handle_oom([arg], exc)
                    gpu.allocate("activations", ACTIVATIONS[arg] / 2)
                gpu.free("activations", immediately=True)
        else:
            sched.evict_all()
        _check(sched, gpu)
    assert sched.in_use() == {}


def _ctx(tmp_path, gpu, trace):
    settings = settings_from_dict({"scheduler": {"profile": "cpu-only"}})
    ws = Workspace.create(tmp_path / "runs")
    return make_context(settings, ws, scheduler=_scheduler(gpu, trace), trace=trace, extras={"gpu": gpu})


def test_oom_evicts_others_then_retries_once_in_low_memory_mode(tmp_path):
    gpu = FakeGPU()
    trace = Trace(tmp_path / "trace.jsonl")
    ctx = _ctx(tmp_path, gpu, trace)
    with ctx.scheduler.use("tts"):  # tts beside sdxl: 3.5 + 11.5 = 15 fits the budget, but
        pass                          # not 3 GB of activations on a 15.9 GB card
    out = invoke("_sched_test_render", {}, ctx)
    assert out.ok, out.error
    assert ctx.extras["low_memory_calls"] == [False, True] and out.result == {"low_memory": True}
    assert ctx.scheduler.resident() == ["sdxl"]  # tts was evicted to make room
    kinds = [e["kind"] for e in trace.read()]
    assert "scheduler.oom" in kinds and "scheduler.evict_all" in kinds


def test_second_oom_fails_clearly(tmp_path):
    gpu = FakeGPU()
    ctx = _ctx(tmp_path, gpu, Trace(None))
    ctx.extras["always_oom"] = True
    out = invoke("_sched_test_render", {"oom": True}, ctx)
    assert not out.ok and out.error_kind == "tool"
    assert "ran out of GPU memory even after evicting" in out.error and ctx.extras["low_memory_calls"] == [False, True]
    assert ctx.scheduler.in_use() == {}


def test_tool_with_two_resources_through_registry(tmp_path):
    gpu = FakeGPU()
    ctx = _ctx(tmp_path, gpu, Trace(None))
    with ctx.scheduler.use("llm"):
        pass
    out = invoke("_sched_test_voice_over_image", {}, ctx)
    assert out.ok and ctx.scheduler.resident() == ["sdxl", "tts"]
    assert {"sdxl", "tts"} <= set(gpu.used) and "llm" not in gpu.used
