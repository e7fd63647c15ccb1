"""Member levels in the manner of the Orbit model, their movement month over month, community
gravity, and the preset cohorts "new and active" and "recently inactive".

- Love of a member in a month: weighted activity (messages, paid orders, valid invites,
  poster shares; weights in `analytics.orbit`).
- Level: Orbit 1 (ambassadors) to Orbit 3 by love thresholds; Orbit 4 (observers) is every
  other member present that month (in a group at its start, or joined during it).
- Movement: against the month before — up, down, same, new (not present before) and left
  (present before, not now), counted at the level the member is at (left: was at).
- Reach: 1 + other members who replied to or mentioned them + their valid invitees, in the
  month. Gravity = Σ love × reach.
"""

from __future__ import annotations

from datetime import date, timedelta

from shequn.analytics.attribution import ensure_first_touch, ensure_valid_invites
from shequn.analytics.report import Chart, Column, Report
from shequn.analytics.source import Frame, Period
from shequn.config.analytics import AnalyticsSection

LEVELS = ("orbit1", "orbit2", "orbit3", "orbit4")


def months(period: Period) -> list[tuple[date, date]]:
    """The calendar months the range touches, and the one before, each clipped to the range's
    last day."""
    first = (period.since.replace(day=1) - timedelta(days=1)).replace(day=1)
    out = []
    start = first
    while start <= period.until:
        following = (start + timedelta(days=32)).replace(day=1)
        out.append((start, min(following - timedelta(days=1), period.until)))
        start = following
    return out


def ensure_levels(frame: Frame, cfg: AnalyticsSection, period: Period) -> None:
    """Make table `lv` (month, channel, member, love, reach, level) for `months(period)`."""
    ensure_first_touch(frame, cfg)
    ensure_valid_invites(frame, cfg)
    con = frame.con
    con.execute("DROP TABLE IF EXISTS lv_months")
    con.execute("CREATE TEMP TABLE lv_months (month DATE, last DATE)")
    con.executemany("INSERT INTO lv_months VALUES (?, ?)", months(period))
    o = cfg.orbit
    con.execute("DROP TABLE IF EXISTS lv")
    con.execute(
        f"""
        CREATE TEMP TABLE lv AS
        WITH acts AS (
            SELECT channel, member, lday,
                   CASE type WHEN 'message.posted' THEN {o.message}
                             WHEN 'order.paid' THEN {o.order}
                             WHEN 'poster.shared' THEN {o.poster} END AS w
            FROM ev WHERE type IN ('message.posted', 'order.paid', 'poster.shared')
            UNION ALL
            SELECT channel, member, lday, {o.invite} FROM vi
        ), love AS (
            SELECT m.month, a.channel, a.member, sum(a.w) AS love
            FROM lv_months m JOIN acts a ON a.lday BETWEEN m.month AND m.last
            GROUP BY ALL
        ), chg AS (
            SELECT channel, grp, member, lday, type,
                   lag(type) OVER (PARTITION BY channel, grp, member ORDER BY ts, seq) AS prev
            FROM ev WHERE type IN ('member.joined', 'member.left')
        ), deltas AS (
            SELECT channel, member, lday, type,
                   CASE WHEN type = 'member.joined' AND prev IS DISTINCT FROM 'member.joined'
                        THEN 1
                        WHEN type = 'member.left' AND prev = 'member.joined' THEN -1
                        ELSE 0 END AS delta
            FROM chg
        ), present AS (
            SELECT m.month, d.channel, d.member
            FROM lv_months m JOIN deltas d ON d.lday <= m.last
            GROUP BY ALL
            HAVING sum(d.delta) FILTER (WHERE d.lday < m.month) > 0
                OR count(*) FILTER (WHERE d.lday >= m.month AND d.type = 'member.joined') > 0
        ), msgs AS (
            SELECT channel, msg_id, member FROM ev
            WHERE type = 'message.posted' AND msg_id IS NOT NULL
        ), touches AS (
            SELECT r.channel, t.member AS target, r.member AS source, r.lday
            FROM ev r JOIN msgs t ON t.channel = r.channel AND t.msg_id = r.reply_to
            WHERE r.type = 'message.posted' AND r.reply_to IS NOT NULL
            UNION ALL
            SELECT channel, unnest(mentions) AS target, member AS source, lday
            FROM ev WHERE type = 'message.posted' AND mentions IS NOT NULL
            UNION ALL
            SELECT channel, member AS target, invitee AS source, lday FROM vi
        ), reach AS (
            SELECT m.month, t.channel, t.target AS member, count(DISTINCT t.source) AS others
            FROM lv_months m JOIN touches t ON t.lday BETWEEN m.month AND m.last
            WHERE t.source <> t.target
            GROUP BY ALL
        ), pop AS (
            SELECT month, channel, member FROM present
            UNION
            SELECT month, channel, member FROM love
        )
        SELECT p.month, p.channel, p.member, coalesce(l.love, 0) AS love,
               1 + coalesce(r.others, 0) AS reach,
               CASE WHEN coalesce(l.love, 0) >= {o.orbit1} THEN 1
                    WHEN coalesce(l.love, 0) >= {o.orbit2} THEN 2
                    WHEN coalesce(l.love, 0) >= {o.orbit3} THEN 3
                    ELSE 4 END AS level
        FROM pop p
        LEFT JOIN love l USING (month, channel, member)
        LEFT JOIN reach r USING (month, channel, member)
        """
    )


