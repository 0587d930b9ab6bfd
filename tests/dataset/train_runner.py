"""A real process that trains a LoRA from a JSON TrainConfig (the kill -9 test starts and kills it)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from tools.dataset.lora_trainer import TrainConfig, train

if __name__ == "__main__":
    raw = json.loads(Path(sys.argv[1]).read_text())
    raw.update(base_model=Path(raw["base_model"]), output_dir=Path(raw["output_dir"]),
               images=[Path(p) for p in raw["images"]])
    train(TrainConfig(**raw))
