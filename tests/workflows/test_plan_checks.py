"""One argument validator and one cycle check serve workflow files, model-written plans and ordering."""
import textwrap

import pytest
from pydantic import ValidationError

from agent.planning.free_plan import static_errors
from tools.core.scheduler.ordering import order_steps
from workflows.loader import WorkflowError, load_workflow
from workflows.plan import Plan, Step, argument_errors


def test_argument_errors_name_unknown_tools_unknown_and_missing_arguments():
    assert argument_errors(Step(id="a", tool="probe_media", args={"path": "${params.film}"})) == []
    assert "Unknown tool 'probe_medai'" in argument_errors(Step(id="a", tool="probe_medai"))[0]
    problems = argument_errors(Step(id="a", tool="probe_media", args={"file": "x.mp4"}))
    assert any("has no arguments ['file']" in p for p in problems) and any("['path']" in p for p in problems)


def test_workflow_files_and_model_plans_get_the_same_verdict(tmp_path):
    bad = Step(id="look", tool="probe_media", args={"colour": "blue"})
    plan_errors = static_errors(Plan(steps=[bad]))
    path = tmp_path / "look.yaml"
    path.write_text(textwrap.dedent("""
        name: look
        description: look at a file
        steps:
          - {id: look, tool: probe_media, args: {colour: blue}}
    """), encoding="utf-8")
    with pytest.raises(WorkflowError) as info:
        load_workflow(path)
    assert plan_errors and all(e.startswith("look: ") for e in plan_errors)
    assert plan_errors[0].removeprefix("look: ") in str(info.value)


def test_plans_and_ordering_refuse_the_same_cycle():
    steps = [Step(id="a", tool="list_media", depends_on=["c"]), Step(id="b", tool="list_media", depends_on=["a"]),
             Step(id="c", tool="list_media", depends_on=["b"])]
    with pytest.raises(ValidationError, match=r"dependency cycle among \['a', 'b', 'c'\]"):
        Plan(steps=steps)
    with pytest.raises(ValueError, match=r"dependency cycle among \['a', 'b', 'c'\]"):
        order_steps(steps, lambda r: set())


def test_a_parameter_passed_to_a_fixed_set_argument_takes_the_tools_values(tmp_path):
    """The emotions and ControlNet kinds are written once, in the tools; the workflows read them from there."""
    from tools.audio.voice_shaping import default_emotions
    from tools.image.control import CONTROL_KINDS
    from workflows.loader import all_workflows

    flows = all_workflows()
    assert flows["voice_line"].parameters["emotion"].choices == list(default_emotions())
    for name in ("character_image", "text_to_image"):
        assert flows[name].parameters["control_type"].choices == list(CONTROL_KINDS)
    schema = flows["voice_line"].params_model().model_json_schema()
    assert schema["properties"]["emotion"]["enum"] == list(default_emotions())
    # a parameter that only feeds a free-text argument gets no choices
    assert flows["voice_line"].parameters["character"].choices is None