def levels(frame: Frame, cfg: AnalyticsSection, period: Period) -> Report:
    ensure_levels(frame, cfg, period)
    sql = """
        WITH cur AS (
            SELECT l.month, l.channel, l.member, l.level, p.level AS before
            FROM lv l LEFT JOIN lv p
              ON p.channel = l.channel AND p.member = l.member
             AND p.month = CAST(l.month - INTERVAL 1 MONTH AS DATE)
        ), gone AS (
            SELECT CAST(p.month + INTERVAL 1 MONTH AS DATE) AS month, p.level, count(*) AS n
            FROM lv p
            WHERE NOT EXISTS (SELECT 1 FROM lv l WHERE l.channel = p.channel
                              AND l.member = p.member
                              AND l.month = CAST(p.month + INTERVAL 1 MONTH AS DATE))
            GROUP BY ALL
        ), counts AS (
            SELECT month, level, count(*) AS members,
                   count(*) FILTER (WHERE before > level) AS moved_up,
                   count(*) FILTER (WHERE before < level) AS moved_down,
                   count(*) FILTER (WHERE before = level) AS same,
                   count(*) FILTER (WHERE before IS NULL) AS new
            FROM cur GROUP BY ALL
        )
        SELECT month, level, coalesce(c.members, 0) AS members,
               coalesce(c.moved_up, 0) AS moved_up, coalesce(c.moved_down, 0) AS moved_down,
               coalesce(c.same, 0) AS same, coalesce(c.new, 0) AS new,
               coalesce(g.n, 0) AS left
        FROM (SELECT m.month, x.level FROM lv_months m, range(1, 5) x(level)) grid
        LEFT JOIN counts c USING (month, level)
        LEFT JOIN gone g USING (month, level)
        WHERE month >= ?
        ORDER BY month, level
    """
    rows = [
        {
            "month": r["month"],
            "level": LEVELS[int(r["level"]) - 1],
            **{k: int(r[k]) for k in ("members", "moved_up", "moved_down", "same", "new", "left")},
        }
        for r in frame.rows(sql, [period.since.replace(day=1)])
    ]
    return Report(
        name="levels",
        period=period,
        columns=[
            Column("month", "date"),
            Column("level", "text"),
            Column("members"),
            Column("moved_up"),
            Column("moved_down"),
            Column("same"),
            Column("new"),
            Column("left"),
        ],
        rows=rows,
        chart=Chart("stacked", x="month", y=("members",), series="level"),
    )


def gravity(frame: Frame, cfg: AnalyticsSection, period: Period) -> Report:
    ensure_levels(frame, cfg, period)
    sql = """
        SELECT month, count(*) AS members, sum(love) AS love, sum(love * reach) AS gravity
        FROM lv WHERE month >= ? GROUP BY month ORDER BY month
    """
    rows = [
        {
            "month": r["month"],
            "members": int(r["members"]),
            "love": int(r["love"]),
            "gravity": int(r["gravity"]),
        }
        for r in frame.rows(sql, [period.since.replace(day=1)])
    ]
    return Report(
        name="gravity",
        period=period,
        columns=[Column("month", "date"), Column("members"), Column("love"), Column("gravity")],
        rows=rows,
        chart=Chart("line", x="month", y=("gravity",)),
    )


PRESETS_SQL = """
    WITH act AS (
        SELECT channel, member, count(*) AS messages, count(DISTINCT lday) AS active_days,
               max(lday) AS last_active
        FROM ev WHERE type = 'message.posted' AND lday BETWEEN $asof - 89 AND $asof
        GROUP BY ALL
    ), ranked AS (
        SELECT *, row_number() OVER (ORDER BY messages DESC) AS rk, count(*) OVER () AS n
        FROM act
    ), cut AS (
        SELECT min(messages) AS floor FROM ranked WHERE rk <= ceil(n / 4.0)
    ), newcomers AS (
        SELECT f.channel, f.member, f.lday AS joined FROM ft f
        WHERE f.lday BETWEEN $asof - ($new_days - 1) AND $asof
    ), new_active AS (
        SELECT n.channel, n.member, count(*) AS messages, count(DISTINCT e.lday) AS active_days,
               max(e.lday) AS last_active
        FROM newcomers n JOIN ev e USING (channel, member)
        WHERE e.type = 'message.posted' AND e.lday BETWEEN n.joined AND $asof
        GROUP BY ALL
        HAVING count(DISTINCT e.lday) >= $min_days
    )
    SELECT 'new_and_active' AS preset, channel, member, messages, active_days, last_active
    FROM new_active
    UNION ALL
    SELECT 'recently_inactive', channel, member, messages, active_days, last_active
    FROM act, cut
    WHERE messages >= cut.floor AND last_active BETWEEN $asof - 28 AND $asof - 7
    ORDER BY preset, messages DESC, member
"""
"""Top quarter: members whose messages in the 90 days up to the range's end reach the count of
the member ranked at the quarter mark (ties all count). Silent 7–28 days: last message between
28 and 7 days before the range's end."""


def cohorts(frame: Frame, cfg: AnalyticsSection, period: Period) -> Report:
    ensure_first_touch(frame, cfg)
    params = {
        "asof": period.until,
        "new_days": cfg.new_member_days,
        "min_days": cfg.new_active_days,
    }
    rows = [
        {
            "preset": r["preset"],
            "channel": r["channel"],
            "member": r["member"],
            "messages": int(r["messages"]),
            "active_days": int(r["active_days"]),
            "last_active": r["last_active"],
        }
        for r in frame.rows(PRESETS_SQL, params)
    ]
    return Report(
        name="cohorts",
        period=period,
        columns=[
            Column("preset", "text"),
            Column("member", "text"),
            Column("messages"),
            Column("active_days"),
            Column("last_active", "date"),
        ],
        rows=rows,
        chart=Chart("bar", x="preset", y=("rows",)),
        meta={
            "new_and_active": sum(r["preset"] == "new_and_active" for r in rows),
            "recently_inactive": sum(r["preset"] == "recently_inactive" for r in rows),
        },
    )
