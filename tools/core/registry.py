"""The tool registry (docs/architecture.md, Contract 1).

A tool is a typed function registered with `@tool`. Its JSON schema and argument validation come
from the signature via pydantic; `ctx` is injected. Invalid arguments never reach the function:
the validation message is returned as the observation so the LLM can correct itself. Nothing a
tool raises escapes `invoke`.
"""
from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import re
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Callable, get_args, get_origin, get_type_hints

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from tools.core.context import ToolContext
from tools.core.scheduler import is_oom
from tools.core.types import Artifact, ToolError, ToolResult, Unmet


class _PathRole:
    def __init__(self, role: str):
        self.role = role


def _a_path(value: Any) -> Any:
    """An empty string would become Path("."), the workspace itself: refuse it instead."""
    if isinstance(value, str) and not value.strip():
        raise ValueError("the path is empty")
    return value


# Path arguments the registry resolves through the workspace sandbox before the call.
InputPath = Annotated[Path, BeforeValidator(_a_path), _PathRole("input")]
OutputPath = Annotated[Path, BeforeValidator(_a_path), _PathRole("output")]

# Packages of `tools/` that hold the framework, not tool families (never scanned for tools).
FRAMEWORK_PACKAGES = frozenset({"core"})


@dataclass(eq=False)  # identity semantics: specs are registered once and cached by identity
class ToolSpec:
    name: str
    family: str
    resources: tuple[str, ...]
    description: str
    func: Callable[..., Any]
    args_model: type[BaseModel]
    path_roles: dict[str, str]
    returns: Any
    # (settings, literal args) -> the models/programs the call needs that are not configured.
    requires: Callable[[Any, dict[str, Any]], list[Unmet]] | None = None

    def unmet(self, settings: Any, args: dict[str, Any] | None = None) -> list[Unmet]:
        """What this call would need but is not configured; [] when ready (or nothing to check)."""
        return list(self.requires(settings, dict(args or {}))) if self.requires else []

    def schema(self) -> dict[str, Any]:
        params = self.args_model.model_json_schema()
        params.pop("title", None)
        return {"type": "function", "function": {"name": self.name, "description": self.description, "parameters": params}}


class ToolOutcome(BaseModel):
    """What one invocation returned: the observation the LLM sees and the typed result."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    tool: str
    ok: bool
    result: dict[str, Any] | None = None
    summary: str = ""
    error: str | None = None
    error_kind: str | None = None  # validation | tool | unexpected | unknown_tool
    hint: str = ""
    seconds: float = 0.0
    artifacts: list[Artifact] = Field(default_factory=list)

    def observation(self) -> str:
        if self.ok:
            return self.summary
        return f"ERROR ({self.error_kind}): {self.error}" + (f"\nHint: {self.hint}" if self.hint else "")


_REGISTRY: dict[str, ToolSpec] = {}


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Google-style docstring → (description, {arg: description})."""
    doc = inspect.cleandoc(doc or "")
    parts = re.split(r"^\s*Args:\s*$", doc, maxsplit=1, flags=re.M)
    description = parts[0].strip()
    args: dict[str, str] = {}
    if len(parts) == 2:
        body = re.split(r"^\s*(Returns|Raises|Yields):\s*$", parts[1], maxsplit=1, flags=re.M)[0]
        current = None
        for line in body.splitlines():
            m = re.match(r"^\s*(\w+)\s*(\([^)]*\))?:\s*(.*)$", line)
            if m:
                current = m.group(1)
                args[current] = m.group(3).strip()
            elif current and line.strip():
                args[current] += " " + line.strip()
    return description, args


