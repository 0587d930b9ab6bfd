"""A hostile client against a live studio (httpx over a real socket, `animstudio serve`'s uvicorn),
one test per door that stood open (issue 24), and the CLI under an address-space limit as on a
shared server. Each of these failed before the fix; docs/studio.md lists what each refusal says."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.studio.conftest import live_server, studio_settings_dict, wait_for

REPO = Path(__file__).resolve().parents[2]
NOTE = "jot down two lines about foghorns"  # the quick notes workflow (scripted model)
REVIEWED = "draft a short script about foghorns for me to check"


def _tiny_video(path: Path) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
                    "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """One live studio for the module: the quick test workflows, the scripted model, a 5 MB upload
    limit, a film in the library, a non-video file beside it and a link that leads out of it."""
    from tools.core.settings import settings_from_dict

    root = tmp_path_factory.mktemp("hostile")
    data = studio_settings_dict(root, studio={"max_upload_mb": 5})
    samples = root / "samples"
    _tiny_video(samples / "harbour.mp4")
    (samples / "harbour.scenes.json").write_text('{"scenes": []}', encoding="utf-8")
    outside = root / "elsewhere"
    outside.mkdir()
    (samples / "escape.mp4").symlink_to(_tiny_video(outside / "secret.mp4"))
    with live_server(settings_from_dict(data)) as url, httpx.Client(base_url=url, timeout=60) as client:
        client.root = root
        yield client


def _finished(client: httpx.Client, run_id: str, statuses=("passed", "failed", "done", "error"), timeout=120) -> dict:
    return wait_for(client, run_id, statuses, timeout)


@pytest.fixture(scope="module")
def finished_run(studio) -> dict:
    run_id = studio.post("/runs", json={"request": NOTE, "film": "harbour.mp4"}).json()["run_id"]
    return _finished(studio, run_id)


# -- 1. run id `.` ------------------------------------------------------------------------------------
def test_run_id_dot_is_not_the_runs_folder(studio, finished_run):
    runs = studio.root / "runs"
    assert (runs / "cp.sqlite").is_file()  # every run's checkpoints: what `.` used to serve
    for run_id in ("%2e", "%2E", ".%2e"):
        answer = studio.get(f"/runs/{run_id}/files/cp.sqlite")
        assert answer.status_code == 404 and b"SQLite" not in answer.content, run_id
        assert studio.get(f"/runs/{run_id}/files/report.html").status_code == 404
    assert not (runs / "report.html").exists()  # a GET wrote nothing at the top of runs/
    assert studio.get(f"/runs/{finished_run['run_id']}/files/report.html").status_code == 200


# -- 2. JSON body size, no echo -------------------------------------------------------------------
def test_json_bodies_have_a_small_limit_and_errors_do_not_echo_the_input(studio):
    marker = "FOGHORN" * 300_000  # 2.1 MB of request text
    big = studio.post("/runs", content=json.dumps({"request": marker}), headers={"content-type": "application/json"})
    assert big.status_code == 413 and len(big.content) < 2000
    assert "studio.max_body_kb" in big.json()["detail"] and "1024 kB" in big.json()["detail"]
    long = "FOGHORN " * 600  # fits the body limit, too long for a request (4000 characters)
    refused = studio.post("/runs", json={"request": long, "film": "harbour.mp4"})
    assert refused.status_code == 422 and "FOGHORN" not in refused.text and len(refused.content) < 2000
    assert refused.json()["detail"][0]["loc"] == ["request"]
    batch = studio.post("/batches", content=("x" * 1_100_000).encode(), headers={"content-type": "application/x-ndjson"})
    assert batch.status_code == 413
    review = studio.post("/runs/nothing-here/review", json={"action": "shout", "note": long[:400]})
    assert review.status_code == 422 and "FOGHORN" not in review.text


# -- 3. deeply nested JSON ------------------------------------------------------------------------
def test_deeply_nested_json_is_a_client_error(studio):
    deep = "[" * 100_000 + "]" * 100_000
    for path, content_type in (("/runs", "application/json"), ("/batches", "application/x-ndjson"),
                               ("/runs/nothing-here/review", "application/json")):
        answer = studio.post(path, content=deep, headers={"content-type": content_type})
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        assert "Traceback" not in answer.text and len(answer.content) < 2000
    assert studio.get("/healthz").json()["ok"]


# -- 4. a stale cookie ----------------------------------------------------------------------------
def test_the_address_with_the_token_wins_over_a_stale_cookie(tmp_path):
    from tools.core.settings import settings_from_dict

    settings = settings_from_dict(studio_settings_dict(tmp_path, studio={"token": "tide-2"}))
    with live_server(settings) as url:
        stale = httpx.get(f"{url}/?token=tide-2", headers={"cookie": "animstudio_token=tide-1"})
        assert stale.status_code == 200 and "animstudio_token=tide-2" in stale.headers.get("set-cookie", "")
        again = httpx.get(f"{url}/ui/runs", headers={"cookie": "animstudio_token=tide-2"})
        assert again.status_code == 200
        assert httpx.get(f"{url}/ui/runs", headers={"cookie": "animstudio_token=tide-1"}).status_code == 401
        assert httpx.get(f"{url}/?token=tide-1").status_code == 401


# -- 6. the lower ones ----------------------------------------------------------------------------
def test_a_refused_upload_leaves_no_file(studio, tmp_path):
    film = _tiny_video(tmp_path / "my holiday.mp4")
    answer = studio.post("/runs", data={"request": NOTE, "strategy": "sideways"},
                         files={"file": ("my holiday.mp4", film.read_bytes(), "video/mp4")})
    assert answer.status_code == 422 and "strategy" in answer.text
    uploads = studio.root / "samples" / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_the_review_endpoint_refuses_unknown_fields(studio):
    run_id = studio.post("/runs", json={"request": REVIEWED, "review": True}).json()["run_id"]
    assert _finished(studio, run_id, ("awaiting_review", "error"))["status"] == "awaiting_review"
    answer = studio.post(f"/runs/{run_id}/review", json={"action": "approve", "hack": 1})
    assert answer.status_code == 422 and "hack" in answer.text
    assert studio.get(f"/runs/{run_id}").json()["status"] == "awaiting_review"  # nothing was approved
    assert studio.post(f"/runs/{run_id}/review", json={"action": "reject", "note": "not now"}).status_code == 202


def test_a_file_of_the_library_that_is_not_a_video_is_not_a_film(studio):
    answer = studio.post("/runs", json={"request": NOTE, "film": "harbour.scenes.json"})
    assert answer.status_code == 415 and "not a video" in answer.json()["detail"]


def test_the_fake_model_without_a_script_is_refused_up_front(tmp_path):
    from tools.core.settings import settings_from_dict

    data = studio_settings_dict(tmp_path, llm={"backend": "local", "fake": {"script": None}})
    with live_server(settings_from_dict(data)) as url:
        answer = httpx.post(f"{url}/runs", json={"request": NOTE, "llm": "fake"})
        assert answer.status_code == 422 and "llm.fake.script" in answer.json()["detail"]
        assert httpx.get(f"{url}/runs").json() == []  # nothing was queued


def test_a_refused_export_leaves_no_run_folder(studio):
    runs = studio.root / "runs"
    before = {p.name for p in runs.iterdir()} if runs.exists() else set()
    answers = {name: studio.post(f"/ui/datasets/{name}/export", data={"format": "kohya"})
               for name in ("no-such-dataset", "another-missing-one")}
    after = {p.name for p in runs.iterdir()} if runs.exists() else set()
    assert after == before
    for name, answer in answers.items():
        assert answer.status_code == 422 and name in answer.text
        assert str(studio.root) not in answer.text  # no server path in the message


def test_a_bare_json_string_is_not_a_run(studio):
    answer = studio.post("/runs", content=json.dumps(NOTE), headers={"content-type": "application/json"})
    assert answer.status_code == 422 and "not an object" in answer.json()["detail"]
    line = studio.post("/batches", content=json.dumps(NOTE) + "\n", headers={"content-type": "application/x-ndjson"})
    assert line.status_code == 422


def test_limit_messages_say_the_configured_size(studio):
    body = b"x" * 5_600_000  # over 5 MB, under 5 MB + the form's own allowance
    answer = studio.post("/runs", data={"request": NOTE}, files={"file": ("big.mp4", body, "video/mp4")})
    assert answer.status_code == 413 and "5 MB" in answer.text and "6 MB" not in answer.text, answer.text
    over = studio.post("/runs", data={"request": NOTE}, files={"file": ("huge.mp4", b"x" * 7_000_000, "video/mp4")})
    assert over.status_code == 413 and "5 MB (studio.max_upload_mb)" in over.json()["detail"]


def test_media_lists_no_link_leading_out_and_no_server_path(studio):
    films = studio.get("/media").json()
    assert [f["name"] for f in films] == ["harbour.mp4"]
    assert str(studio.root) not in json.dumps(films)


def test_no_server_paths_in_errors_and_results(studio, finished_run):
    root = str(studio.root)
    for film in ("../elsewhere/secret.mp4", "nowhere.mp4"):
        answer = studio.post("/runs", json={"request": NOTE, "film": film})
        assert answer.status_code == 400 and root not in answer.text, answer.text
    info = studio.get(f"/runs/{finished_run['run_id']}").json()
    assert info["film"] == "harbour.mp4" and info["result"]["final_answer"]
    assert root not in json.dumps(info)
    events = studio.get(f"/runs/{finished_run['run_id']}/events").text
    assert '"type":"result"' in events.replace(" ", "") and root not in events


# -- 5. the CLI under an address-space limit ------------------------------------------------------
@pytest.fixture(scope="module")
def cli_setup(tmp_path_factory) -> Path:
    """A config with every path below a temporary folder and a 5 s sample film."""
    from tests.conftest import isolated_settings_dict
    from tools.media.sample_film import make_sample_film

    root = tmp_path_factory.mktemp("prlimit")
    data = isolated_settings_dict(root)
    data["llm"] = {"backend": "fake", "fake": {"script": str(root / "fake.yaml")}}
    (root / "fake.yaml").write_text(yaml.safe_dump({"rules": [{"match": ".", "response": "ok"}]}))
    (root / "config.yaml").write_text(yaml.safe_dump(data))
    make_sample_film(root / "samples" / "cove.mp4", duration_s=5.0, width=160, height=96)
    return root


def _cli_under_limit(root: Path, limit_bytes: int) -> subprocess.CompletedProcess:
    animstudio = Path(sys.executable).parent / "animstudio"
    return subprocess.run(["prlimit", f"--as={limit_bytes}", str(animstudio), "run", "cut 0:01 to 0:02 of the film",
                           "--film", str(root / "samples" / "cove.mp4"), "-c", str(root / "config.yaml"), "--json"],
                          capture_output=True, text=True, timeout=300, cwd=root, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.skipif(not Path("/usr/bin/prlimit").exists(), reason="needs util-linux prlimit")
def test_a_run_under_an_address_space_limit_finishes(cli_setup):
    done = _cli_under_limit(cli_setup, 8_000_000_000)  # below the children's own 16 GB default
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["status"] == "passed" and any(a["kind"] == "video" for a in result["artifacts"])


@pytest.mark.skipif(not Path("/usr/bin/prlimit").exists(), reason="needs util-linux prlimit")
def test_a_too_small_address_space_limit_is_named(cli_setup):
    done = _cli_under_limit(cli_setup, 600_000_000)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "572 MB (ulimit -v / prlimit --as)" in done.stderr


def test_the_answer_endpoint_refuses_unknown_fields_without_echo(studio):
    answer = studio.post("/runs/nothing-here/input", json={"value": "FOGHORN " * 200, "hack": 1})
    assert answer.status_code == 422 and "hack" in answer.text and "FOGHORN" not in answer.text
