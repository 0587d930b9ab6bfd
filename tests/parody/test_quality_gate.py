"""The quality gate on a labelled set: good parodies pass, each broken kind fails with the blame that
routes the repair to the right step. Built with the project's own tools from a 24 s sample film and,
when present, the Sintel trailer (tests/quality/labelled.py has the kinds)."""
from __future__ import annotations

import pytest

from tests.parody.conftest import parody_settings_dict, sintel_trailer
from tests.quality.labelled import BROKEN_KINDS, EXPECTED, FilmCase, build, caught, score

pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")
SINTEL_KINDS = ("good", "wrong_scene", "other_words", "walk_through")


def _labelled(case: FilmCase, kinds, chroma, root):
    from rag import open_knowledge_base
    from rag.ingest import ingest_default_knowledge
    from tools.core.settings import settings_from_dict

    settings = settings_from_dict(parody_settings_dict(root, chroma, quality={"min_height": 180}))
    kb = open_knowledge_base(settings)
    ingest_default_knowledge(kb, settings)
    return {item.kind: score(item, settings, kb) for item in build(case, settings, root / "out", kb, kinds)}


@pytest.fixture(scope="module")
def sample_set(long_film, shared_chroma, tmp_path_factory):
    # Scenes of the 24 s film: 0 title, 1 ocean, 2 forest, 3 harbour ("sea at night"), 4 sunset beach.
    case = FilmCase(name="sample", film=long_film, request="turn the blue sea with its rolling waves into a sitcom",
                    scene=1, other=2, footage_s=5.0, short_scene=2, walk_s=12.0,
                    short_request="spoof the bit among the green trees and grass")
    return _labelled(case, ("good", *BROKEN_KINDS), shared_chroma, tmp_path_factory.mktemp("labelled sample"))


@pytest.fixture(scope="module")
def sintel_set(shared_chroma, tmp_path_factory):
    film = sintel_trailer()
    if film is None:
        pytest.skip("../shared/films/sintel_trailer.mp4 is not here")
    case = FilmCase(name="sintel", film=film, request="make fun of the calm gray shot", scene=1, other=10,
                    footage_s=7.0, short_scene=6, walk_s=10.0, short_request="spoof the night town with lit windows")
    return _labelled(case, SINTEL_KINDS, shared_chroma, tmp_path_factory.mktemp("labelled sintel"))


def test_the_good_parody_passes_and_every_scorer_ran(sample_set):
    verdict = sample_set["good"].verdict
    assert verdict["passed"], verdict["reasons"]
    ran = {r["scorer"] for r in verdict["reports"] if not r["skipped"]}
    assert {"video", "audio", "speech", "subtitles", "burned_subtitles", "scene_fit", "request_fit"} <= ran
    judge = next(r for r in verdict["reports"] if r["scorer"] == "script")
    assert judge["skipped"] and "too small" in judge["reasons"][0]  # the embedded model does not judge


@pytest.mark.parametrize("kind", BROKEN_KINDS)
def test_each_broken_kind_fails_with_its_blame(sample_set, kind):
    item = sample_set[kind]
    scorer, blame = EXPECTED[kind]
    failing = {r["scorer"]: r["reasons"] for r in item.verdict["reports"] if not r["passed"]}
    assert caught(item), (kind, item.verdict["blame"], failing)
    # The other scorers do not blame what is fine: a broken voice is not the scene's fault and so on.
    assert item.verdict["blame"] == [blame], failing


@pytest.mark.parametrize("kind", SINTEL_KINDS)
def test_the_gate_on_a_real_film(sintel_set, kind):
    item = sintel_set[kind]
    if kind == "good":
        assert item.verdict["passed"], item.verdict["reasons"]
    else:
        assert caught(item), (kind, item.verdict["blame"], item.verdict["reasons"])
