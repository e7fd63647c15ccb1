"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from prometheus_client import generate_latest
from sqlalchemy import Engine

from shequn import __version__
from shequn.domains import install as install_domains
from shequn.engine.outbox import count_by_status
from shequn.exports import load_export_modules
from shequn.growth.api import public_limiter
from shequn.platform.clock import Clock
from shequn.platform.db import get_engine
from shequn.platform.domain import targets
from shequn.platform.metrics import registry, watch_actions
from shequn.platform.schemas import Answer
from shequn.settings import Settings, get_settings
from shequn.web import console, problems


class Health(Answer):
    status: str


def operation_id(route: APIRoute) -> str:
    """`domain_verb_noun`: the router's tag, then the handler's name (`growth_get_campaigns`).
    Typed clients name their methods after it, so it stays as long as the handler's name."""
    domain = route.tags[0] if route.tags else "api"
    return f"{domain}_{route.name}".replace("-", "_").lower()


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    in_process_worker: bool = False,
    clock: Clock | None = None,
) -> FastAPI:
    """The API. `clock` is what "now" means for its staff operations and due work (default:
    the settings' clock — SHEQUN_NOW or the wall clock)."""
    install_domains()
    settings = settings or get_settings()
    engine = engine or get_engine(settings)
    clock = clock or settings.clock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if in_process_worker:
            from shequn.worker import InProcessWorker

            worker = InProcessWorker(engine, settings, clock)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    # /docs and /redoc with their scripts served by Shequn itself: they render offline.
    app = FastAPIOffline(
        title="Shequn 社群 API",
        version=__version__,
        description="Community operations: events in, decisions out. Bearer tokens are "
        "scoped to one workspace (`shequn token create`).",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock
    app.state.bus = None
    if settings.redis_url:
        from shequn.platform.bus import RedisBus

        app.state.bus = RedisBus(settings.redis_url, settings.bus_partitions, settings.bus_prefix)
    # The public pages' rate limits: shared through Redis when there is one.
    app.state.limiter = public_limiter(app.state.bus)
    problems.install(app)
    watch_actions(partial(count_by_status, engine))
    load_export_modules()

    for router in targets("api"):
        app.include_router(router)

    @app.get("/healthz", tags=["ops"], summary="Liveness", response_model=Health)
    def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get(
        "/metrics", tags=["ops"], summary="Prometheus metrics", response_class=PlainTextResponse
    )
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(
            generate_latest(registry), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    generated = app.openapi

    def openapi() -> dict[str, Any]:
        # Errors are application/problem+json: the routers name `Problem`, defined here once.
        schema = generated()
        schema.setdefault("components", {}).setdefault("schemas", {}).update(
            problems.problem_schemas()
        )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    # Last, so that every route above keeps its path: the console at `/`.
    console.install(app)
    return app
