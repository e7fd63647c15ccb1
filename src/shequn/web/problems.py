"""Errors as application/problem+json (RFC 9457), each with its HTTP status.

Domain errors (`platform.errors.DomainError`) are rendered by one handler, in the language of
the request: an `Accept-Language` naming English or Chinese first, else the workspace's
locale (when the path names a workspace the token may read), else `SHEQUN_LOCALE`.
Anything else that escapes a handler is a bug: a 500 problem that names no internals."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shequn.platform.errors import DomainError

PROBLEM = "application/problem+json"
log = logging.getLogger(__name__)


class ProblemError(BaseModel):
    """One error of a rejected request, batch, configuration or import: where and what."""

    model_config = ConfigDict(extra="allow", title="ProblemError")

    message: str
    field: str | None = Field(default=None, description="The request or event field at fault.")
    path: str | None = Field(default=None, description="The configuration path at fault.")
    item: int | None = Field(default=None, description="Index of the batch item at fault.")
    line: int | None = Field(default=None, description="Line of the file at fault.")


class ProblemDocument(BaseModel):
    """An error answer (RFC 9457), published in the OpenAPI as `Problem`."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str = Field(
        description="Stable machine code: `<domain>.<what>` for domain errors (docs/errors.md),"
        " `http.<status>`, `request.invalid` or `internal` for the web layer's own."
    )
    errors: list[ProblemError] | None = Field(
        default=None, description="Every error found, for validation failures (422)."
    )
    retry_after: int | None = Field(default=None, description="Seconds to wait (429).")


_MEANINGS = {
    400: "Malformed request",
    401: "No or unknown bearer token",
    403: "The token belongs to another workspace, or the operation is not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Invalid request: every error listed",
    429: "Too many requests",
}

WORKSPACE_ERRORS = (400, 401, 403, 404, 409, 413, 422)
"""What any workspace route can answer: bad or oversized bodies, auth, a missing thing, a
conflict, a rejected value."""


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a router: each status answered as application/problem+json."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {"description": _MEANINGS[status], "content": {PROBLEM: {"schema": schema}}}
        for status in statuses
    }


def workspace_router(tag: str, path: str = "") -> APIRouter:
    """The router of a domain's workspace routes, `/api/v1/workspaces/{ws}` + `path`, with
    the problems any workspace route can answer."""
    return APIRouter(
        prefix=f"/api/v1/workspaces/{{ws}}{path}",
        tags=[tag],
        responses=problem_responses(*WORKSPACE_ERRORS),
    )


def problem_schemas() -> dict[str, Any]:
    """The OpenAPI components of `Problem` and `ProblemError`."""
    schema = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"Problem": schema, **defs}


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str = "", **extra: Any) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra
        super().__init__(detail or title)


def problem_response(
    status: int, title: str, detail: str = "", headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    # Problems of the web layer itself (auth, body limits, malformed payloads) are coded by
    # their status; domain errors bring their own code.
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "code": f"http.{status}",
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            exc.status_code, str(exc.detail), "", headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return problem_response(
            422,
            "Invalid request",
            errors[0]["message"] if errors else "",
            code="request.invalid",
            errors=errors,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        locale = request_locale(request)
        return problem_response(
            exc.status,
            exc.title_in(locale),
            exc.message(locale),
            headers=exc.headers() or None,
            code=exc.code,
            **exc.extra(),
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        # Logged with its traceback for the operator; the client learns nothing of it.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(500, "Internal Server Error", "", code="internal")


def request_locale(request: Request) -> str:
    """zh-CN or en for this request: Accept-Language, the workspace's, the settings'."""
    asked = _accepted(request.headers.get("accept-language", ""))
    if asked is not None:
        return asked
    workspace = getattr(request.state, "locale", None)
    if isinstance(workspace, str):
        return workspace
    return str(getattr(request.app.state.settings, "locale", "zh-CN"))


def _accepted(header: str) -> str | None:
    """The first of zh / en in an Accept-Language header by weight; None when neither."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().lower().split("-")[0]
        locale = {"zh": "zh-CN", "en": "en"}.get(language)
        if locale is not None and weight > 0 and (best is None or (-weight, index) < best[:2]):
            best = (-weight, index, locale)
    return best[2] if best else None
