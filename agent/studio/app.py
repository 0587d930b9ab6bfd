"""`animstudio serve`: the FastAPI app (pages + HTTP API) and the uvicorn server around it."""
from __future__ import annotations

from contextlib import asynccontextmanager
from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from agent.report.html_report import TEMPLATES as REPORT_TEMPLATES
from agent.studio.security import BodyLimits, StudioGuard, effective_token, is_loopback
from agent.studio.service import Studio, StudioError
from tools.core.settings import Settings

HERE = Path(__file__).resolve().parent
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


def _templates() -> Jinja2Templates:
    env = Environment(loader=ChoiceLoader([FileSystemLoader(HERE / "templates"), FileSystemLoader(REPORT_TEMPLATES)]),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "–" if v is None else f"{float(v):.2f}"
    return Jinja2Templates(env=env)


def create_app(settings: Settings, *, host: str | None = None, token: str | None = None,
               make_agent=None) -> FastAPI:
    """The studio app. `host` is where it will listen (loopback: the Host header must say so too)."""
    host = host or settings.studio.host
    token = token if token is not None else effective_token(host, settings.studio.token)[0]
    if not is_loopback(host) and not token:
        raise ValueError(f"the studio listens on {host}, not a loopback address: it needs a token (studio.token)")
    studio = Studio(settings, make_agent)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        studio.start()
        try:
            yield
        finally:
            studio.stop()

    app = FastAPI(title="Animation AI Studio", version="1", lifespan=lifespan,
                  description="Queue agent runs, follow them live (server-sent events), review their script "
                              "before the render, resume them, and read their reports.")
    app.state.studio = studio
    app.state.templates = _templates()
    app.state.kb = None

    from agent.studio import api_routes, pages, pages_library

    app.include_router(api_routes.router)
    app.include_router(pages.router)
    app.include_router(pages_library.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        # FastAPI's own 422 repeats the input it refused: a client's body is never echoed back.
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                    for e in exc.errors()]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(StudioError)
    async def studio_error(request: Request, exc: StudioError):
        if request.url.path.startswith("/ui/") and "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(f"<!DOCTYPE html><title>Error</title><p>{escape(str(exc))}</p>"
                                f'<p><a href="/">Back to the studio</a></p>', status_code=exc.status)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    # The last added runs first: the Host check (DNS rebinding), CORS (answers preflights), token + limits.
    app.add_middleware(StudioGuard, token=token, allowed_origins=settings.studio.cors_origins,
                       limits=BodyLimits(settings.studio.max_upload_mb, settings.studio.max_body_kb))
    if settings.studio.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.studio.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "Last-Event-ID"])
    if is_loopback(host):
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS)
    return app


def serve(settings: Settings, host: str | None = None, port: int | None = None, print_line=print) -> None:
    """Run the studio with uvicorn until Ctrl-C."""
    import uvicorn

    host = host or settings.studio.host
    port = settings.studio.port if port is None else port
    token, generated = effective_token(host, settings.studio.token)
    app = create_app(settings, host=host, token=token)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    print_line(f"Animation AI Studio: open {address}{'?token=' + token if token else ''}")
    if generated:
        print_line("A token was generated for this address (set studio.token to choose one); API calls send "
                   "'Authorization: Bearer <token>'.")
    uvicorn.run(app, host=host, port=port, log_level="warning")
