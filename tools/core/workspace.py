"""Run workspace and the path sandbox for untrusted (LLM-provided) paths."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

from tools.core.types import ToolError


def new_run_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


def run_folder(runs_dir: Path, run_id: str) -> Path:
    """`runs_dir/run_id` for a well-formed id; anything that could name another folder is refused."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id) or ".." in run_id:
        raise ToolError(f"Invalid run id {run_id!r}", "use letters, digits, '-', '_' and '.' (no '/' or '..')")
    return Path(runs_dir) / run_id


class Workspace:
    """`runs/<run_id>/`: every output of a run lives below `root`.

    Reads may also come from configured media roots and from files the user named for this run
    (`allow_file`); writes only inside the workspace. Symlinks are resolved before checking, so a
    link pointing outside is rejected like `../`.
    """

    def __init__(self, root: Path, media_roots: list[Path] | None = None):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.media_roots = [Path(p).resolve() for p in (media_roots or [])]
        self._user_files: set[Path] = set()

    @classmethod
    def create(cls, runs_dir: Path, run_id: str | None = None, media_roots: list[Path] | None = None, *,
               new: bool = False) -> "Workspace":
        """The workspace of run `run_id`. With `new`, the folder must not exist yet: a new run never
        writes into an earlier run's folder (resuming is the only way back in)."""
        root = run_folder(runs_dir, run_id or new_run_id())
        if new:
            root.parent.mkdir(parents=True, exist_ok=True)
            try:
                root.mkdir()  # atomic: two runs racing for one id cannot both get it
            except FileExistsError:
                raise ToolError(f"Run id {root.name!r} is already taken by an earlier run in {root.parent}",
                                f"choose another --run-id, or continue that run with --resume {root.name}") from None
        return cls(root, media_roots)

    @property
    def run_id(self) -> str:
        return self.root.name

    def allow_file(self, path: Path | str) -> Path:
        """Mark a file the user named (e.g. --film) as readable for this run."""
        resolved = Path(path).expanduser().resolve()
        self._user_files.add(resolved)
        return resolved

    @property
    def user_files(self) -> list[Path]:
        return sorted(self._user_files)

    def _candidate(self, path: Path | str) -> Path:
        text = str(path)
        if not text.strip():
            raise ToolError("Empty path", "give a file name inside the run workspace or a media root")
        if "\x00" in text:
            raise ToolError("Path contains a NUL byte", "give a plain file name")
        p = Path(text).expanduser()
        return (p if p.is_absolute() else self.root / p).resolve()

    def resolve_input(self, path: Path | str, *, must_exist: bool = True) -> Path:
        """Resolve a path to read: inside the workspace, a media root, or a user-named file."""
        raw = Path(str(path)).expanduser()
        resolved = raw.resolve() if raw.is_absolute() else self._candidate(path)
        # Relative names are also tried against media roots (e.g. "luca.mp4" in the film library).
        if not raw.is_absolute() and not resolved.exists():
            resolved = find_in_media_roots(raw, self.media_roots) or resolved
        allowed = (
            _inside(resolved, self.root)
            or any(_inside(resolved, r) for r in self.media_roots)
            or resolved in self._user_files
        )
        if not allowed:
            raise ToolError(
                f"Path {str(path)!r} is outside the run workspace and the media roots",
                "use a file inside the run folder, under paths.media_roots, or pass it with --film",
            )
        if must_exist and not resolved.exists():
            raise ToolError(f"File not found: {path}", "check the name; list_media shows what is available")
        return resolved

    def resolve_output(self, path: Path | str) -> Path:
        """Resolve a path to write: always inside the workspace; parent folders are created."""
        resolved = self._candidate(path)
        if not _inside(resolved, self.root):
            raise ToolError(f"Output path {str(path)!r} escapes the run workspace", "write below the run folder")
        resolved.parent.mkdir(parents=True, exist_ok=True)
        return resolved

    def relative(self, path: Path) -> str:
        """Workspace-relative form for Artifact.path (absolute if outside, e.g. a user file)."""
        path = Path(path).resolve()
        return str(path.relative_to(self.root)) if _inside(path, self.root) else str(path)

    def unique_output(self, stem: str, suffix: str, folder: str = "") -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "out"
        base = self.resolve_output(Path(folder) / f"{safe}{suffix}")
        n = 1
        while base.exists():
            base = base.with_name(f"{safe}_{n}{suffix}")
            n += 1
        return base


def find_in_media_roots(name: Path | str, media_roots: list[Path]) -> Path | None:
    """A relative name looked up in the media roots, in order (the film library): the first match that
    exists and stays inside its root once symlinks are resolved; None if there is none."""
    raw = Path(str(name)).expanduser()
    if raw.is_absolute():
        return None
    for root in media_roots:
        root = Path(root).resolve()
        candidate = (root / raw).resolve()
        if candidate.exists() and _inside(candidate, root):
            return candidate
    return None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False
