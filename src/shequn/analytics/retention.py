"""Retention cohorts by day or week, in the workspace's time zone.

- first-time: a member's cohort is the period of their first join into the workspace;
- recurring: every period in which a member is active starts a cohort of its own;
- "on": retained in period n when active in exactly that period after the cohort's;
- "on or after": retained in period n when active in that period or any later one.

Being active is posting a message (a check-in is a message). Period 0 is the cohort itself.
Activity after the range's last day is not counted, and a cell whose period starts after the
range is left out: it cannot be known yet.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Literal

from shequn.analytics.attribution import ensure_first_touch
from shequn.analytics.report import Chart, Column, Report, ratio
from shequn.analytics.source import Frame, Period
from shequn.config.analytics import AnalyticsSection

Unit = Literal["day", "week"]
Mode = Literal["first", "recurring"]
Measure = Literal["on", "on_or_after"]


def period_start(day: date, unit: Unit) -> date:
    return day - timedelta(days=day.weekday()) if unit == "week" else day


def periods_between(first: date, last: date, unit: Unit) -> int:
    step = 7 if unit == "week" else 1
    return (period_start(last, unit) - period_start(first, unit)).days // step


def retention_sql(unit: Unit, mode: Mode) -> str:
    """(cohort, mid, n) for every period n ≥ 1 a cohort member was active in.

    Parameters: the range's first and last local day (twice for first-time cohorts).
    """
    trunc = f"CAST(date_trunc('{unit}', lday) AS DATE)"
    if mode == "first":
        cohort = f"""
            SELECT mid, {trunc} AS p0 FROM ft WHERE lday BETWEEN ? AND ?
        """
    else:
        cohort = f"""
            SELECT DISTINCT mid, {trunc} AS p0
            FROM ev WHERE type = 'message.posted' AND lday BETWEEN ? AND ?
        """
    return f"""
        WITH c AS ({cohort}),
        a AS (
            SELECT DISTINCT mid, {trunc} AS p
            FROM ev WHERE type = 'message.posted' AND lday <= ?
        )
        SELECT c.p0, c.mid, date_diff('{unit}', c.p0, a.p) AS n
        FROM c JOIN a USING (mid)
        WHERE a.p > c.p0
    """


def _cohort_sizes_sql(unit: Unit, mode: Mode) -> str:
    trunc = f"CAST(date_trunc('{unit}', lday) AS DATE)"
    if mode == "first":
        return f"SELECT {trunc} AS p0, count(*) FROM ft WHERE lday BETWEEN ? AND ? GROUP BY 1"
    return f"""
        SELECT {trunc} AS p0, count(DISTINCT mid)
        FROM ev WHERE type = 'message.posted' AND lday BETWEEN ? AND ? GROUP BY 1
    """


def retention(
    frame: Frame,
    cfg: AnalyticsSection,
    period: Period,
    unit: Unit = "week",
    mode: Mode = "first",
    measure: Measure = "on",
) -> Report:
    if mode == "first":
        ensure_first_touch(frame, cfg)
    bounds = [period.since, period.until]
    sizes = {
        p0: int(n) for p0, n in frame.con.execute(_cohort_sizes_sql(unit, mode), bounds).fetchall()
    }
    counts: dict[tuple[date, int], int] = defaultdict(int)
    if measure == "on":
        sql = f"SELECT p0, n, count(*) FROM ({retention_sql(unit, mode)}) GROUP BY p0, n"
        for p0, n, count in frame.con.execute(sql, [*bounds, period.until]).fetchall():
            counts[(p0, int(n))] = int(count)
    else:
        # Each member counts in every period up to the last one they were active in.
        sql = f"""
            SELECT p0, last, count(*) FROM (
                SELECT p0, mid, max(n) AS last
                FROM ({retention_sql(unit, mode)}) GROUP BY p0, mid
            ) GROUP BY p0, last
        """
        for p0, last, count in frame.con.execute(sql, [*bounds, period.until]).fetchall():
            for n in range(1, int(last) + 1):
                counts[(p0, n)] += int(count)
    rows = []
    for p0 in sorted(sizes):
        size = sizes[p0]
        horizon = periods_between(p0, period.until, unit)
        for n in range(horizon + 1):
            value = size if n == 0 else counts.get((p0, n), 0)
            rows.append(
                {
                    "cohort": p0,
                    "size": size,
                    "offset": n,
                    "retained_count": value,
                    "rate": ratio(value, size),
                }
            )
    return Report(
        name="retention",
        period=period,
        columns=[
            Column("cohort", "date"),
            Column("size"),
            Column("offset"),
            Column("retained_count"),
            Column("rate", "pct"),
        ],
        rows=rows,
        chart=Chart("heatmap", x="offset", y=("rate",), series="cohort"),
        meta={"unit": unit, "mode": mode, "measure": measure},
    )
