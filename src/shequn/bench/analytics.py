"""The `analytics` workload: the AARRR funnel, the weekly retention matrix and per-group daily
activity over a simulated log of N events, each against a plain hand-written DuckDB query of
the same figure over the same data (the baseline), in the same run.

The log is generated inside DuckDB with vectorised SQL — hash-based draws over `range(N)` —
straight into the analytics table `ev`, rather than through the Python ingest path: ten
million events take seconds this way and the benchmark measures the queries, not ingestion.
Shanghai keeps no daylight saving, so the local day is UTC + 8 hours.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shequn.analytics.funnel import funnel
from shequn.analytics.health import health
from shequn.analytics.retention import retention
from shequn.analytics.source import Frame, Period, create_ev, new_connection
from shequn.config.analytics import AnalyticsSection

START = date(2026, 1, 1)
DAYS = 120
GROUPS_PER_MILLION = 40
STATES = ("poster-q4", "store-qr", "oa-article", "xhs-note", "douyin-live", "ads-feed")


def _u(expr: str, salt: int) -> str:
    """A uniform draw in [0, 1) from a hash of `expr` (deterministic, no RNG state)."""
    return f"(hash({expr}, {salt}) % 1000000007) / 1000000007.0"


def generate(frame: Frame, size: int) -> dict[str, int]:
    """Fill `ev` with `size` events: joins, leaves, orders, invites and (mostly) messages."""
    con = frame.con
    members = max(50, size // 40)
    groups = max(5, size * GROUPS_PER_MILLION // 1_000_000)
    leaves = members // 4
    orders = members // 6
    messages = max(0, size - members - leaves - orders)
    states = "[" + ", ".join(f"'{s}'" for s in STATES) + "]"
    con.execute(
        f"""
        CREATE TEMP TABLE people AS
        SELECT i,
               'u-' || i AS member,
               'g-' || CAST(hash(i, 3) % {groups} AS VARCHAR) AS grp,
               TIMESTAMP '{START}' + to_seconds(CAST(floor(
                   {_u("i", 1)} * {DAYS} * 86400) AS BIGINT)) AS joined,
               CASE WHEN i > 10 AND {_u("i", 4)} < 0.15
                    THEN 'u-' || CAST(hash(i, 5) % i AS VARCHAR) END AS inviter,
               {states}[1 + CAST(hash(i, 6) % {len(STATES)} AS INTEGER)] AS state
        FROM range({members}) t(i)
        """
    )
    create_ev(con)
    # The columns every insert fills; the rest of `ev` stays NULL.
    cols = "seq, channel, type, grp, member, ts, lday, kind, is_checkin, inviter, scene, state, mid"
    local = "CAST(ts + INTERVAL 8 HOUR AS DATE)"
    con.execute(
        f"""
        INSERT INTO ev ({cols})
        SELECT i, 'sandbox', 'member.joined', grp, member, joined,
               CAST(joined + INTERVAL 8 HOUR AS DATE), NULL, FALSE, inviter,
               CASE WHEN inviter IS NULL THEN 'qr' ELSE 'invite' END,
               CASE WHEN inviter IS NULL THEN state END, i
        FROM people
        """
    )
    con.execute(
        f"""
        INSERT INTO ev ({cols})
        SELECT {members} + l.i, 'sandbox', 'member.left', p.grp, p.member, ts, {local},
               NULL, FALSE, NULL, NULL, NULL, p.i
        FROM (SELECT i, i * 4 AS who,
                     to_seconds(CAST(floor({_u("i", 7)} * 40 * 86400) AS BIGINT)) AS after
              FROM range({leaves}) t(i)) l
        JOIN people p ON p.i = l.who,
        LATERAL (SELECT p.joined + l.after AS ts)
        """
    )
    con.execute(
        f"""
        INSERT INTO ev ({cols})
        SELECT {members + leaves} + k, 'sandbox', 'order.paid', NULL, p.member, ts, {local},
               NULL, FALSE, NULL, NULL, NULL, p.i
        FROM (SELECT k, hash(k, 8) % {members} AS who,
                     to_seconds(CAST(floor({_u("k", 9)} * {_u("k", 9)} * 60 * 86400) AS BIGINT))
                         AS after
              FROM range({orders}) t(k)) o
        JOIN people p ON p.i = o.who,
        LATERAL (SELECT p.joined + o.after AS ts)
        """
    )
    # A few members say most: the speaker is drawn with a cubed uniform; talk fades with age.
    con.execute(
        f"""
        INSERT INTO ev ({cols})
        SELECT {members + leaves + orders} + k, 'sandbox', 'message.posted', p.grp, p.member,
               ts, {local}, 'text', {_u("k", 12)} < 0.05, NULL, NULL, NULL, p.i
        FROM (SELECT k,
                     CAST(floor(pow({_u("k", 10)}, 3) * {members}) AS BIGINT) AS who,
                     to_seconds(CAST(floor(pow({_u("k", 11)}, 2) * 90 * 86400) AS BIGINT))
                         AS after
              FROM range({messages}) t(k)) m
        JOIN people p ON p.i = m.who,
        LATERAL (SELECT p.joined + m.after AS ts)
        """
    )
    con.execute("DROP TABLE people")
    return {"members": members, "groups": groups}


FUNNEL_BASELINE = """
    WITH j AS (
        SELECT member, arg_min(ts, (ts, seq)) AS t1, arg_min(lday, (ts, seq)) AS d1,
               arg_min(grp, (ts, seq)) AS g1
        FROM ev WHERE type = 'member.joined' GROUP BY member
    ), c AS (SELECT member, t1 FROM j WHERE d1 BETWEEN $since AND $until),
    m AS (SELECT member, ts FROM ev WHERE type = 'message.posted'),
    a AS (SELECT c.member, min(m.ts) AS t2 FROM c JOIN m USING (member)
          WHERE m.ts >= c.t1 AND m.ts < c.t1 + INTERVAL 7 DAY GROUP BY c.member),
    r AS (SELECT c.member, min(m.ts) AS t3 FROM c JOIN a USING (member) JOIN m USING (member)
          WHERE m.ts >= greatest(a.t2, c.t1 + INTERVAL 7 DAY) AND m.ts < c.t1 + INTERVAL 30 DAY
          GROUP BY c.member),
    o AS (SELECT c.member, min(e.ts) AS t4 FROM c JOIN r USING (member) JOIN ev e USING (member)
          WHERE e.type = 'order.paid' AND e.ts >= r.t3 AND e.ts < c.t1 + INTERVAL 30 DAY
          GROUP BY c.member),
    v AS (SELECT x.inviter AS member, i.t1 AS ts FROM j i
          JOIN ev x ON x.type = 'member.joined' AND x.member = i.member AND x.ts = i.t1
          WHERE x.inviter IS NOT NULL AND x.inviter <> i.member
            AND NOT EXISTS (SELECT 1 FROM ev l WHERE l.type = 'member.left'
                            AND l.member = i.member AND l.grp = i.g1
                            AND l.ts >= i.t1 AND l.ts <= i.t1 + INTERVAL 24 HOUR)),
    f AS (SELECT c.member FROM c JOIN o USING (member) JOIN v USING (member)
          WHERE v.ts >= o.t4 AND v.ts < c.t1 + INTERVAL 30 DAY GROUP BY c.member)
    SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM a), (SELECT count(*) FROM r),
           (SELECT count(*) FROM o), (SELECT count(*) FROM f)
