"""Report operations shared by the API and the command line: parse a range, load the log
into DuckDB once, run one analytic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from shequn.analytics import funnel as funnel_mod
from shequn.analytics import health as health_mod
from shequn.analytics import kol as kol_mod
from shequn.analytics import ledgers, orbit, persona, retention, roi
from shequn.analytics.report import REPORTS, Report
from shequn.analytics.source import Frame, Period, load_frame
from shequn.analytics.store import kept_frame
from shequn.analytics.texts import say
from shequn.community.workspace import WorkspaceInfo
from shequn.platform.errors import BadRequest, NotFound

DEFAULT_DAYS = 28


@dataclass(frozen=True, slots=True)
class Options:
    by: funnel_mod.Breakdown | None = None
    unit: retention.Unit = "week"
    mode: retention.Mode = "first"
    measure: retention.Measure = "on"
    group: str | None = None
    segment: str | None = None
    limit: int = 20


def check_report(name: str) -> str:
    if name not in REPORTS:
        raise NotFound(say, "analytics.unknown_report", name=name, reports=", ".join(REPORTS))
    return name


def parse_day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(say, "analytics.bad_date", what=what, value=value) from None


def check_period(
    ws: WorkspaceInfo, since: str | None, until: str | None, *, now: datetime
) -> Period:
    """The range in the workspace's time zone; by default the 28 days up to `now`'s day."""
    today = now.astimezone(ws.tz).date()
    last = parse_day(until, "until") if until else today
    first = parse_day(since, "since") if since else last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise BadRequest(say, "analytics.backwards", last=last, first=first)
    if (last - first).days > 3660:
        raise BadRequest(say, "analytics.too_long")
    return Period(first, last, ws.tz)


def run_report(
    engine: Engine, ws: WorkspaceInfo, name: str, period: Period, options: Options | None = None
) -> Report:
    check_report(name)
    opts = options or Options()
    cfg = ws.config.analytics
    if name in ("moderation", "points", "persona"):
        with engine.connect() as conn:
            if name == "moderation":
                return ledgers.moderation(conn, ws, period)
            if name == "points":
                return ledgers.points(conn, ws, period)
            return persona.persona(conn, ws, period, opts.segment)
    # The funnel looks past the range's end, up to the conversion window of its last joiner.
    until = period.end + timedelta(days=cfg.conversion_window_days if name == "funnel" else 0)
    with frame_of(engine, ws, until=until) as frame:
        result: Any
        if name == "funnel":
            result = funnel_mod.funnel(frame, cfg, period, opts.by)
        elif name == "retention":
            result = retention.retention(frame, cfg, period, opts.unit, opts.mode, opts.measure)
        elif name == "health":
            result = health_mod.health(frame, cfg, period, opts.group)
        elif name == "roi":
            result = roi.roi(frame, cfg, period)
        elif name == "levels":
            result = orbit.levels(frame, cfg, period)
        elif name == "gravity":
            result = orbit.gravity(frame, cfg, period)
        elif name == "cohorts":
            result = orbit.cohorts(frame, cfg, period)
        else:
            result = kol_mod.kol(frame, cfg, period, opts.limit)
        assert isinstance(result, Report)
        return result


def frame_of(
    source: Engine | Connection, ws: WorkspaceInfo, until: datetime | None = None
) -> Frame:
    """The log as a Frame, with the live codes' sources (first touch needs them): through the
    kept store (`analytics.store`) when it is on and matches the log, else read whole."""
    from shequn.growth.livecode import code_sources

    frame = kept_frame(source, ws, until)
    if isinstance(source, Engine):
        with source.connect() as conn:
            if frame is None:
                frame = load_frame(conn, ws, until=until)
            frame.code_sources = code_sources(conn, ws)
        return frame
    if frame is None:
        frame = load_frame(source, ws, until=until)
    frame.code_sources = code_sources(source, ws)
    return frame


def source_roi(
    conn: Connection, ws: WorkspaceInfo, period: Period | None = None, *, now: datetime
) -> tuple[Period, list[dict[str, Any]]]:
    """Every acquisition source's members, cost, revenue and ROI (the `roi` report's rows).
    Without a period: all history to date — from the first event or dated cost to today or the
    last dated cost, so every cost counts whole. Answers the period used, and the rows."""
    cfg = ws.config.analytics
    with frame_of(conn, ws) as frame:
        if period is None:
            today = now.astimezone(ws.tz).date()
            first = frame.scalar("SELECT min(lday) FROM ev") or today
            since = min([first, today] + [c.since for s in cfg.sources for c in s.costs])
            until = max([today] + [c.until for s in cfg.sources for c in s.costs])
            period = Period(since, until, ws.tz)
        return period, roi.roi(frame, cfg, period).rows
