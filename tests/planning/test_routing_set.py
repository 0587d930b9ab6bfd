"""Routing by job on the planning test set (requests.yaml), the way the embedded model routes: rules only."""
from __future__ import annotations

from collections import defaultdict

import pytest

from agent.planning.routing.reading import presets
from agent.planning.routing.signals import request_signals
from agent.planning.slots import extract_slots
from tests.planning.cases import DATASET, case_inputs, load_cases
from tools.core.settings import settings_from_dict
from workflows import all_workflows

CASES = load_cases()
PRESETS = presets(settings_from_dict({}))


def route_of(router, request: str, film: bool, inputs=()):
    slots = extract_slots(request, presets=PRESETS, datasets=[DATASET])
    return router.route(request, request_signals(request, slots, film_given=film, inputs=list(inputs)))


def test_the_set_covers_every_job_in_english_and_italian_with_and_without_a_film():
    assert len(CASES) >= 80
    shipped = set(all_workflows())
    by_job: dict[str, set] = defaultdict(set)
    for case in CASES:
        assert case.job in shipped, case.request
        by_job[case.job] |= {("film" if case.film else "no film"), case.lang}
    assert set(by_job) == shipped  # every job has requests
    for job, kinds in by_job.items():
        assert {"film", "no film", "en", "it"} <= kinds, f"{job} lacks {({'film', 'no film', 'en', 'it'} - kinds)}"
    examples = {e.lower() for wf in all_workflows().values() for e in wf.examples}
    assert not [c.request for c in CASES if c.request.lower() in examples]  # words of our own


def test_every_request_of_the_set_routes_to_its_job(router, world):
    router.prime([c.request for c in CASES])
    wrong = []
    for case in CASES:
        route = route_of(router, case.request, case.film, case_inputs(case, world))
        if route.jobs != case.expect and not (case.ask == "choice" and route.method == "fallback"):
            wrong.append(f"{case.request!r}: {route.jobs} (expected {case.expect}; {route.matched[:4]})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("request_text, inputs, job", [
    ("draw Luca as a sea monster surfing a giant wave, Pixar style", [], "character_image"),
    ("generate three images of Alberto on a Vespa at sunset", [], "character_image"),
    ("say 'Silenzio, Bruno!' in Alberto's voice", [], "voice_line"),
    ("how many scenes are in this film and which one is the darkest?", [], "analyse_film"),
    ("add subtitles and a narrator voice-over to the opening scene", [], "subtitle_scene"),
    ("what's the latest Pixar film announced this year?", [], "answer_web"),
    ("create a pose-guided image of Giulia copying the pose in this reference picture", ["picture"], "character_image"),
])
def test_creative_requests_are_not_planned_as_a_parody_or_a_dataset(router, world, request_text, inputs, job):
    route = route_of(router, request_text, film=True, inputs=[world[i] for i in inputs])
    assert route.workflow == job, route.matched


def test_the_route_says_why_and_unclaimed_requests_are_answered_from_knowledge(router):
    route = route_of(router, "cut from 0:12 to 0:27", film=True)
    assert route.workflow == "cut_clip" and "signal:time_range+2.5" in route.matched
    assert route.candidates[0] == "cut_clip" and route.confidence > 0.5
    hello = route_of(router, "hello there", film=False)
    assert hello.workflow == "answer_knowledge" and hello.method == "fallback"


def test_a_film_decides_between_describing_the_film_and_the_knowledge(router):
    assert route_of(router, "how many scenes does it have?", film=True).workflow == "analyse_film"
    assert route_of(router, "who is Massimo?", film=True).workflow == "answer_knowledge"


def test_a_user_workflow_without_cues_is_routed_by_its_description():
    from agent.planning.routing.router import Router
    from tools.core.embeddings import get_embedder
    from tools.core.registry import all_tools
    from workflows import Workflow

    mine = Workflow.model_validate({"name": "tide_tables", "description": "print the tide table of a harbour for a day",
                                    "steps": [{"id": "list", "tool": "list_media"}]})
    flows = {**all_workflows(), "tide_tables": mine}
    router = Router(get_embedder(settings_from_dict({})), flows, all_tools(), min_similarity=0.4)
    assert router.route("print today's tide table for the harbour", {}).workflow == "tide_tables"
    assert router.route("paint a lighthouse in a storm", {}).workflow == "text_to_image"


def test_the_arguments_a_request_states_reach_its_tool(world):
    """Slots → the job's parameters → the step's arguments, without any model (as the embedded model plans)."""
    from agent.planning.filling import input_for
    from agent.planning.slots import resolve_slots
    from tests.planning.cases import judge

    flows = all_workflows()
    wrong = []
    for case in [c for c in CASES if c.args and len(c.expect) == 1 and not c.ask]:
        wf = flows[case.job]
        stated = extract_slots(case.request, presets=PRESETS, datasets=[DATASET])
        inputs = [str(p) for p in case_inputs(case, world)]
        run_values = {n: "film.mp4" for n, p in wf.parameters.items() if p.source == "film" and case.film}
        run_values |= {n: input_for(inputs, p.input_kind) for n, p in wf.parameters.items()
                       if p.source == "input" and input_for(inputs, p.input_kind)}
        run_values |= {n: case.request for n, p in wf.parameters.items() if p.source == "request"}
        values = resolve_slots(wf.parameters, stated, run_values=run_values)
        plan = wf.instantiate({k: v.value for k, v in values.items()})
        ok, why = judge(case, case.job, plan.model_dump(mode="json"))
        if not ok:
            wrong.append(f"{case.request!r}: {why}")
    assert not wrong, "\n".join(wrong)


def test_times_and_datasets_come_only_from_the_request():
    from agent.planning.slots import resolve_slots

    wf = all_workflows()["cut_clip"]
    silent = extract_slots("cut a clip please")
    values = resolve_slots(wf.parameters, silent, model={"start": 3.0, "end": 9.0})
    assert values["start"].value is None and "only the request" in values["start"].note
    stated = extract_slots("cut a clip from 1:02.5 to 1:10")
    assert (stated.value("start_s"), stated.value("end_s")) == (62.5, 70.0)
    count = resolve_slots(all_workflows()["text_to_image"].parameters, extract_slots("draw a boat"),
                          model={"count": 40})["count"]
    assert count.source == "default" and "outside 1–16" in count.note  # a model's absurd count is refused