"""

RETENTION_BASELINE = """
    WITH c AS (
        SELECT member, CAST(date_trunc('week', arg_min(lday, (ts, seq))) AS DATE) AS p0,
               arg_min(lday, (ts, seq)) AS d1
        FROM ev WHERE type = 'member.joined' GROUP BY member
    ), a AS (
        SELECT DISTINCT member, CAST(date_trunc('week', lday) AS DATE) AS p
        FROM ev WHERE type = 'message.posted' AND lday <= $until
    )
    SELECT c.p0, date_diff('week', c.p0, a.p) AS n, count(*)
    FROM c JOIN a USING (member)
    WHERE c.d1 BETWEEN $since AND $until AND a.p > c.p0
    GROUP BY ALL
"""

ACTIVITY_BASELINE = """
    WITH d AS (
        SELECT grp, lday,
               count(*) FILTER (WHERE type = 'message.posted') AS messages,
               count(DISTINCT member) FILTER (WHERE type = 'message.posted') AS speakers,
               count(*) FILTER (WHERE type = 'member.joined') AS joins,
               count(*) FILTER (WHERE type = 'member.left') AS leaves
        FROM ev WHERE grp IS NOT NULL AND lday <= $until GROUP BY ALL
    ), p AS (
        SELECT grp, member, lday, type,
               lag(type) OVER (PARTITION BY grp, member ORDER BY ts, seq) AS prev
        FROM ev WHERE type IN ('member.joined', 'member.left') AND lday <= $until
    ), n AS (
        SELECT grp, lday,
               sum(CASE WHEN type = 'member.joined' AND prev IS DISTINCT FROM 'member.joined'
                        THEN 1 WHEN type = 'member.left' AND prev = 'member.joined' THEN -1
                        ELSE 0 END) AS delta
        FROM p GROUP BY ALL
    ), s AS (
        SELECT DISTINCT grp, member, lday FROM ev
        WHERE type = 'message.posted' AND lday BETWEEN $since - 6 AND $until
    ), w AS (
        SELECT grp, d.day AS lday, count(DISTINCT member) AS speakers7
        FROM s, LATERAL (SELECT CAST(s.lday + CAST(x AS INTEGER) AS DATE) AS day
                         FROM range(7) r(x)) d
        WHERE d.day BETWEEN $since AND $until GROUP BY ALL
    )
    SELECT d.grp, d.lday, d.messages, d.speakers, d.joins, d.leaves,
           sum(coalesce(n.delta, 0)) OVER (PARTITION BY d.grp ORDER BY d.lday) AS members,
           w.speakers7
    FROM d LEFT JOIN n USING (grp, lday) LEFT JOIN w USING (grp, lday)
    ORDER BY d.grp, d.lday