def _build_spec(func: Callable[..., Any], name: str, family: str, resources: tuple[str, ...]) -> ToolSpec:
    hints = get_type_hints(func, include_extras=True)
    sig = inspect.signature(func)
    description, arg_docs = _parse_docstring(func.__doc__ or "")
    fields: dict[str, Any] = {}
    path_roles: dict[str, str] = {}
    params = list(sig.parameters.values())
    if not params or params[0].name != "ctx":
        raise TypeError(f"tool {name}: the first parameter must be `ctx: ToolContext`")
    for param in params[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {name}: *args/**kwargs are not allowed in tools")
        annotation = hints.get(param.name, Any)
        role = _path_role(annotation)
        if role:
            path_roles[param.name] = role
        if isinstance(param.default, (list, dict, set)):  # one object shared by every direct call
            raise TypeError(f"tool {name}: argument {param.name!r} has a mutable default; use `| None = None`")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, Field(default, description=arg_docs.get(param.name)))
    model = create_model(f"{name}_args", __config__=ConfigDict(extra="forbid"), **fields)
    return ToolSpec(name, family, resources, description or name, func, model, path_roles, hints.get("return"))


def _path_role(annotation: Any) -> str | None:
    candidates = [annotation]
    if get_origin(annotation) is not Annotated:
        candidates = [a for a in get_args(annotation)]  # Optional[InputPath]
    for cand in candidates:
        if get_origin(cand) is Annotated:
            for meta in cand.__metadata__:
                if isinstance(meta, _PathRole):
                    return meta.role
    return None


def tool(*, family: str, resources: tuple[str, ...] | list[str] = (), name: str | None = None,
         requires: Callable[[Any, dict[str, Any]], list[Unmet]] | None = None):
    """Register a typed function as a tool. `resources` are acquired through the scheduler per call;
    `requires(settings, args)` says which configured model/program a call needs and is missing."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        spec = _build_spec(func, name or func.__name__, family, tuple(resources))
        spec.requires = requires
        _REGISTRY[spec.name] = spec
        func.spec = spec  # type: ignore[attr-defined]
        return func

    return decorate


_LOADED: set[str] = set()


def family_modules(root: str = "tools") -> list[str]:
    """Every module of every family package under `root` (all sub-packages but the framework's)."""
    base = importlib.import_module(root)
    names: list[str] = []
    for family in sorted(pkgutil.iter_modules(base.__path__), key=lambda m: m.name):
        if not family.ispkg or family.name in FRAMEWORK_PACKAGES:
            continue
        package = importlib.import_module(f"{root}.{family.name}")
        names.append(package.__name__)
        names += sorted(m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + "."))
    return names


def load_tools(root: str = "tools") -> None:
    """Import every family module under `root` once per process: their `@tool` functions register.

    A new module in a family registers by existing; modules keep heavy imports (torch, diffusers)
    inside functions so discovery stays cheap.
    """
    if root in _LOADED:
        return
    for module in family_modules(root):
        importlib.import_module(module)
    _LOADED.add(root)


def load_builtin_tools() -> None:
    """Register the shipped tools (every module of the families in `tools/`)."""
    load_tools("tools")


def get_tool(name: str) -> ToolSpec:
    load_builtin_tools()
    if name not in _REGISTRY:
        from difflib import get_close_matches

        close = get_close_matches(name, list(_REGISTRY), n=3)
        raise ToolError(f"Unknown tool {name!r}", f"did you mean {', '.join(close)}?" if close else "see `animstudio tools list`")
    return _REGISTRY[name]


def all_tools(family: str | None = None) -> list[ToolSpec]:
    load_builtin_tools()
    return [s for s in sorted(_REGISTRY.values(), key=lambda s: s.name) if family is None or s.family == family]


def format_validation_error(name: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown argument '{loc}'")
        elif err["type"] == "missing":
            lines.append(f"missing required argument '{loc}'")
        else:
            lines.append(f"argument '{loc}': {err['msg']}")
    return f"invalid arguments for {name}: " + "; ".join(lines)


def validate_args(spec: ToolSpec, args: Any) -> BaseModel:
    if not isinstance(args, dict):
        raise ToolError(f"arguments for {spec.name} must be a JSON object, got {type(args).__name__}",
                        "pass named arguments as an object")
    validated = spec.args_model.model_validate(args)
    where = _non_finite(validated.model_dump())
    if where:  # NaN/inf pass float fields without bounds; no tool can use them (times, sizes, gains)
        raise ToolError(f"argument '{where}' is not a finite number", "give a real number")
    return validated


def _non_finite(value: Any, path: str = "") -> str | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else path or "(value)"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _non_finite(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def invoke(name: str, args: Any, ctx: ToolContext, *, step: str | None = None) -> ToolOutcome:
    """Validate, resolve sandboxed paths, acquire resources, call, and report — never raises.

    `step` (the plan step id, when called from a plan) is recorded in the trace event.
    """
    start = time.perf_counter()
    if step is not None:
        ctx = replace(ctx, extras={**ctx.extras, "step": step})
    try:
        spec = get_tool(name)
    except ToolError as exc:
        return _fail(ctx, name, args, "unknown_tool", exc.message, exc.hint, start)
    try:
        validated = validate_args(spec, args)
    except ValidationError as exc:
        return _fail(ctx, name, args, "validation", format_validation_error(name, exc),
                     "fix the arguments to match the tool's schema", start)
    except ToolError as exc:
        return _fail(ctx, name, args, "validation", exc.message, exc.hint, start)
    kwargs = {k: getattr(validated, k) for k in spec.args_model.model_fields}
    try:  # a path outside the sandbox, or a file that is not there, is an invalid argument
        for key, role in spec.path_roles.items():
            if kwargs.get(key) is not None:
                resolver = ctx.workspace.resolve_input if role == "input" else ctx.workspace.resolve_output
                kwargs[key] = resolver(kwargs[key])
    except ToolError as exc:
        return _fail(ctx, name, args, "validation", exc.message, exc.hint, start)
    try:
        result = _call_with_resources(spec, ctx, kwargs)
    except ToolError as exc:
        return _fail(ctx, name, args, "tool", exc.message, exc.hint, start)
    except OSError as exc:  # a folder given for a file, no permission, a full disk: said as such
        ctx.trace.event("tool.exception", tool=name, error=repr(exc), traceback=traceback.format_exc())
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return _fail(ctx, name, args, "tool", f"{exc.strerror or type(exc).__name__}{where}",
                     "check the paths given to the tool, and free disk space", start)
    except Exception as exc:  # unexpected: logged with traceback, reported like a ToolError
        ctx.trace.event("tool.exception", tool=name, error=repr(exc), traceback=traceback.format_exc())
        return _fail(ctx, name, args, "unexpected", f"{type(exc).__name__}: {exc}",
                     "this is a bug or an environment problem; see the run trace", start)
    return _succeed(ctx, spec, args, result, start)


def _call_with_resources(spec: ToolSpec, ctx: ToolContext, kwargs: dict[str, Any]) -> Any:
    with ctx.scheduler.use(*spec.resources, reason=f"tool {spec.name}"):
        try:
            return spec.func(ctx, **kwargs)
        except Exception as exc:
            if not spec.resources or not is_oom(exc):
                raise
            ctx.scheduler.handle_oom(spec.resources, exc)
            try:  # one retry in the tool's lower-memory mode, then a clear failure
                return spec.func(ctx.with_low_memory(), **kwargs)
            except Exception as exc2:
                if is_oom(exc2):
                    raise ToolError(
                        f"{spec.name} ran out of GPU memory even after evicting other models and retrying in low-memory mode",
                        "lower the resolution/batch size or choose a smaller hardware profile",
                    ) from exc2
                raise


def _jsonable(result: Any) -> tuple[dict[str, Any] | None, str, list[Artifact]]:
    if isinstance(result, ToolResult):
        return result.model_dump(mode="json"), result.summary(), list(result.artifacts)
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json"), str(result)[:400], []
    if result is None:
        return None, "done", []
    if isinstance(result, dict):
        return result, str(result)[:400], []
    return {"value": result}, str(result)[:400], []


def _succeed(ctx: ToolContext, spec: ToolSpec, args: Any, result: Any, start: float) -> ToolOutcome:
    data, summary, artifacts = _jsonable(result)
    seconds = round(time.perf_counter() - start, 4)
    ctx.trace.event("tool.call", tool=spec.name, step=ctx.extras.get("step"), args=args, ok=True, summary=summary,
                    seconds=seconds, artifacts=[a.path for a in artifacts])
    return ToolOutcome(tool=spec.name, ok=True, result=data, summary=summary, seconds=seconds, artifacts=artifacts)


def _fail(ctx: ToolContext, name: str, args: Any, kind: str, message: str, hint: str, start: float) -> ToolOutcome:
    seconds = round(time.perf_counter() - start, 4)
    ctx.trace.event("tool.call", tool=name, step=ctx.extras.get("step"), args=args, ok=False, error_kind=kind,
                    error=message, seconds=seconds)
    return ToolOutcome(tool=name, ok=False, error=message, error_kind=kind, hint=hint, seconds=seconds)


def as_langchain_tools(ctx: ToolContext, names: list[str] | None = None) -> list[Any]:
    """The registered tools as langchain-core StructuredTools bound to `ctx` (for bind_tools / ToolNode)."""
    from langchain_core.tools import StructuredTool

    out = []
    for spec in all_tools():
        if names is not None and spec.name not in names:
            continue

        def run(_spec: ToolSpec = spec, **kwargs: Any) -> str:
            return invoke(_spec.name, kwargs, ctx).observation()

        out.append(StructuredTool.from_function(func=run, name=spec.name, description=spec.description,
                                                args_schema=spec.args_model))
    return out
