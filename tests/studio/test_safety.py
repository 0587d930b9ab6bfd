"""Bad input gets a clear answer and loses nothing: uploads, paths, unknown runs, tokens, origins."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.studio import create_app
from agent.studio.security import effective_token
from tests.studio.conftest import wait_for


@pytest.fixture
def small_upload_client(studio_settings):
    with TestClient(create_app(studio_settings(studio={"max_upload_mb": 0.2})), base_url="http://127.0.0.1") as c:
        c.uploads = c.app.state.studio.media_roots[0] / "uploads"
        yield c


def _tiny_video(path):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def test_uploads_are_limited_probed_and_kept_in_the_library(small_upload_client, tmp_path):
    c = small_upload_client
    big = c.post("/runs", data={"request": "jot down a note about lighthouses"},
                 files={"file": ("huge film.mp4", os.urandom(400_000), "video/mp4")})
    assert big.status_code == 413 and "studio.max_upload_mb" in big.json()["detail"]
    huge = c.post("/runs", data={"request": "jot down a note about lighthouses"},
                  files={"file": ("huge.mp4", bytes(1_500_000), "video/mp4")})
    assert huge.status_code == 413  # refused from its Content-Length, before the body is read
    fake = c.post("/runs", data={"request": "jot down a note about lighthouses"},
                  files={"file": ("holiday.mp4", b"this is not a video at all\n" * 50, "video/mp4")})
    assert fake.status_code == 415 and "not a readable video" in fake.json()["detail"]
    script = c.post("/runs", data={"request": "jot down a note about lighthouses"},
                    files={"file": ("run.sh", b"#!/bin/sh\n", "text/x-sh")})
    assert script.status_code == 415
    assert not c.uploads.exists() or not any(c.uploads.iterdir())  # nothing half-written was left behind

    film = _tiny_video(tmp_path / "clip.mp4")
    ok = c.post("/runs", data={"request": "jot down a note about lighthouses", "review": "off"},
                files={"file": ("../../Mon film d'été.mp4", film.read_bytes(), "video/mp4")})
    assert ok.status_code == 202, ok.text
    stored = c.uploads / "Mon film d'été.mp4"
    assert stored.is_file() and stored.read_bytes() == film.read_bytes()
    assert c.get(f"/runs/{ok.json()['run_id']}").json()["film"] == "uploads/Mon film d'été.mp4"  # no server path
    assert "uploads/Mon film d'été.mp4" in [f["name"] for f in c.get("/media").json()]
    wait_for(c, ok.json()["run_id"], ("passed", "error"))


def test_paths_from_clients_stay_inside_their_roots(client, tmp_path):
    outside = _tiny_video(tmp_path / "outside.mp4")
    for film in ("../outside.mp4", str(outside), "/etc/passwd", "samples/../../outside.mp4"):
        answer = client.post("/runs", json={"request": "jot down a note about lighthouses", "film": film})
        assert answer.status_code == 400 and "media library" in answer.json()["detail"], film
    run_id = client.post("/runs", json={"request": "jot down a note about lighthouses"}).json()["run_id"]
    wait_for(client, run_id, ("passed", "error"))
    for path in ("../settings.json", "..%2F..%2Fstudio.sqlite", "%2Fetc%2Fpasswd"):
        assert client.get(f"/runs/{run_id}/files/{path}").status_code in (403, 404), path
    assert client.get(f"/runs/{run_id}/files/settings.json").status_code == 200  # inside is fine
    assert client.get("/runs/..%2F..%2Fetc/files/passwd").status_code == 404


def test_unknown_runs_are_404_everywhere(client):
    for method, path in (("get", "/runs/no-such-run"), ("get", "/runs/no-such-run/events"),
                         ("post", "/runs/no-such-run/resume"), ("get", "/ui/runs/no-such-run")):
        answer = getattr(client, method)(path)
        assert answer.status_code == 404 and "no-such-run" in answer.text, path
    assert client.post("/runs/no-such-run/review", json={"action": "approve"}).status_code == 404


def test_a_token_is_required_when_configured(studio_settings):
    app = create_app(studio_settings(studio={"token": "tide-7"}))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert c.get("/runs").status_code == 401
        assert c.get("/runs", headers={"Authorization": "Bearer tide-8"}).status_code == 401
        assert c.get("/runs", headers={"Authorization": "Bearer tide-7"}).status_code == 200
        assert c.get("/healthz").status_code == 200 and c.get("/static/htmx.min.js").status_code == 200
        first = c.get("/?token=tide-7")  # the address `animstudio serve` prints
        assert first.status_code == 200 and "HttpOnly" in first.headers["set-cookie"]
        assert c.get("/ui/runs").status_code == 200  # the cookie carries it from now on


def test_other_addresses_need_a_token_and_loopback_checks_the_host(studio_settings):
    settings = studio_settings()
    with pytest.raises(ValueError, match="token"):
        create_app(settings, host="0.0.0.0", token="")
    token, generated = effective_token("0.0.0.0", None)
    assert generated and len(token) >= 24 and effective_token("127.0.0.1", None) == (None, False)
    with TestClient(create_app(settings, host="0.0.0.0", token=token), base_url="http://192.0.2.5") as c:
        assert c.get("/runs").status_code == 401
        assert c.get("/runs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with TestClient(create_app(settings), base_url="http://attacker.example") as c:
        assert c.get("/runs").status_code == 400  # DNS rebinding: a foreign Host on a loopback studio


def test_pages_of_other_origins_cannot_start_runs(client):
    evil = client.post("/runs", json={"request": "jot down a note about lighthouses"},
                       headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and "studio.cors_origins" in evil.json()["detail"]
    assert "access-control-allow-origin" not in client.get("/runs", headers={"Origin": "http://evil.example"}).headers
    same = client.post("/runs", json={"request": "jot down a note about lighthouses"},
                       headers={"Origin": "http://127.0.0.1"})
    assert same.status_code == 202
    wait_for(client, same.json()["run_id"], ("passed", "error"))


ROOT = Path(__file__).resolve().parents[2]
SINTEL = next((d / "shared" / "films" / "sintel_trailer.mp4" for d in (ROOT.parent, ROOT.parent.parent)
               if (d / "shared" / "films" / "sintel_trailer.mp4").exists()), ROOT.parent / "shared" / "films" / "x")


@pytest.mark.skipif(not SINTEL.exists(), reason="the real film ../shared/films/sintel_trailer.mp4 is absent")
def test_a_real_film_uploads_and_is_offered_in_the_library(client):
    sent = client.post("/ui/runs", data={"request": "jot down a note about the dragon", "review": "on"},
                       files={"file": ("Sintel trailer (CC BY).mp4", SINTEL.read_bytes(), "video/mp4")},
                       follow_redirects=False)
    assert sent.status_code == 303
    stored = client.app.state.studio.media_roots[0] / "uploads" / "Sintel trailer (CC BY).mp4"
    assert stored.stat().st_size == SINTEL.stat().st_size
    assert "uploads/Sintel trailer (CC BY).mp4" in client.get("/").text
    wait_for(client, sent.headers["location"].rsplit("/", 1)[-1], ("passed", "error"))
