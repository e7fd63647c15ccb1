"""Helpers shared by the growth and commerce tests."""

from __future__ import annotations

import io
from typing import Any

import orjson
from fastapi import FastAPI
from sqlalchemy import Engine

from shequn.community.service import do_apply_config, do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.exports import write_export
from shequn.platform.clock import Clock
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW


def app_with_domains(settings: Settings, engine: Engine, clock: Clock | None = None) -> FastAPI:
    from shequn.commerce.api import public as commerce_public
    from shequn.commerce.api import router as commerce_router
    from shequn.growth.api import public as growth_public
    from shequn.growth.api import router as growth_router
    from shequn.web.app import create_app

    app = create_app(settings, engine, clock=clock)
    for r in (growth_router, growth_public, commerce_router, commerce_public):
        app.include_router(r)
    return app


def configure(engine: Engine, ws: WorkspaceInfo, document: dict[str, Any]) -> WorkspaceInfo:
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, document)


def token(engine: Engine, ws: WorkspaceInfo) -> dict[str, str]:
    with transaction(engine) as conn:
        return {"Authorization": f"Bearer {do_create_token(conn, ws.slug, now=NOW)}"}


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict[str, Any]]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]
