"""What small models are shown of a schema (an example object), and how schema-echoing answers are read."""
from __future__ import annotations

from pydantic import BaseModel, Field

from agent.llm import FakeChatModel
from tools.core.json_shape import example_object, unwrap_echo
from tools.core.structured_output import invoke_structured


class JudgeVerdict(BaseModel):  # the shape of a 1–5 rubric verdict, a typical small-model answer
    relevance: int = Field(ge=1, le=5)
    humour: int = Field(ge=1, le=5)
    character_consistency: int = Field(ge=1, le=5)
    issues: list[str] = Field(default_factory=list, max_length=8)
    feedback: str = ""


class Beat(BaseModel):
    speaker: str = Field(description="Who says it. One name")
    line: str = Field(max_length=60)
    pause: float | None = None


class Sketch(BaseModel):
    title: str
    beats: list[Beat]
    kind: str = Field(default="dub", json_schema_extra={"enum": ["dub", "mime"]})


def test_the_model_is_shown_an_example_object_not_the_schema():
    shown = example_object(Sketch.model_json_schema())
    assert shown.startswith('{"title": <text>, "beats": [{"speaker": <text: Who says it>')
    assert '"line": <text, at most 60 characters>' in shown and '"pause": <number>' in shown
    assert "$defs" not in shown and '"properties"' not in shown and '"type"' not in shown
    assert example_object(JudgeVerdict.model_json_schema()).startswith('{"relevance": <integer 1..5>')


def test_values_wrapped_in_the_schema_shape_are_taken_out():
    schema = JudgeVerdict.model_json_schema()
    echoed = {"type": "object", "required": ["relevance"], "properties": {
        "relevance": {"type": "integer", "minimum": 1, "maximum": 5, "value": 4},
        "humour": {"type": "integer", "default": 2}, "character_consistency": 5,
        "issues": {"type": "array", "items": {"type": "string"}}, "feedback": "fine"}}
    assert JudgeVerdict.model_validate(unwrap_echo(echoed, schema)) == JudgeVerdict(
        relevance=4, humour=2, character_consistency=5, feedback="fine")
    nested = {"properties": {"title": "T", "beats": [{"speaker": {"type": "string", "value": "Pip"}, "line": "hi"}]}}
    assert Sketch.model_validate(unwrap_echo(nested, Sketch.model_json_schema())).beats[0].speaker == "Pip"
    plain = {"relevance": 3, "humour": 3, "character_consistency": 3}
    assert unwrap_echo(plain, schema) == plain  # a good answer is left alone


def test_the_judge_reads_a_verdict_echoed_in_the_schema_shape(isolated_settings):
    from tools.quality.judge import score_script

    def echoed(topic: str, verdict: str, technique: str) -> str:  # each value wrapped in its schema
        return ('{"properties": {"topic": {"type": "string", "value": "%s"}, "verdict": {"type": "string", "enum": '
                '["something else", "in this scene"], "value": "%s"}, "technique": "%s"}}' % (topic, verdict, technique))

    llm = FakeChatModel(responses=[echoed("the tide", "in this scene", "exaggeration"),  # the line, then the controls
                                   echoed("the scene", "in this scene", "plain statement"),
                                   echoed("the scene", "in this scene", "exaggeration"),
                                   echoed("invoices", "something else", "plain statement")])
    settings = isolated_settings.model_copy(update={"llm": isolated_settings.llm.model_copy(update={"backend": "fake"})})
    report = score_script("Pip: I am the tide now.", "a deadpan parody", settings, llm)
    assert not report.skipped and report.metrics["yes"] == 2 and report.passed
    assert report.metrics["checklist"][0]["evidence"].startswith("topic 'the tide'")
    assert len(llm.calls) == 4  # every answer read on the first try, no retry spent


def test_an_answer_that_is_only_the_schema_is_still_retried():
    llm = FakeChatModel(responses=['{"type": "object", "properties": {"relevance": {"type": "integer"}}}',
                                   '{"relevance": 2, "humour": 2, "character_consistency": 2}'])
    assert invoke_structured(llm, ["judge"], JudgeVerdict).relevance == 2 and len(llm.calls) == 2
