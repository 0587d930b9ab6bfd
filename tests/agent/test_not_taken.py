"""What a run that could not ask says it did not take: the other reading, a close second scene — once."""
from __future__ import annotations

from agent.nodes.finish import not_taken
from workflows.plan import Plan


def _found(index: int, start: float, ambiguous: bool = True) -> dict:
    return {"result": {"ambiguous": ambiguous, "runner_up": {"scene": {"index": index, "start": start}}}}


def test_a_close_second_scene_is_named_once_with_the_words_that_take_it():
    plan = Plan(other_readings=["a picture of the scene: `animstudio run --job text_to_image …`"])
    state = {"step_results": {"find": _found(5, 77.5), "subtitle_find": _found(5, 77.5), "sure": _found(2, 3.0, False)}}
    notes = not_taken(state, plan)
    assert notes[0].startswith("I read this one way") and "text_to_image" in notes[0]
    unsure = [n for n in notes if "unsure" in n]
    assert len(unsure) == 1 and "scene #5" in unsure[0] and '"the scene at 1:17.5"' in unsure[0]
    # A different close scene found by another step is its own note; a reviewed run was asked, so says nothing.
    state["step_results"]["other"] = _found(7, 12.0)
    assert len([n for n in not_taken(state, plan) if "unsure" in n]) == 2
    assert not [n for n in not_taken({**state, "reviews": [{"step": "find"}]}, plan) if "unsure" in n]
