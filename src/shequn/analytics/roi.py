"""Source ROI 渠道ROI: what each first-touch acquisition source cost and what the members it
brought paid. The one definition of a source's cost and ROI: `shequn report roi`, `shequn
source list` and the campaign review all read it.

Members count for the source of their first join when that join falls in the range. Cost is
the source's lump `cost_fen` (undated: counted whole), plus its cost per member times those
members, plus its dated costs prorated by the days they share with the range. Revenue is their
paid orders less refunds, up to the range's end: each order once (its first `order.paid`),
refunds at most what it paid. ROI = (revenue − cost) / cost.
"""

from __future__ import annotations

from typing import Any

from shequn.analytics.attribution import ensure_first_touch
from shequn.analytics.report import Chart, Column, Report, ratio
from shequn.analytics.source import Frame, Period
from shequn.config.analytics import AnalyticsSection, SourceSpec

ROI_SQL = """
    WITH c AS (SELECT channel, member, source FROM ft WHERE lday BETWEEN $since AND $until),
    paid AS (
        SELECT order_id, arg_min(channel, seq) AS channel, arg_min(member, seq) AS member,
               arg_min(amount_fen, seq) AS amount_fen
        FROM ev WHERE type = 'order.paid' AND lday <= $until
        GROUP BY order_id
    ),
    refunded AS (
        SELECT order_id, sum(amount_fen) AS fen
        FROM ev WHERE type = 'order.refunded' AND lday <= $until
        GROUP BY order_id
    ),
    money AS (
        SELECT p.channel, p.member,
               sum(p.amount_fen - least(coalesce(r.fen, 0), p.amount_fen)) AS net,
               count(*) AS orders
        FROM paid p LEFT JOIN refunded r USING (order_id)
        GROUP BY ALL
    )
    SELECT c.source, count(*) AS members, coalesce(sum(m.net), 0) AS revenue_fen,
           count(*) FILTER (WHERE m.orders > 0) AS paying
    FROM c LEFT JOIN money m USING (channel, member)
    GROUP BY c.source
"""


def source_cost(spec: SourceSpec, members: int, period: Period) -> int:
    cost = spec.cost_fen + spec.cost_per_member_fen * members
    for fixed in spec.costs:
        first, last = max(fixed.since, period.since), min(fixed.until, period.until)
        if last >= first:
            days = (fixed.until - fixed.since).days + 1
            shared = (last - first).days + 1
            cost += round(fixed.cost_fen * shared / days)
    return cost


def roi(frame: Frame, cfg: AnalyticsSection, period: Period) -> Report:
    ensure_first_touch(frame, cfg)
    found = {
        r["source"]: r for r in frame.rows(ROI_SQL, {"since": period.since, "until": period.until})
    }
    specs = {c.name: c for c in cfg.sources}
    rows: list[dict[str, Any]] = []
    for name in sorted(set(found) | set(specs)):
        r = found.get(name, {"members": 0, "revenue_fen": 0, "paying": 0})
        members = int(r["members"])
        revenue = int(r["revenue_fen"])
        spec = specs.get(name)
        cost = source_cost(spec, members, period) if spec else 0
        rows.append(
            {
                "source": name,
                "members": members,
                "paying": int(r["paying"]),
                "cost_fen": cost,
                "revenue_fen": revenue,
                "cost_per_member_fen": round(cost / members) if members else None,
                "revenue_per_member_fen": round(revenue / members) if members else None,
                "roi": ratio(revenue - cost, cost),
            }
        )
    rows.sort(key=lambda row: (-row["revenue_fen"], row["source"]))
    return Report(
        name="roi",
        period=period,
        columns=[
            Column("source", "text"),
            Column("members"),
            Column("paying"),
            Column("cost_fen", "fen"),
            Column("revenue_fen", "fen"),
            Column("cost_per_member_fen", "fen"),
            Column("revenue_per_member_fen", "fen"),
            Column("roi", "pct"),
        ],
        rows=rows,
        chart=Chart("bar", x="source", y=("cost_fen", "revenue_fen")),
    )
