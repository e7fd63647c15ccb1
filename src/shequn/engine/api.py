"""HTTP routes of the engine: ingest events, read actions, export."""

from __future__ import annotations

import io
from functools import partial
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from shequn.engine.schemas import ActionOut, IngestAnswer, QueuedAnswer
from shequn.engine.service import do_ingest_items
from shequn.exports import EXPORTS, check_export, page, write_export
from shequn.platform.schemas import file_responses
from shequn.web.auth import EngineDep, Latest, Workspace
from shequn.web.body import decode_json, read_bounded
from shequn.web.paging import Offset
from shequn.web.problems import Problem, problem_responses, workspace_router

router = workspace_router("events")


def _items(body: Any) -> list[Any]:
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        return list(body["events"])
    if isinstance(body, list):
        return body
    raise Problem(400, "Malformed batch", 'send a JSON array of events or {"events": [...]}')


@router.post(
    "/events",
    response_model=IngestAnswer | QueuedAnswer,
    summary="Ingest a batch of events",
    responses={
        202: {"model": QueuedAnswer},
        422: {**problem_responses(422)[422], "description": "Batch rejected, every bad item"},
    },
)
async def post_events(
    request: Request,
    workspace: Workspace,
    engine: EngineDep,
    latest: Latest,
    skip_invalid: Annotated[bool, Query(description="Store the valid items")] = False,
) -> Any:
    """The whole batch is validated first; a bad item stores nothing (unless skip_invalid).

    Answers accepted and duplicate counts; with a Redis bus, the batch is queued for
    workers and the answer is 202 with the queued count.
    """
    settings = request.app.state.settings
    body = await read_bounded(request, settings.max_body_bytes)
    if request.headers.get("content-type", "").startswith("application/x-ndjson"):
        items = [decode_json(line) for line in body.splitlines() if line.strip()]
    else:
        items = _items(decode_json(body))
    if len(items) > settings.max_batch_events:
        raise Problem(
            413, "Batch too large", f"a batch may hold at most {settings.max_batch_events} events"
        )
    bus = request.app.state.bus
    if bus is not None:
        from shequn.events import BatchRejected, parse_items

        parsed = parse_items(items, latest)
        if parsed.errors and not skip_invalid:
            raise BatchRejected(parsed.errors, unit="item")
        bus.publish(workspace.slug, parsed.events)
        return JSONResponse({"queued": len(parsed.events)}, status_code=202)
    from starlette.concurrency import run_in_threadpool

    report = await run_in_threadpool(
        partial(do_ingest_items, engine, workspace, items, skip_invalid=skip_invalid, latest=latest)
    )
    summary = report.summary()
    summary["actions"] = [a.public() for a in report.result.actions]
    return summary


@router.get("/actions", summary="Decided actions, oldest first", response_model=list[ActionOut])
def list_actions(
    workspace: Workspace,
    engine: EngineDep,
    status: Annotated[str | None, Query(description="pending, done, failed, staff_task")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = EXPORTS["actions"].rows(conn, workspace)
        keep = None if status is None else (lambda r: r["status"] == status)
        return page(rows, offset, limit, keep)


_MEDIA = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/exports/{kind}",
    summary="Export rows as jsonl, csv or xlsx",
    response_class=Response,
    responses=file_responses("application/x-ndjson", "text/csv", _MEDIA["xlsx"]),
)
def get_export(
    kind: str,
    workspace: Workspace,
    engine: EngineDep,
    format: Annotated[str, Query(description="jsonl, csv or xlsx")] = "jsonl",
    header: Annotated[
        str, Query(description="csv/xlsx headers: labels (workspace language) or ids")
    ] = "labels",
    reveal_phones: Annotated[
        bool, Query(description="Full phone numbers (members; needs crm.allow_phone_export)")
    ] = False,
) -> Response:
    check_export(kind, format, header)  # an unknown kind is a 404, an unknown format a 400
    buffer = io.BytesIO()
    with engine.connect() as conn:
        write_export(
            conn, workspace, kind, format, buffer, header=header, reveal_phones=reveal_phones
        )
    headers = {"Content-Disposition": f'attachment; filename="{kind}.{format}"'}
    return Response(buffer.getvalue(), media_type=_MEDIA[format], headers=headers)
