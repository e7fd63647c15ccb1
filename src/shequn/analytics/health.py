"""Group health over time: per group and local day, members at the day's end, speakers,
messages, silent ratio, joins and leaves, and the group's stage over the trailing 7 days.

Members are counted from joins and leaves (a join while already in, or a leave while out,
changes nothing). Stages, checked in this order:
- dead: fewer than `dead_speaker_share` of the members spoke in the last 7 days;
- growing: net joins of the last 7 days reach `growing_net_share` of the members;
- declining: messages of the last 7 days fell below `declining_message_ratio` of the 7 before;
- active: otherwise.
"""

from __future__ import annotations

from shequn.analytics.report import Chart, Column, Report
from shequn.analytics.source import Frame, Period
from shequn.config.analytics import AnalyticsSection

DAILY_SQL = """
    WITH chg AS (
        SELECT channel, grp, lday, type,
               lag(type) OVER (PARTITION BY channel, grp, member ORDER BY ts, seq) AS prev
        FROM ev WHERE type IN ('member.joined', 'member.left') AND lday <= $until
    ), moves AS (
        SELECT channel, grp, lday,
               sum(CASE WHEN type = 'member.joined' AND prev IS DISTINCT FROM 'member.joined'
                        THEN 1
                        WHEN type = 'member.left' AND prev = 'member.joined' THEN -1
                        ELSE 0 END) AS delta,
               count(*) FILTER (WHERE type = 'member.joined') AS joins,
               count(*) FILTER (WHERE type = 'member.left') AS leaves
        FROM chg GROUP BY ALL
    ), spoke AS (
        -- One pass over the messages: who spoke in which group on which day, and how much.
        SELECT channel, grp, mid, lday, count(*) AS n
        FROM ev WHERE type = 'message.posted' AND lday BETWEEN $since - 13 AND $until
        GROUP BY ALL
    ), talk AS (
        SELECT channel, grp, lday, sum(n) AS messages, count(*) AS speakers
        FROM spoke GROUP BY ALL
    ), cover AS (
        -- A day a member spoke counts them in the trailing 7 days of that day and the six
        -- after, up to the next day they spoke: disjoint spans, so speakers in the last 7
        -- days is a running sum of span starts and ends instead of a 7-fold range join.
        SELECT channel, grp, lday AS first,
               least(lday + 6, coalesce(
                   lead(lday) OVER (PARTITION BY channel, grp, mid ORDER BY lday) - 1,
                   lday + 6)) AS last
        FROM spoke
    ), edges AS (
        SELECT channel, grp, lday, sum(d) AS d FROM (
            SELECT channel, grp, first AS lday, 1 AS d FROM cover
            UNION ALL
            SELECT channel, grp, last + 1, -1 FROM cover
        ) GROUP BY ALL
    ), groups AS (
        SELECT channel, grp, min(lday) AS born
        FROM ev WHERE grp IS NOT NULL AND lday <= $until GROUP BY ALL
    ), spine AS (
        SELECT g.channel, g.grp, CAST(d.day AS DATE) AS lday
        FROM groups g,
             generate_series(CAST(greatest(g.born, $since - 13) AS TIMESTAMP),
                             CAST($until AS TIMESTAMP), INTERVAL 1 DAY) AS d(day)
    ), before AS (
        SELECT channel, grp, sum(delta) AS base FROM moves WHERE lday < $since - 13 GROUP BY ALL
    ), daily AS (
        SELECT s.channel, s.grp, s.lday,
               coalesce(b.base, 0) + sum(coalesce(m.delta, 0)) OVER w AS members,
               coalesce(t.speakers, 0) AS speakers, coalesce(t.messages, 0) AS messages,
               coalesce(m.joins, 0) AS joins, coalesce(m.leaves, 0) AS leaves,
               sum(coalesce(m.joins, 0) - coalesce(m.leaves, 0)) OVER w7 AS net7,
               sum(coalesce(t.messages, 0)) OVER w7 AS messages7,
               sum(coalesce(t.messages, 0)) OVER prev7 AS messages_prev7,
               sum(coalesce(x.d, 0)) OVER w AS speakers7
        FROM spine s
        LEFT JOIN moves m USING (channel, grp, lday)
        LEFT JOIN talk t USING (channel, grp, lday)
        LEFT JOIN edges x USING (channel, grp, lday)
        LEFT JOIN before b USING (channel, grp)
        WINDOW w AS (PARTITION BY s.channel, s.grp ORDER BY s.lday
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
               w7 AS (PARTITION BY s.channel, s.grp ORDER BY s.lday
                      ROWS BETWEEN 6 PRECEDING AND CURRENT ROW),
               prev7 AS (PARTITION BY s.channel, s.grp ORDER BY s.lday
                         ROWS BETWEEN 13 PRECEDING AND 7 PRECEDING)
    )
    SELECT d.channel, d.grp, d.lday, d.members, d.speakers, d.messages, d.joins, d.leaves,
           d.net7, d.messages7, coalesce(d.messages_prev7, 0) AS messages_prev7,
           d.speakers7
    FROM daily d
    WHERE d.lday >= $since
    ORDER BY d.grp, d.channel, d.lday
"""
"""The moves before the spine's first day are summed once; the spine then starts 13 days
before the range so that the trailing windows of the first days are whole."""


def stage(
    cfg: AnalyticsSection,
    members: int,
    speakers7: int,
    net7: int,
    messages7: int,
    messages_prev7: int,
) -> str:
    h = cfg.health
    if members <= 0 or speakers7 < h.dead_speaker_share * members or messages7 == 0:
        return "dead"
    if net7 > 0 and net7 >= h.growing_net_share * members:
        return "growing"
    if messages_prev7 > 0 and messages7 < h.declining_message_ratio * messages_prev7:
        return "declining"
    return "active"


def health(frame: Frame, cfg: AnalyticsSection, period: Period, group: str | None = None) -> Report:
    rows = []
    for r in frame.rows(DAILY_SQL, {"since": period.since, "until": period.until}):
        if group is not None and r["grp"] != group:
            continue
        members = max(int(r["members"]), 0)
        speakers = int(r["speakers"])
        rows.append(
            {
                "group": r["grp"],
                "day": r["lday"],
                "members": members,
                "speakers": speakers,
                "messages": int(r["messages"]),
                "silent_ratio": max(0.0, 1 - speakers / members) if members else None,
                "joins": int(r["joins"]),
                "leaves": int(r["leaves"]),
                "stage": stage(
                    cfg,
                    members,
                    int(r["speakers7"]),
                    int(r["net7"]),
                    int(r["messages7"]),
                    int(r["messages_prev7"]),
                ),
            }
        )
    return Report(
        name="health",
        period=period,
        columns=[
            Column("group", "text"),
            Column("day", "date"),
            Column("members"),
            Column("speakers"),
            Column("messages"),
            Column("silent_ratio", "pct"),
            Column("joins"),
            Column("leaves"),
            Column("stage", "text"),
        ],
        rows=rows,
        chart=Chart("line", x="day", y=("messages", "speakers", "members"), series="group"),
        meta={"group": group},
    )