"""


def _clean(frame: Frame) -> None:
    """Drop what a report cached on the frame, so every timing starts from the log alone."""
    for name in ("ft", "vi", "source_map", "camp_map"):
        frame.con.execute(f"DROP TABLE IF EXISTS {name}")


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def bench_analytics(size: int = 10_000_000, repeat: int = 1, **_: Any) -> list[dict[str, Any]]:
    """One result per figure, in the shape of the `ingest` workload's."""
    frame = Frame(new_connection(), ZoneInfo("Asia/Shanghai"))
    started = time.perf_counter()
    shape = generate(frame, size)
    generated = time.perf_counter() - started
    cfg = AnalyticsSection()
    period = Period(START, START + timedelta(days=DAYS - 1), frame.tz)
    bounds = {"since": period.since, "until": period.until}

    def ours_funnel() -> Any:
        _clean(frame)
        return [r["count"] for r in funnel(frame, cfg, period).rows]

    def base_funnel() -> Any:
        return list(frame.con.execute(FUNNEL_BASELINE, bounds).fetchone() or ())

    def ours_retention() -> Any:
        _clean(frame)
        return len(retention(frame, cfg, period, "week", "first", "on").rows)

    def base_retention() -> Any:
        return len(frame.con.execute(RETENTION_BASELINE, bounds).fetchall())

    def ours_activity() -> Any:
        return len(health(frame, cfg, period).rows)

    def base_activity() -> Any:
        return len(frame.con.execute(ACTIVITY_BASELINE, bounds).fetchall())

    results = []
    for name, ours, base in (
        ("analytics.funnel", ours_funnel, base_funnel),
        ("analytics.retention_weekly", ours_retention, base_retention),
        ("analytics.group_daily_activity", ours_activity, base_activity),
    ):
        ours_s, ours_value = _time(ours, repeat)
        base_s, base_value = _time(base, repeat)
        if name == "analytics.funnel":
            assert ours_value == base_value, (ours_value, base_value)
        results.append(
            {
                "workload": name,
                "events": size,
                "rate": round(size / ours_s),
                "seconds": round(ours_s, 3),
                "baseline_rate": round(size / base_s),
                "baseline_seconds": round(base_s, 3),
                "ratio": round(base_s / ours_s, 3),
                "unit": "events/s",
                "members": shape["members"],
                "groups": shape["groups"],
                "generate_seconds": round(generated, 3),
            }
        )
    frame.close()
    return results
