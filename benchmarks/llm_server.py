"""The same structured calls through llama-cpp-python's server (the `openai` backend) vs the embedded backend.

One GGUF (default: the packaged SmolLM2-135M; `--model` for an installed writer), the same prompts, the
same schema, the same threads. Server side: `python -m llama_cpp.server` on a free loopback port, called
through our openai backend (HTTP, JSON, the step-down from json_schema to json_object found once, the
schema carried in json_object so llama.cpp constrains the answer). Embedded side: the local backend
(grammar-constrained in process). Calls alternate so machine noise hits both alike; each side keeps the
fastest of its rounds per prompt. Also printed: how many answers validated on each side.

    .venv/bin/python benchmarks/llm_server.py [--rounds 2] [--model PATH.gguf]
BENCH line: ratio = server calls/s ÷ embedded calls/s, goal >= 0.8.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel, Field

from agent.llm import create_chat_model
from agent.llm.local_backend import _cpu_threads, packaged_model_path
from tests.llama_server import LlamaServer
from tools.core.settings import settings_from_dict
from tools.core.structured_output import StructuredOutputError, invoke_structured
from tools.core.trace import Trace

PROMPTS = ["A seagull steals a sandwich on the pier. Rate it.", "A robot slips on a banana in the lab. Rate it.",
           "Two knights argue about a sandwich. Rate it."]


class Gag(BaseModel):
    who: str = Field(max_length=30)
    punchline: str = Field(max_length=80)
    funny: int = Field(ge=1, le=5)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args()
    model = args.model or packaged_model_path()
    threads = _cpu_threads()
    common = {"temperature": 0.0, "max_tokens": 96}
    cache = Path(tempfile.mkdtemp(prefix="bench-llm-server-"))
    local = create_chat_model(settings_from_dict({"paths": {"cache_dir": str(cache)}, "llm": {"backend": "local", "local": {
        "model_path": str(model), "n_ctx": 2048, "n_threads": threads, "json_max_string": 80, **common}}}), None, Trace(None))
    start = time.perf_counter()
    local.handle.load()
    print(f"model {model.name}  threads={threads}  embedded load {time.perf_counter() - start:.2f}s")
    with LlamaServer(model, n_ctx=2048, n_threads=threads, log=cache / "server.log") as server:
        remote = create_chat_model(settings_from_dict({"paths": {"cache_dir": str(cache)}, "llm": {
            "backend": "openai", "openai": {"base_url": server.base_url, "timeout_s": 300, **common}}}), None, Trace(None))
        best: dict[str, dict[int, float]] = {"server": {}, "embedded": {}}
        valid = {"server": 0, "embedded": 0}
        # one warm-up each: the server's first call finds the step-down, the embedded one builds its grammar
        for side, llm in (("server", remote), ("embedded", local)):
            invoke_structured(llm, [PROMPTS[0]], Gag, retries=0)
        for r in range(args.rounds):
            for p, prompt in enumerate(PROMPTS):
                order = (("server", remote), ("embedded", local))
                for side, llm in (order if (r + p) % 2 == 0 else order[::-1]):
                    w = time.perf_counter()
                    try:
                        invoke_structured(llm, [prompt], Gag, retries=0)
                        valid[side] += 1
                    except StructuredOutputError:
                        pass
                    dw = time.perf_counter() - w
                    best[side][p] = min(best[side].get(p, dw), dw)
            print(f"round {r}: " + " | ".join(f"{s} {sum(best[s].values()):.2f}s" for s in best))
        print(f"server structured mode after the probe: {remote.structured_mode}")
    rate = {s: len(PROMPTS) / sum(best[s].values()) for s in best}
    calls = args.rounds * len(PROMPTS)
    print(f"calls/s: server={rate['server']:.3f} embedded={rate['embedded']:.3f}; "
          f"valid answers: server={valid['server']}/{calls} embedded={valid['embedded']}/{calls}")
    ratio = rate["server"] / rate["embedded"]
    print(f"BENCH llm_server: ratio={ratio:.2f} goal>=0.8 {'PASS' if ratio >= 0.8 else 'FAIL'}")


if __name__ == "__main__":
    main()
