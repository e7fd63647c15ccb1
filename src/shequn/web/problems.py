"""Errors as application/problem+json (RFC 9457), each with its HTTP status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shequn.community.config import ConfigRejected
from shequn.community.service import Conflict, NotFound
from shequn.events import BatchRejected

PROBLEM = "application/problem+json"


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
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
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
            422, "Invalid request", errors[0]["message"] if errors else "", errors=errors
        )

    @app.exception_handler(BatchRejected)
    async def _batch(_: Request, exc: BatchRejected) -> JSONResponse:
        errors = [
            {exc.unit: e.position, "field": e.field, "message": e.message} for e in exc.errors
        ]
        return problem_response(422, "Batch rejected, nothing stored", str(exc), errors=errors)

    @app.exception_handler(ConfigRejected)
    async def _config(_: Request, exc: ConfigRejected) -> JSONResponse:
        errors = [{"path": e.path, "message": e.message} for e in exc.errors]
        return problem_response(422, "Configuration rejected", str(exc), errors=errors)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return problem_response(404, "Not found", str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return problem_response(409, "Conflict", str(exc))
