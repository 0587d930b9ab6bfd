"""Run the parody agent in a child process (killed mid-render by test_kill_resume).

    python -m tests.parody.runner <settings.json> <film> <run_id>
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    from agent import Agent
    from agent.llm import FakeChatModel
    from tests.parody.scripted import parody_handler
    from tools.core.settings import Settings

    settings = Settings.model_validate(json.loads(Path(sys.argv[1]).read_text()))
    Agent(settings=settings, llm=FakeChatModel(handler=parody_handler())).run(
        "make a funny parody of the ocean scene", film=sys.argv[2], run_id=sys.argv[3])


if __name__ == "__main__":
    main()
