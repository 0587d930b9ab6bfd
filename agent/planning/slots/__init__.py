"""Slots: the values a plan needs, taken from the request first, with their provenance.

`extract_slots` reads the request deterministically (English and Italian, no model needed);
`resolve_slots` merges it with the model's filling, past runs and workflow defaults under fixed
rules (a stated value is never replaced; past runs only supply style; no default names a scene).
Other jobs add their own slot kinds with `register_rule` and a validator in `MODEL_CHECKS`.
"""
from agent.planning.slots import jobs as _jobs  # noqa: F401  (registers the one-step jobs' rules)
from agent.planning.slots.extract import extract_slots, register_rule, scene_answer_phrase
from agent.planning.slots.models import RequestSlots, SlotSource, SlotValue
from agent.planning.slots.names import known_names
from agent.planning.slots.resolve import MODEL_CHECKS, STYLE_KINDS, resolve_slots

__all__ = ["MODEL_CHECKS", "scene_answer_phrase", "RequestSlots", "STYLE_KINDS", "SlotSource", "SlotValue", "extract_slots",
           "known_names", "register_rule", "resolve_slots"]
