"""The `analytics` workload: each report (funnel, retention, group health, source ROI) read
from the kept store of a simulated log of N events, against a plain hand-written DuckDB query of
the same figure over the same stored file (the baseline), in the same run.

The log is generated inside DuckDB with vectorised SQL — hash-based draws over `range(N)` —
and written as rows of a real SQLite database's `events` table (the columns and JSON the
ingest writes), without running the rules: ten million events take minutes this way instead of
hours. From there everything is the product's own path: the store is appended from the
database (`analytics.store.append`), the last 1 % of the log arrives afterwards and is appended
by the first report, and each report runs through `run_report` — lock, watermark check, tail,
the report — exactly as `shequn report` does. Shanghai keeps no daylight saving, so the local
day is UTC + 8 hours.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from shequn.analytics.service import frame_of, run_report
from shequn.analytics.source import CHUNK, Frame, Period, create_ev, load_frame, new_connection
from shequn.analytics.store import append, lock, store_path
from shequn.community.service import do_create_workspace
from shequn.platform.db import make_engine, transaction
from shequn.platform.migrate import upgrade
from shequn.settings import Settings, get_settings

if TYPE_CHECKING:
    import duckdb

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


ROI_BASELINE = """
    WITH f AS (
        SELECT channel, member, arg_min(lday, (ts, seq)) AS d1,
               arg_min(coalesce(state, code, CASE WHEN inviter IS NOT NULL THEN 'referral'
                                                   ELSE 'direct' END), (ts, seq)) AS source
        FROM ev WHERE type = 'member.joined' GROUP BY ALL
    ), paid AS (
        SELECT order_id, arg_min(channel, seq) AS channel, arg_min(member, seq) AS member,
               arg_min(amount_fen, seq) AS fen
        FROM ev WHERE type = 'order.paid' AND lday <= $until GROUP BY order_id
    ), money AS (
        SELECT channel, member, sum(fen) AS net FROM paid GROUP BY ALL
    )
    SELECT f.source, count(*), coalesce(sum(m.net), 0)
    FROM f LEFT JOIN money m USING (channel, member)
    WHERE f.d1 BETWEEN $since AND $until GROUP BY f.source ORDER BY f.source
"""

RAW_LOG = """
    CREATE TABLE raw AS
    SELECT row_number() OVER (ORDER BY ts, seq) AS seq, channel, 'e-' || seq AS ext_id,
           CAST(type AS VARCHAR) AS type, grp AS group_ext, member AS member_ext,
           strftime(ts, '%Y-%m-%d %H:%M:%S.%f') AS "at",
           CAST(CASE type
               WHEN 'member.joined' THEN
                   CASE WHEN inviter IS NULL THEN json_object('scene', scene, 'state', state)
                        ELSE json_object('scene', scene, 'inviter', inviter) END
               WHEN 'order.paid' THEN
                   json_object('order_id', 'o-' || seq, 'amount_fen', 990 + hash(seq, 13) % 20000)
               WHEN 'message.posted' THEN
                   json_object('kind', 'text', 'message_id', 'm-' || seq,
                               'text', CASE WHEN is_checkin THEN '打卡' ELSE '今天的分享' END)
               ELSE json_object() END AS VARCHAR) AS data
    FROM ev ORDER BY 1
