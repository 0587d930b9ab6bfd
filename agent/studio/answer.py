"""The run's answer as the run page shows it: its markdown rendered (links as links, lists as lists),
file paths turned into links to the run's files, nothing of the server's own paths.

The answer is model and tool text: it is rendered with raw HTML off (markdown-it escapes it), and a
link may only lead to the web (http, https) or to a file of this run's folder.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from markupsafe import Markup

WEB_SCHEMES = ("http", "https")


def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True})


def run_file_href(target: str, run_id: str, run_dir: Path | None) -> str | None:
    """Where a link of the answer may lead: the web, or a file inside the run folder (else nowhere)."""
    parts = urlsplit(target)
    if parts.scheme in WEB_SCHEMES and parts.netloc:
        return target
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = Path(unquote(parts.path))
    if path.is_absolute():
        if run_dir is None or run_dir not in path.parents:
            return None
        path = path.relative_to(run_dir)
    if ".." in path.parts:
        return None
    if run_dir is not None and not (run_dir / path).is_file():
        return None
    return f"/runs/{run_id}/files/{quote(path.as_posix())}"


def _link_files(text: str, files: list[str]) -> str:
    """Each run file the text names, as a markdown link to it (whole names only, longest first)."""
    for name in sorted(set(files), key=len, reverse=True):
        text = re.sub(rf"(?<![\w/.\-\[<]){re.escape(name)}(?![\w/.\-\]>])", lambda _m, n=name: f"[{n}](<{n}>)", text)
    return text


def answer_html(text: str, run_id: str, run_dir: Path | None, redact=lambda s: s,
                files: list[str] | None = None) -> Markup:
    """The answer's markdown as safe HTML for the run page; `files` (run-relative) become links."""
    md = _parser()
    tokens = md.parse(_link_files(text or "", files or []))
    for token in tokens:
        for child in token.children or []:
            if child.type == "link_open":
                href = run_file_href(str(child.attrGet("href") or ""), run_id, run_dir)
                if href is None:
                    child.attrs.pop("href", None)  # shown as text: a link to nowhere useful
                else:
                    child.attrSet("href", href)
            elif child.type == "text":
                child.content = redact(child.content)
        if token.type in ("code_block", "fence"):
            token.content = redact(token.content)
    return Markup(md.renderer.render(tokens, md.options, {}))


def outcome(job: Any, redact) -> dict[str, Any]:
    """What the result box shows for a finished run: the rendered answer, whether the script was the
    template (the model's lines were not used), and the error for a stopped run."""
    result = job.result or {}
    run_dir = Path(result["run_dir"]) if result.get("run_dir") else None
    artifacts = result.get("artifacts", [])
    scripts = [a for a in artifacts if (a.get("metadata") or {}).get("what") == "parody script"]
    template = bool(scripts) and (scripts[-1].get("metadata") or {}).get("source") == "template"
    files = [{"name": name, "kind": a.get("kind") or "", "href": f"/runs/{job.run_id}/files/{quote(name)}"}
             for a in artifacts if (name := _inside(a.get("path", ""), run_dir))]
    # The answer's own "Files: a, b, …" line is the artifact list as plain text: the page lists them as links.
    text = "\n".join(line for line in str(result.get("final_answer", "")).splitlines() if not line.startswith("Files: "))
    return {"answer": answer_html(text, job.run_id, run_dir, redact, [f["name"] for f in files]),
            "files": files, "template_script": template,
            "template_why": _why(scripts[-1], run_dir, redact) if template else "",
            "error": redact(job.error) if job.error else None}


def _inside(path: str, run_dir: Path | None) -> str | None:
    """A result path as a name inside the run folder (None for anything outside it)."""
    if not path or run_dir is None:
        return None
    p = Path(path)
    if p.is_absolute():
        return str(p.relative_to(run_dir)) if run_dir in p.parents else None
    return None if ".." in p.parts else str(p)


def _why(artifact: dict[str, Any], run_dir: Path | None, redact) -> str:
    """Why the template took over, from the script file the run wrote (inside its folder only)."""
    path = Path(artifact.get("path", ""))
    if run_dir is None or not path.is_absolute() or run_dir not in path.parents:
        return ""
    try:
        why = str(json.loads(path.read_text(encoding="utf-8")).get("why") or "")
    except (OSError, ValueError):
        return ""
    why = why.removeprefix("template fallback: ")
    return redact(why if len(why) <= 220 else why[:220].rsplit(" ", 1)[0] + "…")
