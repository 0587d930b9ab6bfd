"""find_scene ranks the intended scene first; scenes reach the knowledge base; VLM captions are used."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tools.core.registry import invoke
from tools.video.models import SceneSearchResult


@pytest.fixture(scope="module")
def shared_ctx(tmp_path_factory, film_dir: Path):
    """One context for the ranking queries: the analysis and description vectors are cached once."""
    from tools.core.context import make_context
    from tools.core.settings import settings_from_dict
    from tools.core.workspace import Workspace

    tmp = tmp_path_factory.mktemp("find")
    settings = settings_from_dict({"paths": {"cache_dir": str(tmp / "cache")}})
    return make_context(settings, Workspace(tmp / "run", media_roots=[film_dir]))


@pytest.mark.parametrize("query, expected", [
    ("the ocean scene", 0), ("sea", 0), ("beach", 0), ("underwater", 0),
    ("forest", 1), ("trees in the woods", 1), ("night town", 2), ("sunset", 3),
])
def test_plain_words_find_the_intended_scene(shared_ctx, film: Path, query: str, expected: int) -> None:
    out = invoke("find_scene", {"film": str(film), "query": query, "top_k": 2}, shared_ctx)
    assert out.ok, out.error
    result = SceneSearchResult.model_validate(out.result)
    assert result.matches[0].scene.index == expected, result.summary()
    assert result.matches[0].score > result.matches[1].score
    assert any(a.path == result.matches[0].scene.keyframe for a in result.artifacts)


class _Store:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []

    def add_documents(self, kind: str, docs: list[dict[str, Any]]) -> int:
        self.calls.append((kind, docs))
        return len(docs)

    def search(self, query: str, k: int = 5, filters: dict[str, Any] | None = None) -> list[Any]:
        return []


def test_scenes_are_pushed_to_the_knowledge_base(ctx, film: Path) -> None:
    ctx.knowledge = _Store()
    assert invoke("find_scene", {"film": str(film), "query": "ocean"}, ctx).ok
    kind, docs = ctx.knowledge.calls[0]
    assert kind == "scenes" and len(docs) == 4
    assert docs[0]["metadata"]["film"] == film.name and "ocean" in docs[0]["text"]


def test_empty_query_is_rejected(ctx, film: Path) -> None:
    out = invoke("find_scene", {"film": str(film), "query": "  "}, ctx)
    assert not out.ok and "empty" in out.error


class _VisionServer(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _VisionServer.requests.append(body)
        reply = {"choices": [{"message": {"role": "assistant", "content": "Two kids splash in the harbour."}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def test_vlm_captions_through_an_openai_compatible_endpoint(ctx, film: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _VisionServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ctx.settings.video.vlm_base_url = f"http://127.0.0.1:{server.server_port}/v1"
        ctx.settings.video.vlm_model = "tiny-vlm"
        out = invoke("detect_scenes", {"film": str(film)}, ctx)
    finally:
        server.shutdown()
    assert out.ok, out.error
    assert all(s["description"].startswith("Two kids splash") for s in out.result["scenes"])
    assert "ocean" in out.result["scenes"][0]["description"]  # descriptor words are kept
    content = _VisionServer.requests[0]["messages"][0]["content"]
    assert _VisionServer.requests[0]["model"] == "tiny-vlm"
    assert content[1]["image_url"]["url"].startswith("data:image/jpeg;base64,/9j/")


def test_unreachable_vlm_is_a_clear_error(ctx, film: Path) -> None:
    ctx.settings.video.vlm_base_url = "http://127.0.0.1:9/v1"
    out = invoke("detect_scenes", {"film": str(film)}, ctx)
    assert not out.ok and "unreachable" in out.error and "vlm_base_url" in out.hint


def test_the_shipped_sample_film_ranks_its_scenes(shared_ctx, tmp_path_factory) -> None:
    """The project's own film (tools.media.sample_film): cuts match its ground truth, words find scenes."""
    from tools.media.sample_film import load_truth, make_sample_film

    film = make_sample_film(tmp_path_factory.mktemp("sample") / "tide.mp4", duration_s=10, width=192, height=108,
                            fps=12)
    truth = load_truth(film)
    shared_ctx.workspace.allow_file(film)
    scenes = invoke("detect_scenes", {"film": str(film)}, shared_ctx).result["scenes"]
    assert [round(s["start"], 2) for s in scenes] == [round(t.start, 2) for t in truth.scenes]
    names = {t.index: t.name for t in truth.scenes}
    for query, expected in [("the ocean scene", "ocean"), ("forest", "forest"), ("night town", "night_harbour"),
                            ("sunset", "sunset_beach")]:
        out = invoke("find_scene", {"film": str(film), "query": query, "top_k": 1}, shared_ctx)
        assert names[out.result["matches"][0]["scene"]["index"]] == expected, (query, out.summary)