"""
"""The generated `ev` as the log's rows: numbered in order of time, `data` as the ingest
writes it (only the fields an event has)."""


def _write_log(
    con: duckdb.DuckDBPyConnection, db: Path, workspace_id: int, first: int, last: int
) -> None:
    """Rows `first`..`last` of `raw` into the SQLite database's `events` table."""
    cur = con.execute(
        'SELECT seq, ?, channel, ext_id, type, group_ext, member_ext, "at", data FROM raw'
        " WHERE seq BETWEEN ? AND ? ORDER BY seq",
        [workspace_id, first, last],
    )
    target = sqlite3.connect(db)
    try:
        while rows := cur.fetchmany(CHUNK):
            with target:
                target.executemany(
                    "INSERT INTO events (seq, workspace_id, channel, ext_id, type, group_ext,"
                    " member_ext, at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
    finally:
        target.close()


@contextmanager
def _store_in(directory: Path) -> Iterator[None]:
    """Reports keep their store in `directory` while the workload runs."""
    before = os.environ.get("SHEQUN_ANALYTICS_DIR")
    os.environ["SHEQUN_ANALYTICS_DIR"] = str(directory)
    get_settings.cache_clear()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SHEQUN_ANALYTICS_DIR", None)
        else:
            os.environ["SHEQUN_ANALYTICS_DIR"] = before
        get_settings.cache_clear()


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall-clock seconds of `repeat` runs, the CPU-seconds of that run, the answer."""
    best, cpu, result = float("inf"), 0.0, None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = fn()
        elapsed = time.perf_counter() - started
        if elapsed < best:
            best, cpu = elapsed, time.process_time() - started_cpu
    return best, cpu, result


def _hand_written(path: Path, sql: str, bounds: dict[str, Any]) -> Callable[[], list[Any]]:
    """The baseline: open the stored file and run one query over its `ev`, nothing else."""

    def run() -> list[Any]:
        release = lock(path)
        con = new_connection()
        try:
            con.execute(f"ATTACH '{path}' AS st (READ_ONLY)")
            con.execute("CREATE VIEW ev AS SELECT * FROM st.ev")
            return con.execute(sql, bounds).fetchall()
        finally:
            con.close()
            release()

    return run


def bench_analytics(size: int = 10_000_000, repeat: int = 3, **_: Any) -> list[dict[str, Any]]:
    """One result per figure: building the store, appending a tail, then each report (the
    best of `repeat` runs, and of as many runs of its baseline)."""
    with (
        tempfile.TemporaryDirectory(prefix="shequn-bench-") as tmp,
        _store_in(Path(tmp) / "analytics"),
    ):
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'shequn.db'}")
        upgrade(settings)
        engine = make_engine(settings.database_url)
        try:
            return _run(engine, Path(tmp) / "shequn.db", size, repeat)
        finally:
            engine.dispose()


def _run(engine: Engine, db: Path, size: int, repeat: int) -> list[dict[str, Any]]:
    with transaction(engine) as conn:
        ws = do_create_workspace(
            conn, "bench", now=datetime.combine(START, datetime.min.time(), UTC)
        )
    gen = Frame(new_connection(), ws.tz)
    started = time.perf_counter()
    shape = generate(gen, size)
    gen.con.execute(RAW_LOG)
    gen.con.execute("DROP TABLE ev")
    tail = max(1, size // 100)
    _write_log(gen.con, db, ws.id, 1, size - tail)
    generated = time.perf_counter() - started
    common = {"events": size, "members": shape["members"], "groups": shape["groups"]}
    path = store_path(engine, ws)
    assert path is not None
    results: list[dict[str, Any]] = []

    def build() -> int:
        release = lock(path)
        try:
            return append(engine, ws, path)
        finally:
            release()

    def load_whole() -> None:
        load_frame(engine, ws).close()

    build_s, build_cpu, appended = _time(build, 1)
    assert appended == size - tail, appended
    load_s, load_cpu, _ = _time(load_whole, 1)
    results.append(
        {
            "workload": "analytics.store_build",
            **common,
            "appended": appended,
            "seconds": round(build_s, 3),
            "cpu_seconds": round(build_cpu, 3),
            "baseline": "the whole log loaded into DuckDB (every report's cost without the store)",
            "baseline_seconds": round(load_s, 3),
            "baseline_cpu_seconds": round(load_cpu, 3),
            "ratio": round(load_s / build_s, 3),
            "store_bytes_per_event": round(path.stat().st_size / appended, 1),
            "generate_seconds": round(generated, 3),
        }
    )
    # The last 1 % arrives after the store was built: the next report appends it first.
    _write_log(gen.con, db, ws.id, size - tail + 1, size)
    gen.close()

    def open_with_tail() -> None:
        frame_of(engine, ws).close()

    tail_s, tail_cpu, _ = _time(open_with_tail, 1)
    results.append(
        {
            "workload": "analytics.append_tail",
            **common,
            "appended": tail,
            "seconds": round(tail_s, 3),
            "cpu_seconds": round(tail_cpu, 3),
        }
    )
    period = Period(START, START + timedelta(days=DAYS - 1), ws.tz)
    bounds = {"since": period.since, "until": period.until}

    def report(name: str, answer: Callable[[list[dict[str, Any]]], Any]) -> Callable[[], Any]:
        return lambda: answer(run_report(engine, ws, name, period).rows)

    def funnel_counts(rows: list[dict[str, Any]]) -> Any:
        return [r["count"] for r in rows]

    def roi_figures(rows: list[dict[str, Any]]) -> Any:
        return sorted((r["source"], r["members"], r["revenue_fen"]) for r in rows if r["members"])

    def base_roi(rows: list[Any]) -> Any:
        return sorted(tuple(r) for r in rows)

    for name, ours, sql, base, same in (
        ("funnel", report("funnel", funnel_counts), FUNNEL_BASELINE, lambda r: list(r[0]), True),
        ("retention", report("retention", len), RETENTION_BASELINE, len, False),
        ("health", report("health", len), ACTIVITY_BASELINE, len, False),
        ("roi", report("roi", roi_figures), ROI_BASELINE, base_roi, True),
    ):
        hand = _hand_written(path, sql, bounds)
        ours_s, ours_cpu, ours_value = _time(ours, repeat)
        base_s, base_cpu, base_rows = _time(hand, repeat)
        if same:  # the report and the hand-written query count the same things
            assert ours_value == base(base_rows), (name, ours_value, base(base_rows))
        results.append(
            {
                "workload": f"analytics.{name}",
                **common,
                "rate": round(size / ours_s),
                "seconds": round(ours_s, 3),
                "cpu_seconds": round(ours_cpu, 3),
                "baseline_rate": round(size / base_s),
                "baseline_seconds": round(base_s, 3),
                "baseline_cpu_seconds": round(base_cpu, 3),
                "ratio": round(base_s / ours_s, 3),
                "unit": "events/s",
            }
        )
    return results
