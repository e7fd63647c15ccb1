"""Channel ROI: what each first-touch channel cost and what the members it brought paid.

Members count for the channel of their first join when that join falls in the range. Cost is
the channel's cost per member times those members, plus its fixed costs prorated by the days
they share with the range. Revenue is their paid orders less refunds, up to the range's end.
ROI = (revenue − cost) / cost.
"""

from __future__ import annotations

from typing import Any

from shequn.analytics.attribution import ensure_first_touch
from shequn.analytics.config import AnalyticsSection, ChannelSpec
from shequn.analytics.report import Chart, Column, Report, ratio
from shequn.analytics.source import Frame, Period

ROI_SQL = """
    WITH c AS (SELECT channel, member, source FROM ft WHERE lday BETWEEN $since AND $until),
    money AS (
        SELECT channel, member,
               sum(CASE WHEN type = 'order.paid' THEN amount_fen ELSE -amount_fen END) AS net,
               count(*) FILTER (WHERE type = 'order.paid') AS orders
        FROM ev WHERE type IN ('order.paid', 'order.refunded') AND lday <= $until
        GROUP BY ALL
    )
    SELECT c.source, count(*) AS members, coalesce(sum(m.net), 0) AS revenue_fen,
           count(*) FILTER (WHERE m.orders > 0) AS paying
    FROM c LEFT JOIN money m USING (channel, member)
    GROUP BY c.source
"""


def channel_cost(spec: ChannelSpec, members: int, period: Period) -> int:
    cost = spec.cost_per_member_fen * members
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
    specs = {c.name: c for c in cfg.channels}
    rows: list[dict[str, Any]] = []
    for name in sorted(set(found) | set(specs)):
        r = found.get(name, {"members": 0, "revenue_fen": 0, "paying": 0})
        members = int(r["members"])
        revenue = int(r["revenue_fen"])
        spec = specs.get(name)
        cost = channel_cost(spec, members, period) if spec else 0
        rows.append(
            {
                "channel": name,
                "members": members,
                "paying": int(r["paying"]),
                "cost_fen": cost,
                "revenue_fen": revenue,
                "cost_per_member_fen": round(cost / members) if members else None,
                "revenue_per_member_fen": round(revenue / members) if members else None,
                "roi": ratio(revenue - cost, cost),
            }
        )
    rows.sort(key=lambda row: (-row["revenue_fen"], row["channel"]))
    return Report(
        name="roi",
        period=period,
        columns=[
            Column("channel", "text"),
            Column("members"),
            Column("paying"),
            Column("cost_fen", "fen"),
            Column("revenue_fen", "fen"),
            Column("cost_per_member_fen", "fen"),
            Column("revenue_per_member_fen", "fen"),
            Column("roi", "pct"),
        ],
        rows=rows,
        chart=Chart("bar", x="channel", y=("cost_fen", "revenue_fen")),
    )
