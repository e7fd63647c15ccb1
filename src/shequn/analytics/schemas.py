"""API models of analytics: the list of reports and one report as a self-describing table."""

from __future__ import annotations

from pydantic import Field

from shequn.analytics.report import Format, ReportName
from shequn.platform.schemas import Answer, Day, Json


class ReportsOut(Answer):
    reports: list[ReportName]


class PeriodOut(Answer):
    since: Day
    until: Day
    tz: str = Field(description="The workspace's time zone, in which days are counted.")


class ColumnOut(Answer):
    key: str = Field(description="The key of this column's cells in every row.")
    format: Format = Field(description="How a person reads the value: int, pct, fen …")


class ReportOut(Answer):
    """One report. Its rows are keyed by its columns' keys (which depend on the report and
    its options, e.g. the funnel's `by`); `meta` holds the figures outside the table."""

    report: ReportName
    period: PeriodOut
    columns: list[ColumnOut]
    rows: list[dict[str, Json]]
    meta: dict[str, Json]
    notes: list[str] = Field(
        default_factory=list, description="How to read the figures, in the workspace's language"
    )
