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
from shequn.simulate.world import chat_traffic


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


def _shequn(lines: list[bytes], path: Path, batch: int) -> float:
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
    started = time.perf_counter()
    report = do_ingest_lines(engine, ws, lambda: iter(numbered), batch_size=batch)
    elapsed = time.perf_counter() - started
    engine.dispose()
    assert report.accepted == len(lines), report.summary()
    return elapsed


def bench_ingest(size: int = 100_000, batch: int | None = None, **_: Any) -> dict[str, Any]:
    lines = _lines(size)
    batch = batch or DEFAULT_BATCH
    with tempfile.TemporaryDirectory(prefix="shequn-bench-") as tmp:
        base_s = _baseline(lines, Path(tmp) / "baseline.db", batch)
        ours_s = _shequn(lines, Path(tmp) / "shequn.db", batch)
    rate = size / ours_s
    baseline = size / base_s
    return {
        "workload": "ingest",
        "events": size,
        "batch": batch,
        "rate": round(rate),
        "seconds": round(ours_s, 3),
        "baseline_rate": round(baseline),
        "baseline_seconds": round(base_s, 3),
        "ratio": round(rate / baseline, 3),
        "unit": "events/s",
    }
