"""needs_input: every job whose request leaves out what it needs asks for it — through the Agent API,
the CLI (--json: exit 2 with the question), the studio's HTTP API and chat — and the answer resumes
the run.

The scripted fake model fills nothing, so what the request leaves out stays out (as with the embedded
model, which is never asked to invent it). After the answer, the cheap jobs run to the end (film
facts, a clip cut by times); the others are answered and planned (`Agent.resume(plan_only=True)`):
their rendering, training and speech are covered by their own tests, and here the point is that the
answer reaches the job's parameters.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent import Agent
from agent.api import AgentInputError
from tests.conftest import isolated_settings_dict
from tests.planning.cases import DATASET, make_world

FAKE = Path(__file__).with_name("fake_asking.yaml")

# job, a request of ours that leaves its input out, given a film?, the question's kind, the answer
# ("FILM"/"REFS" stand for the sample film / the refs folder), the parameter the answer must fill.
MISSING = [
    ("parody", "turn the scene where the boat sinks into a silly dub", False, "film", "FILM", None),
    ("cut_scene", "cut out the bit where the boat sinks", False, "film", "FILM", None),
    ("subtitle_scene", "burn subtitles into the storm scene", False, "film", "FILM", None),
    ("what_is_said", "what is said in the harbour scene?", False, "film", "FILM", None),
    ("transcribe_film", "transcribe everything said in the movie", False, "film", "FILM", None),
    ("describe_scene", "describe what the harbour scene shows", False, "film", "FILM", None),
    ("analyse_film", "which scene is the brightest one?", False, "film", "FILM", None),
    ("film_facts", "what's the frame rate of the film?", False, "film", "FILM", None),
    ("cut_clip", "cut a clip starting at 0:02", True, "time", "to 0:05", "end"),
    ("movie_to_lora", "make a LoRA of Pip from this movie", True, "refs", "REFS", "refs"),
    ("voice_line", "record something in Captain Brine's voice", False, "line", "Ahoy there, crew!", "line"),
    ("train_lora", "train a LoRA on my dataset please", False, "dataset", DATASET, "name"),
    ("filter_dataset", "drop the blurry frames from my dataset", False, "dataset", DATASET, "name"),
    ("sample_lora", "render a few samples from my LoRA", False, "dataset", DATASET, "name"),
    ("character_image", "draw somebody rowing a boat", False, "choice", "Pip", "character"),
]
IDS = [m[0] for m in MISSING]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from tools.core.settings import settings_from_dict
    from tools.media.sample_film import make_sample_film

    root = tmp_path_factory.mktemp("needs_input")
    world = make_world(root / "world")
    data = isolated_settings_dict(root)
    data["paths"]["datasets_dir"] = str(world["datasets"])
    data["llm"] = {"backend": "fake", "fake": {"script": str(FAKE)}}
    (root / "samples").mkdir(exist_ok=True)
    film = make_sample_film(root / "samples" / "tiny.mp4", duration_s=8.0, width=160, height=90)
    settings = settings_from_dict(data)
    return {"settings": settings, "data": data, "film": film, "refs": world["refs"], "root": root}


def _answer(value: str, setup) -> str:
    return {"FILM": str(setup["film"]), "REFS": str(setup["refs"])}.get(value, value)


def _start(agent: Agent, job: str, request: str, with_film: bool, setup):
    return agent.run(request, film=setup["film"] if with_film else None, job=job)


@pytest.mark.parametrize("job, request_text, with_film, kind, answer, parameter", MISSING, ids=IDS)
def test_the_agent_asks_and_the_answer_reaches_the_plan(setup, job, request_text, with_film, kind, answer,
                                                          parameter):
    agent = Agent(settings=setup["settings"])
    paused = _start(agent, job, request_text, with_film, setup)
    assert paused.status == "needs_input" and paused.question["kind"] == kind, paused.final_answer
    assert paused.question["job"] == job and paused.question["question"]
    assert paused.plan.get("steps") == [] and not paused.final_answer  # no knowledge answer in its place
    assert json.loads((Path(paused.run_dir) / "question.json").read_text())["kind"] == kind
    with pytest.raises(AgentInputError, match="waits for input"):
        agent.resume(paused.run_id)  # a question needs its answer
    planned = agent.resume(paused.run_id, answer={"value": _answer(answer, setup)}, plan_only=True)
    while planned.status == "needs_input":  # e.g. train_lora: the dataset, then which character
        options = planned.question["options"]
        planned = agent.resume(planned.run_id, answer={"option": options[0]["key"]} if options
                               else {"value": "Pip"}, plan_only=True)
    assert planned.plan["workflow"] == job and planned.plan["steps"], planned.plan
    if kind == "film":
        assert planned.film == str(setup["film"])
    else:
        slot = planned.plan["slots"][parameter]
        assert slot["source"] == "answer" and slot["value"] not in (None, ""), slot


def test_an_answer_that_does_not_fit_is_refused_and_the_question_stays(setup):
    agent = Agent(settings=setup["settings"])
    paused = agent.run("train a LoRA on my dataset please", job="train_lora")
    assert [o["key"] for o in paused.question["options"]] == [DATASET]
    with pytest.raises(AgentInputError, match="no dataset 'nope'"):
        agent.resume(paused.run_id, answer={"value": "nope"})
    with pytest.raises(AgentInputError, match="pick one of"):
        agent.resume(paused.run_id, answer={"option": "nope"})
    planned = agent.resume(paused.run_id, answer={"option": DATASET}, plan_only=True)
    # harbour_set's metadata names no character: the LoRA is trained on the dataset as it is, no second question
    assert planned.status != "needs_input" and planned.plan["slots"]["character"]["value"] is None, planned.question
    assert "names no character" in planned.plan["slots"]["character"]["evidence"]


def test_answering_completes_cheap_runs(setup):
    """The answer resumes the run to its end: the film's facts from the film given in the answer; a clip
    cut from the time the request gave to the end the answer gave."""
    agent = Agent(settings=setup["settings"])
    paused = agent.run("what's the frame rate of the film?", job="film_facts")
    done = agent.resume(paused.run_id, answer={"option": paused.question["options"][0]["key"]}
                        if paused.question["options"] else {"value": str(setup["film"])})
    assert done.status in ("passed", "done") and "fps" in done.final_answer, done.final_answer
    paused = agent.run("cut a clip starting at 0:02", film=setup["film"], job="cut_clip")
    assert paused.question["kind"] == "time" and "2 s" in paused.question["question"]
    done = agent.resume(paused.run_id, answer="to 0:05")
    assert done.status in ("passed", "done"), done.final_answer
    cut = done.step_results["cut"]["args"] if "args" in done.step_results["cut"] else done.plan["steps"][0]["args"]
    assert (cut["start"], cut["end"]) == (2.0, 5.0)
    assert any(a["kind"] == "video" for a in done.artifacts)


def test_a_partial_run_is_offered_and_runs_without_the_missing_input(setup):
    agent = Agent(settings=setup["settings"])
    paused = agent.run("make a LoRA of Pip from this movie", film=setup["film"], job="movie_to_lora")
    partial = next(o for o in paused.question["options"] if o["key"] == "partial")
    assert "extract" in partial["does"]
    planned = agent.resume(paused.run_id, answer={"option": "partial"}, plan_only=True)
    assert [s["id"] for s in planned.plan["steps"]] == ["extract", "filter"]


def test_jobs_that_need_nothing_more_do_not_ask(setup):
    agent = Agent(settings=setup["settings"])
    for request_text, job in (("which films are in my media folder?", "describe_library"),
                              ("write a limerick about a sleepy octopus", "write_script")):
        preview = agent.plan(request_text)
        assert preview["question"] is None and preview["intent"]["workflow"] == job


def test_an_order_that_names_something_but_no_deliverable_asks_which_job(setup):
    preview = Agent(settings=setup["settings"]).plan("anything with Pip, please")
    assert preview["question"]["kind"] == "choice"
    offered = [o["job"] for o in preview["question"]["options"]]
    assert "character_image" in offered and "answer_knowledge" not in offered


# ---- the CLI ----------------------------------------------------------------------------------------

def _cli(setup, *args: str):
    from agent.cli.main import app

    cfg = setup["root"] / "config.yaml"
    if not cfg.exists():
        import yaml

        cfg.write_text(yaml.safe_dump(setup["data"]), encoding="utf-8")
    return CliRunner().invoke(app, [*args, "--config", str(cfg)])


@pytest.mark.parametrize("job, request_text, with_film, kind, answer, parameter", MISSING, ids=IDS)
def test_the_cli_json_exits_2_with_the_question(setup, job, request_text, with_film, kind, answer, parameter):
    args = ["run", request_text, "--json", "--job", job] + (["--film", str(setup["film"])] if with_film else [])
    out = _cli(setup, *args)
    assert out.exit_code == 2, out.output
    data = json.loads(out.stdout)
    assert data["status"] == "needs_input" and data["question"]["kind"] == kind and data["question"]["job"] == job


def test_the_cli_answer_command_resumes_the_run(setup):
    out = _cli(setup, "run", "what's the frame rate of the film?", "--json", "--job", "film_facts")
    run_id = json.loads(out.stdout)["run_id"]
    done = _cli(setup, "answer", run_id, str(setup["film"]), "--json")
    assert done.exit_code == 0, done.output
    assert "fps" in json.loads(done.stdout)["final_answer"]
    again = _cli(setup, "answer", run_id, "x")
    assert again.exit_code == 2 and "not waiting for input" in again.output


# ---- chat -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("job, request_text, with_film, kind, answer, parameter", MISSING, ids=IDS)
def test_chat_asks_the_same_question(setup, job, request_text, with_film, kind, answer, parameter):
    from rich.console import Console

    from agent.cli.chat import ChatSession

    asked: list[str] = []
    console = Console(record=True, width=160)
    chat = ChatSession(setup["settings"], film=setup["film"] if with_film else None, console=console,
                       ask=lambda prompt: asked.append(prompt) or "")  # Enter: leave it waiting
    chat.agent.run = _forcing(chat.agent.run, job)
    chat.handle(request_text)
    shown = console.export_text()
    assert asked and f"needs input ({kind})" in shown and "waits for input" in shown


def _forcing(run, job):
    def forced(*args, **kwargs):
        return run(*args, **{**kwargs, "job": job})
    return forced


def test_chat_answer_completes_the_run_and_keeps_the_film(setup):
    from rich.console import Console

    from agent.cli.chat import ChatSession

    replies = iter([str(setup["film"])])
    console = Console(record=True, width=160)
    chat = ChatSession(setup["settings"], console=console, ask=lambda prompt: next(replies))
    chat.handle("what's the frame rate of the film?")
    assert chat.last.status in ("passed", "done") and "fps" in chat.last.final_answer
    assert chat.film == setup["film"]  # the film given in the answer stays for the next requests


def test_a_dataset_of_one_character_names_it_of_several_offers_them_and_of_none_is_the_subject(setup, tmp_path):
    from tools.core.settings import settings_from_dict

    data = json.loads(json.dumps(setup["data"]))
    data["paths"]["datasets_dir"] = str(tmp_path)
    for name, cast in (("solo_set", {"Pip": {}}), ("duo_set", {"Pip": {}, "Gull": {}})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metadata.json").write_text(json.dumps({"name": name, "characters": cast}))
    agent = Agent(settings=settings_from_dict(data))
    solo = agent.plan("train a LoRA on solo_set", job="train_lora")
    assert solo["question"] is None and solo["plan"]["slots"]["character"]["value"] == "Pip"
    duo = agent.plan("train a LoRA on duo_set", job="train_lora")
    assert duo["question"]["kind"] == "choice" and [o["key"] for o in duo["question"]["options"]] == ["Gull", "Pip"]
    chosen = agent.plan("train a LoRA of Gull on duo_set", job="train_lora")
    assert chosen["question"] is None and chosen["plan"]["slots"]["character"]["value"] == "Gull"
    (tmp_path / "crowd_set").mkdir()
    (tmp_path / "crowd_set" / "metadata.json").write_text(json.dumps({"name": "crowd_set"}))
    for job in ("train_lora", "sample_lora"):  # a dataset that names no character is the subject itself
        whole = agent.plan("show me what the crowd_set LoRA makes" if job == "sample_lora"
                           else "train a LoRA on crowd_set", job=job)
        assert whole["question"] is None and whole["plan"]["slots"]["character"]["value"] is None, whole["question"]
        assert all(s["args"].get("character") is None for s in whole["plan"]["steps"])


# ---- the studio's HTTP API --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(setup):
    from fastapi.testclient import TestClient

    from agent.studio import create_app
    from tools.core.settings import settings_from_dict

    data = json.loads(json.dumps(setup["data"]))
    data["studio"] = {"queue_db": str(setup["root"] / "studio.sqlite")}
    with TestClient(create_app(settings_from_dict(data)), base_url="http://127.0.0.1") as c:
        yield c


def _wait(client, run_id: str, statuses: tuple[str, ...], timeout: float = 120) -> dict:
    import time

    deadline = time.time() + timeout
    info = {}
    while time.time() < deadline:
        info = client.get(f"/runs/{run_id}").json()
        if info["status"] in statuses:
            return info
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} stayed {info.get('status')}, expected one of {statuses}")


@pytest.mark.parametrize("job, request_text, with_film, kind, answer, parameter", MISSING, ids=IDS)
def test_the_http_api_reports_needs_input_and_takes_the_answer(client, setup, job, request_text, with_film, kind,
                                                               answer, parameter):
    if job == "character_image":  # a preset named, no deliverable said: which job? (no --job over HTTP)
        request_text = "something with Pip, please"
    body = {"request": request_text, **({"film": setup["film"].name} if with_film else {})}
    run_id = client.post("/runs", json=body).json()["run_id"]
    info = _wait(client, run_id, ("needs_input", "passed", "done", "failed", "refused", "error"))
    assert info["status"] == "needs_input", info
    question = info["pending_review"]
    assert question["kind"] == kind and question["job"] == job and question["question"]
    wrong = {"option": "no-such-option"}
    refused = client.post(f"/runs/{run_id}/input", json=wrong)
    assert refused.status_code == 422 and "pick one of" in refused.text
    assert client.get(f"/runs/{run_id}").json()["status"] == "needs_input"  # a wrong answer loses nothing


def test_an_http_answer_completes_the_run(client, setup):
    run_id = client.post("/runs", json={"request": "what's the frame rate of the film?"}).json()["run_id"]
    question = _wait(client, run_id, ("needs_input",))["pending_review"]
    film_option = next(o["key"] for o in question["options"] if o["label"] == setup["film"].name)
    assert client.post(f"/runs/{run_id}/input", json={"option": film_option}).status_code == 202
    done = _wait(client, run_id, ("passed", "done", "failed", "error", "needs_input"))
    assert done["status"] in ("passed", "done") and "fps" in done["result"]["final_answer"], done
    assert client.post(f"/runs/{run_id}/input", json={"value": "x"}).status_code == 409
