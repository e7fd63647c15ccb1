"""The `ingest` workload: simulated chat traffic through the whole pipeline on the embedded
default (SQLite), against the same events inserted in batches into a bare SQLite table."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from shequn.community.service import do_create_workspace
from shequn.engine.ingest import DEFAULT_BATCH
from shequn.engine.rules import load_rule_modules
from shequn.engine.service import do_ingest_lines
from shequn.moderation.normalize import default_normalizer
from shequn.platform.db import make_engine, transaction
from shequn.platform.migrate import upgrade
from shequn.settings import Settings
from shequn.simulate.world import WorldSpec, build_world, chat_traffic


def _lines(n: int) -> list[bytes]:
    return [orjson.dumps(ev) for ev in chat_traffic(n)]


def _baseline(lines: list[bytes], path: Path, batch: int) -> float:
    """Decode and insert in batches into one bare table: no validation, no engine."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, channel TEXT, ext_id TEXT, type TEXT,"
        " group_ext TEXT, member_ext TEXT, at TEXT, data TEXT, UNIQUE (channel, ext_id))"
    )
    started = time.perf_counter()
    for start in range(0, len(lines), batch):
        rows = []
        for line in lines[start : start + batch]:
            ev = orjson.loads(line)
            rows.append(
                (
                    ev["channel"],
                    ev["id"],
                    ev["type"],
                    ev.get("group"),
                    ev.get("member"),
                    ev["at"],
                    orjson.dumps(ev.get("data") or {}).decode(),
                )
            )
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO events (channel, ext_id, type, group_ext, member_ext, at, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _shequn(lines: list[bytes], path: Path, batch: int) -> dict[str, Any]:
    """The whole pipeline on the lines: wall and CPU seconds, and the rate in CPU time of the
    first and the last tenth of the events (by batches), which shows whether costs grow
    with the data already stored."""
    settings = Settings(database_url=f"sqlite:///{path}")
    upgrade(settings)
    engine = make_engine(settings.database_url)
    with transaction(engine) as conn:
        ws = do_create_workspace(conn, "bench", now=settings.clock().now())
    numbered = list(enumerate(lines, start=1))
    # Process-wide tables are built once per process (the normaliser's takes ~0.5 s); the
    # workload measures steady-state throughput, so they are built before the clock starts.
    load_rule_modules()
    default_normalizer()
    marks: list[tuple[int, float]] = []
    done = 0

    def mark(n: int) -> None:
        nonlocal done
        done += n
        marks.append((done, time.process_time()))

    started, cpu_started = time.perf_counter(), time.process_time()
    marks.append((0, cpu_started))
    report = do_ingest_lines(engine, ws, lambda: iter(numbered), batch_size=batch, progress=mark)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    engine.dispose()
    assert report.accepted == len(lines), report.summary()
    return {"seconds": elapsed, "cpu_seconds": cpu, **_tenths(marks)}


def _tenths(marks: list[tuple[int, float]]) -> dict[str, Any]:
    """Events per CPU-second over the batches of the first and the last tenth of the
    events. The first batch is left out of the first tenth: it also pays for validating the
    whole input, which comes before any batch."""
    total = marks[-1][0]
    if len(marks) < 4:
        return {}  # too few batches for a curve
    start = 1
    first = next(i for i, (n, _) in enumerate(marks) if n >= marks[start][0] + total / 10)
    last = max(i for i, (n, _) in enumerate(marks) if n <= total - total / 10)
    head = (marks[first][0] - marks[start][0]) / (marks[first][1] - marks[start][1])
    tail = (total - marks[last][0]) / (marks[-1][1] - marks[last][1])
    return {
        "first_tenth_rate_cpu": round(head),
        "last_tenth_rate_cpu": round(tail),
        "last_to_first": round(tail / head, 3),
    }


def _measure(lines: list[bytes], batch: int, workload: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shequn-bench-") as tmp:
        base_s = _baseline(lines, Path(tmp) / "baseline.db", batch)
        ours = _shequn(lines, Path(tmp) / "shequn.db", batch)
    size = len(lines)
    rate = size / ours.pop("seconds")
    baseline = size / base_s
    return {
        "workload": workload,
        "events": size,
        "batch": batch,
        "rate": round(rate),
        "seconds": round(size / rate, 3),
        "cpu_seconds": round(ours.pop("cpu_seconds"), 3),
        "baseline_rate": round(baseline),
        "baseline_seconds": round(base_s, 3),
        "ratio": round(rate / baseline, 3),
        **ours,
        "unit": "events/s",
    }


def bench_ingest(size: int = 100_000, batch: int | None = None, **_: Any) -> dict[str, Any]:
    """Chat traffic (messages, joins, leaves) through the whole pipeline."""
    return _measure(_lines(size), batch or DEFAULT_BATCH, "ingest")


def _world_lines(n: int) -> list[bytes]:
    """The first `n` events of a simulated world sized to hold them (about 22 events per
    person over 28 days)."""
    spec = WorldSpec(groups=max(5, n // 20_000), members=max(100, n // 20), days=28)
    events = build_world(spec).events
    assert len(events) >= n, (len(events), n)
    return [orjson.dumps(ev) for ev in events[:n]]


def bench_ingest_world(size: int = 100_000, batch: int | None = None, **_: Any) -> dict[str, Any]:
    """A simulated world (every kind of event it makes: joins through live codes and
    invites, scans, orders, refunds, coupons, poster shares, messages, leaves) through the
    whole pipeline on the default configuration."""
    return _measure(_world_lines(size), batch or DEFAULT_BATCH, "ingest-world")
