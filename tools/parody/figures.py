"""The comedy figures of a written parody script, measured by the gate's comedy check (tools/quality/comedy.py)
on the script's own timing: voiced lines, speech share of the parody, share of lines naming a fact of the
scene, long gaps with a beat left without a line or gag. Used by the comedy test and benchmarks/comedy.py."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from tools.core.context import ToolContext
from tools.parody.models import TITLE_CARD_S, ParodyScript, SceneRef
from tools.parody.score import comedy_input
from tools.quality.comedy import FACT_SHARE, SPEECH_SHARE, score_comedy


class Figures(BaseModel):
    lines: int
    speech_share: float
    fact_share: float
    beat_gaps_missed: int
    repeated: int
    meets: bool  # ≥ 4 lines, speech ≥ 35 %, ≥ half the lines name a fact, no long beat gap left empty


def figures(ctx: ToolContext, film: Path | None, scene: SceneRef, script: ParodyScript, footage: float,
            request: str = "") -> Figures:
    length = footage + TITLE_CARD_S
    lines = [(l.text, l.start + TITLE_CARD_S, l.end + TITLE_CARD_S) for l in script.lines]
    data = comedy_input(ctx, film, scene, length, script.effects, [t for t, _, _ in lines], request)
    data.gags = [e.at + TITLE_CARD_S for e in script.effects]
    m = score_comedy(lines, data).metrics
    ok = (m["lines"] >= 4 and m["speech_share"] >= SPEECH_SHARE and m["fact_share"] >= FACT_SHARE
          and m["beat_gaps_missed"] == 0)
    return Figures(lines=m["lines"], speech_share=m["speech_share"], fact_share=m["fact_share"],
                   beat_gaps_missed=m["beat_gaps_missed"], repeated=m["repeated"], meets=ok)
