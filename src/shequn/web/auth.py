"""Who a request is: a bearer token scoped to one workspace, or a console session with a
role in each workspace its person works in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from shequn.community.accounts import WRITERS, csrf_matches, session_user
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


SESSION_COOKIE = "sq_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def access_workspace_dep(
    request: Request,
    ws: str,
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    now: Now,
) -> WorkspaceInfo:
    """The path's workspace, for a bearer token of that workspace (scripts) or a console
    session with a role in it. Tokens and sessions are checked on every request, so a revoked
    one is refused at once. A session's unsafe requests must carry its CSRF token, and a
    viewer may only read."""
    with engine.connect() as conn:
        if credentials is not None and credentials.scheme.lower() == "bearer":
            owner = workspace_of_token(conn, credentials.credentials, now=now)
            if owner is None:
                raise Problem(401, "Unauthorized", "unknown, expired or revoked token")
            if owner != ws:
                raise Problem(403, "Forbidden", "this token belongs to another workspace")
            request.state.role = "owner"
            request.state.actor = None
        else:
            request.state.role, request.state.actor = _session_role(request, conn, ws, now)
        info = access_workspace(conn, ws)
    request.state.locale = info.locale  # the language of this request's errors
    return info


def _session_role(request: Request, conn: Connection, ws: str, now: datetime) -> tuple[str, str]:
    """The signed-in person's role in `ws`, and their email."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Problem(401, "Unauthorized", "sign in, or send a bearer token")
    who = session_user(conn, token, now=now)
    if who is None:
        raise Problem(401, "Unauthorized", "the session has ended: sign in again")
    role = who.roles.get(ws)
    if role is None:
        raise Problem(403, "Forbidden", "you have no role in this workspace")
    if request.method not in _SAFE_METHODS:
        if not csrf_matches(token, request.headers.get(CSRF_HEADER)):
            raise Problem(403, "Forbidden", f"a signed-in change needs the {CSRF_HEADER} header")
        if role not in WRITERS:
            raise Problem(403, "Forbidden", "a viewer may look but not change anything")
    return role, who.email


Workspace = Annotated[WorkspaceInfo, Depends(access_workspace_dep)]


def acting_as(request: Request, workspace: Workspace) -> str | None:
    """Who acts, for the records staff actions keep (`by`): the signed-in person's email; None
    for a bearer token, whose requests name the actor themselves."""
    actor: str | None = request.state.actor
    return actor


Actor = Annotated[str | None, Depends(acting_as)]
"""With a console session, staff actions are recorded as its person, whatever `by` says."""
