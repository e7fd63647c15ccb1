"""Bearer tokens, each scoped to one workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from shequn.community.service import access_workspace, workspace_of_token
from shequn.community.workspace import WorkspaceInfo
from shequn.web.problems import Problem

_bearer = HTTPBearer(auto_error=False)


def get_engine_dep(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine_dep)]


def request_time(request: Request) -> datetime:
    """The instant of this request, read once from the app's clock."""
    now: datetime = request.app.state.clock.now()
    return now


Now = Annotated[datetime, Depends(request_time)]
"""A handler's "now": pass it to services, which never read a clock themselves."""


def latest_event_time(request: Request, now: Now) -> datetime:
    """The latest `at` this request's events may carry: now plus the allowed skew."""
    latest: datetime = now + request.app.state.settings.max_future_skew
    return latest


Latest = Annotated[datetime, Depends(latest_event_time)]
"""The bound of events' `at` in a handler that ingests them (SHEQUN_MAX_FUTURE_SKEW)."""


def access_workspace_dep(
    request: Request,
    ws: str,
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> WorkspaceInfo:
    """The path's workspace, if the bearer token belongs to it."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "Unauthorized", "a bearer token is required")
    with engine.connect() as conn:
        owner = workspace_of_token(conn, credentials.credentials)
        if owner is None:
            raise Problem(401, "Unauthorized", "unknown token")
        if owner != ws:
            raise Problem(403, "Forbidden", "this token belongs to another workspace")
        info = access_workspace(conn, ws)
    request.state.locale = info.locale  # the language of this request's errors
    return info


Workspace = Annotated[WorkspaceInfo, Depends(access_workspace_dep)]
