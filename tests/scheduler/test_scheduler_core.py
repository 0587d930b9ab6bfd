"""Residency rules, budget, lagging frees and the trace, on a simulated 16 GB GPU."""
from __future__ import annotations

import pytest

from tests.scheduler.fakes import FakeClock, FakeGPU, FakeModel, no_sleep, profile_16gb
from tools.core.scheduler import InProcessHandle, ResourceScheduler, SchedulerError
from tools.core.trace import Trace


def make(gpu: FakeGPU, trace: Trace | None = None, clock: FakeClock | None = None, timeout: float = 5.0,
         **profile):
    clock = clock or FakeClock()
    sched = ResourceScheduler(profile_16gb(**profile), trace or Trace(None), probe=gpu, poll_interval_s=0.1,
                              free_timeout_s=timeout, clock=clock, sleep=clock.sleep)
    models = {r: FakeModel(gpu, r, gb) for r, gb in {"llm": 11.0, "sdxl": 11.5, "tts": 3.5}.items()}
    for r, m in models.items():
        sched.register(r, m)
    return sched, models


def test_exclusive_switch_waits_for_lagging_free_and_is_traced(tmp_path):
    gpu = FakeGPU(lag_polls=3)
    trace = Trace(tmp_path / "trace.jsonl")
    sched, models = make(gpu, trace)
    with sched.use("llm", reason="tool write_script"):
        assert models["llm"].loaded
    with sched.use("sdxl", reason="tool generate_image"):
        assert sched.resident() == ["sdxl"]
        assert not models["llm"].loaded and models["sdxl"].loaded
    # the load happened only after the lagging free landed, so the card never held both
    assert gpu.peak_gb <= 11.5 + 1e-9
    switches = [e for e in trace.read() if e["kind"] == "scheduler.switch"]
    assert len(switches) == 1 and switches[0]["resource"] == "sdxl" and switches[0]["evicted"] == ["llm"]
    assert switches[0]["reason"] == "tool generate_image" and switches[0]["waited_for_memory_s"] > 0
    assert [s.resource for s in sched.switches] == ["sdxl"]


def test_repeated_and_nested_use_costs_nothing():
    gpu = FakeGPU()
    sched, models = make(gpu)
    for _ in range(5):
        with sched.use("llm"), sched.use("llm"):
            pass
    assert models["llm"].loads == 1 and sched.switches == []
    polls = gpu.polls
    with sched.use("llm"):
        pass
    assert gpu.polls == polls  # the fast path does not touch the device


def test_tts_coresides_but_budget_evicts_least_recently_used():
    gpu = FakeGPU()
    sched, models = make(gpu)
    with sched.use("tts"), sched.use("llm"):  # 3.5 + 11 <= 15 usable: side by side
        assert sched.resident() == ["llm", "tts"]
    with sched.use("sdxl"):  # evicts llm (exclusive); 11.5 + 3.5 = 15 still fits beside tts
        assert sched.resident() == ["sdxl", "tts"]
    tight, tight_models = make(FakeGPU(), headroom_gb=1.5)
    with tight.use("tts"):
        pass
    with tight.use("sdxl"):  # 11.5 + 3.5 > 14.4: the idle tts goes
        assert tight.resident() == ["sdxl"] and not tight_models["tts"].loaded
    assert tight.switches[-1].evicted == ["tts"]


def test_nested_exclusive_use_is_a_clear_error_and_changes_nothing():
    sched, models = make(FakeGPU())
    with sched.use("llm"):
        with pytest.raises(SchedulerError, match="in use in this process"), sched.use("sdxl"):
            pass
        assert sched.resident() == ["llm"] and models["llm"].loaded
    assert sched.in_use() == {}


def test_budget_cannot_fit_beside_models_in_use():
    sched = ResourceScheduler(profile_16gb(headroom_gb=2.0), sleep=no_sleep)
    with sched.use("tts"), pytest.raises(SchedulerError, match="does not fit"):
        with sched.use("sdxl"):  # 3.5 in use + 11.5 > 13.9
            pass


def test_memory_that_never_comes_back_times_out_with_holders():
    gpu = FakeGPU(lag_polls=0)
    clock = FakeClock()
    sched, models = make(gpu, clock=clock, timeout=2.0)
    with sched.use("llm"):
        pass
    gpu.allocate("someone-else", 4.0)  # an unmanaged program grabbed memory in between
    models["llm"].unload = lambda: None  # a model that keeps its references: nothing is freed
    with pytest.raises(SchedulerError, match="did not come back") as info, sched.use("sdxl"):
        pass
    assert "someone-else" in info.value.message and clock.now >= 2.0
    assert "sdxl" not in sched.resident()


def test_in_process_handle_drops_references():
    made = []
    handle = InProcessHandle(loader=lambda: made.append(object()) or {"weights": bytearray(1024)}, name="pipe")
    sched = ResourceScheduler()
    sched.register("sdxl", handle)
    with sched.use("sdxl"):
        assert handle.is_loaded() and handle.model["weights"]
    with sched.use("llm"):
        assert not handle.is_loaded() and handle.model is None
    with sched.use("sdxl"):
        assert handle.is_loaded() and len(made) == 2


def test_failed_load_leaves_nothing_resident():
    gpu = FakeGPU(total_gb=15.9)
    sched, models = make(gpu)
    gpu.allocate("desktop", 10.0)
    with pytest.raises(Exception, match="out of memory"), sched.use("sdxl"):
        pass
    assert sched.resident() == [] and sched.in_use() == {}


def test_cpu_only_profile_has_no_probe_and_keeps_the_rule():
    from tools.core.scheduler import create_scheduler
    from tools.core.settings import settings_from_dict

    sched = create_scheduler(settings_from_dict({"scheduler": {"profile": "cpu-only"}}))
    assert sched.probe is None and sched.ledger is None and sched.profile.name == "cpu-only"
    with sched.use("llm"):
        pass
    with sched.use("sdxl"):
        assert sched.resident() == ["sdxl"]
    assert len(sched.switches) == 1
