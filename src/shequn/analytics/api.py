"""HTTP routes of analytics: every report as JSON, a PNG chart or an HTML page."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from shequn.analytics.funnel import breakdown_named
from shequn.analytics.report import REPORTS
from shequn.analytics.schemas import ReportOut, ReportsOut
from shequn.analytics.service import Options, check_period, check_report, run_report
from shequn.platform.schemas import file_responses
from shequn.web.auth import EngineDep, Now, Workspace
from shequn.web.problems import workspace_router

router = workspace_router("analytics", "/reports")


@router.get("", summary="The reports there are", response_model=ReportsOut)
def list_reports(workspace: Workspace) -> dict[str, Any]:
    return {"reports": list(REPORTS)}


@router.get(
    "/{name}",
    summary="One report (JSON, PNG chart or HTML page)",
    response_model=ReportOut,
    responses=file_responses("image/png", "text/html"),
)
async def get_report(
    name: str,
    workspace: Workspace,
    engine: EngineDep,
    now: Now,
    since: Annotated[
        str | None, Query(description="First day, YYYY-MM-DD (workspace zone)")
    ] = None,
    until: Annotated[str | None, Query(description="Last day, YYYY-MM-DD (default today)")] = None,
    by: Annotated[
        Literal["source", "campaign", "group", "cohort", "channel"] | None,
        Query(description="Funnel breakdown; `channel` is the deprecated old name of `source`."),
    ] = None,
    unit: Annotated[Literal["day", "week"], Query()] = "week",
    mode: Annotated[Literal["first", "recurring"], Query()] = "first",
    measure: Annotated[Literal["on", "on_or_after"], Query()] = "on",
    group: Annotated[str | None, Query(max_length=128)] = None,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    format: Annotated[Literal["json", "png", "html"], Query()] = "json",
) -> dict[str, Any] | Response:
    check_report(name)
    period = check_period(workspace, since, until, now=now)
    options = Options(
        by=breakdown_named(by) if by else None,
        unit=unit,
        mode=mode,
        measure=measure,
        group=group,
        segment=segment,
        limit=limit,
    )
    # DuckDB and the database read block: off the event loop.
    report = await run_in_threadpool(run_report, engine, workspace, name, period, options)
    if format == "json":
        return report.to_json(workspace.locale)
    from shequn.analytics import charts

    if format == "png":
        image = await run_in_threadpool(charts.png, report, workspace.locale)
        return Response(image, media_type="image/png")
    page = await run_in_threadpool(charts.page, report, workspace.locale)
    return HTMLResponse(page)
