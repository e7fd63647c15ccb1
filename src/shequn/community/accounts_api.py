"""HTTP routes of console accounts: sign in and out, who am I, and the people of a workspace.

Signing in sets an HttpOnly, SameSite session cookie and answers a CSRF token that the console
sends back in `X-CSRF-Token` on every change (web/auth.py checks both)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Engine

from shequn.community import accounts
from shequn.community.schemas import MeOut, SignInIn, UserIn, UserOut
from shequn.community.workspace import WorkspaceInfo
from shequn.i18n import t
from shequn.platform.db import transaction
from shequn.platform.errors import Forbidden, TooMany
from shequn.web.auth import SESSION_COOKIE, EngineDep, Now, Workspace
from shequn.web.problems import Problem, problem_responses, workspace_router

router = APIRouter(
    prefix="/api/v1/auth", tags=["accounts"], responses=problem_responses(401, 422, 429)
)
people = workspace_router("accounts", "/users")
SIGN_INS_PER_MINUTE = 10


def _who(signed: accounts.SignedIn, session: str) -> dict[str, Any]:
    return {
        "email": signed.email,
        "name": signed.name,
        "workspaces": [{"workspace": w, "role": r} for w, r in signed.roles.items()],
        "csrf_token": accounts.csrf_token(session),
    }


@router.post("/login", summary="Sign in to the console", response_model=MeOut)
def login(body: SignInIn, request: Request, response: Response, now: Now) -> dict[str, Any]:
    """Sets the session cookie; answers the CSRF token to send with every change."""
    engine: Engine = request.app.state.engine
    client = request.client.host if request.client else "unknown"
    limiter = request.app.state.limiter
    # Guessing is slowed per address and per account, whichever is hit first.
    for key in (f"login|{client}", f"login|{body.email.strip().lower()}"):
        if not limiter.allow(key, SIGN_INS_PER_MINUTE, now):
            raise TooMany(t, "accounts.too_many_sign_ins", retry_after=60)
    with transaction(engine) as conn:
        token, signed = accounts.do_sign_in(conn, body.email, body.password, now=now)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=accounts.SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return _who(signed, token)


@router.post("/logout", summary="Sign out: the session ends now", status_code=204)
def logout(request: Request, now: Now) -> Response:
    engine: Engine = request.app.state.engine
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with transaction(engine) as conn:
            accounts.do_sign_out(conn, token, now=now)
    answer = Response(status_code=204)
    answer.delete_cookie(SESSION_COOKIE, path="/")
    return answer


@router.get(
    "/me",
    summary="Who is signed in, with their workspaces and the CSRF token of the session",
    response_model=MeOut,
)
def me(request: Request, engine: EngineDep, now: Now) -> dict[str, Any]:
    token = request.cookies.get(SESSION_COOKIE)
    with engine.connect() as conn:
        signed = accounts.session_user(conn, token, now=now) if token else None
    if signed is None or token is None:
        raise Problem(401, "Unauthorized", "not signed in")
    return _who(signed, token)


def _manager(request: Request) -> None:
    if request.state.role not in accounts.MANAGERS:
        raise Forbidden(t, "accounts.managers_only")


@people.get("", summary="The people of the workspace", response_model=list[UserOut])
def list_people(workspace: Workspace, engine: EngineDep) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return accounts.list_users(conn, workspace)


@people.post(
    "", summary="Give a person a role here (made if new)", response_model=UserOut, status_code=201
)
def add_person(
    body: UserIn, request: Request, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    _manager(request)
    with transaction(engine) as conn:
        accounts.do_create_user(
            conn, workspace, body.email, body.password, body.role, now=now, name=body.name
        )
        return _person(conn, workspace, body.email)


def _person(conn: Any, ws: WorkspaceInfo, email: str) -> dict[str, Any]:
    address = email.strip().lower()
    return next(u for u in accounts.list_users(conn, ws) if u["email"] == address)
