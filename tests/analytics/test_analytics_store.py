"""The kept analytics store gives every report exactly the figures of reading the whole log,
as events keep arriving; appending is idempotent and survives a crash halfway."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import Engine

from shequn.analytics import source, store
from shequn.analytics.report import REPORTS
from shequn.analytics.service import Options, frame_of, run_report
from shequn.analytics.source import Period, load_frame
from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.platform.db import make_engine, transaction
from shequn.settings import get_settings
from shequn.simulate.service import validated
from shequn.simulate.world import World, build_world
from tests.analytics import reference as ref
from tests.analytics.test_analytics_figures import (
    CONFIG,
    SINCE,
    SPEC,
    UNTIL,
    _database,
)
from tests.conftest import BACKENDS

OPTIONS = [Options(by=by) for by in (None, "source", "campaign", "group", "cohort")] + [
    Options(unit="week", mode="first", measure="on"),
    Options(unit="day", mode="recurring", measure="on_or_after"),
]
PERIODS = (Period(SINCE, UNTIL, ref.SH), Period(SINCE, SINCE.replace(day=20), ref.SH))


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SPEC)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(_database(request, request.param, tmp_path))
    yield eng
    eng.dispose()


def _store_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEQUN_ANALYTICS_DIR", "")
    get_settings.cache_clear()


def _store_on(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    monkeypatch.setenv("SHEQUN_ANALYTICS_DIR", str(directory))
    get_settings.cache_clear()


def figures(
    engine: Engine, ws: WorkspaceInfo, periods: tuple[Period, ...] = PERIODS[:1]
) -> list[Any]:
    """Every report over the log, with the options that change how it reads it."""
    answers: list[Any] = []
    for period in periods:
        for name in REPORTS:
            for options in OPTIONS if name in ("funnel", "retention") else [Options()]:
                answers.append(run_report(engine, ws, name, period, options).to_json())
    return answers


def full_load_figures(
    engine: Engine,
    ws: WorkspaceInfo,
    monkeypatch: pytest.MonkeyPatch,
    directory: Path,
    periods: tuple[Period, ...] = PERIODS[:1],
) -> list[Any]:
    _store_off(monkeypatch)
    try:
        return figures(engine, ws, periods)
    finally:
        _store_on(monkeypatch, directory)


def assert_kept(engine: Engine, ws: WorkspaceInfo) -> None:
    """Reports read the store (not a fallback to the whole log)."""
    with frame_of(engine, ws) as frame:
        attached = "SELECT count(*) FROM duckdb_databases() WHERE database_name = 'st'"
        assert frame.scalar(attached) == 1


def stored(engine: Engine, ws: WorkspaceInfo) -> tuple[int, int, int]:
    """(events, distinct seq, watermark) of the workspace's store."""
    path = store.store_path(engine, ws)
    assert path is not None and path.exists()
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(
            "SELECT count(*), count(DISTINCT seq), (SELECT watermark FROM meta) FROM ev"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_every_report_matches_the_full_load_as_events_arrive(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory = tmp_path / "kept"
    _store_on(monkeypatch, directory)
    events = list(world.events)
    half = len(events) // 2
    with transaction(engine) as conn:
        from shequn.community.service import do_create_workspace
        from tests.factories import NOW

        ws = do_create_workspace(conn, f"t-{uuid.uuid4().hex[:12]}", now=NOW)
        ws = do_apply_config(conn, ws.slug, CONFIG)
    do_ingest_events(engine, ws, validated(iter(events[:half])))

    first = figures(engine, ws, PERIODS)
    assert_kept(engine, ws)
    assert stored(engine, ws) == (half, half, stored(engine, ws)[2])
    assert first == full_load_figures(engine, ws, monkeypatch, directory, PERIODS)

    # More events arrive: the next report appends only them, and still agrees.
    do_ingest_events(engine, ws, validated(iter(events[half:])))
    second = figures(engine, ws)
    assert_kept(engine, ws)
    assert second != first[: len(second)]
    assert second == full_load_figures(engine, ws, monkeypatch, directory)
    count, distinct, _ = stored(engine, ws)
    assert count == distinct == len(events)

    # The same events sent again are duplicates: nothing more is stored or counted.
    do_ingest_events(engine, ws, validated(iter(events[-50:])))
    assert_kept(engine, ws)
    assert stored(engine, ws)[:2] == (len(events), len(events))


def test_a_report_inside_a_transaction_reads_the_tail_without_appending_it(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory = tmp_path / "kept"
    _store_on(monkeypatch, directory)
    events = list(world.events)
    ws = ingest_world_part(engine, events[: len(events) // 3])
    with frame_of(engine, ws):  # the store now holds the first third
        pass
    before = stored(engine, ws)
    do_ingest_events(engine, ws, validated(iter(events[len(events) // 3 :])))
    with engine.connect() as conn, frame_of(conn, ws) as frame:
        kept = frame.rows("SELECT * FROM ev ORDER BY seq")
    assert stored(engine, ws) == before  # read, not appended
    _store_off(monkeypatch)
    with frame_of(engine, ws) as frame:
        whole = frame.rows("SELECT * FROM ev ORDER BY seq")
    # Members are numbered in another order; every other column is the same, row for row.
    strip = [{k: v for k, v in r.items() if k != "mid"} for r in whole]
    assert [{k: v for k, v in r.items() if k != "mid"} for r in kept] == strip
    assert len(kept) == len(events)
    # One number per (channel, member), in both.
    pairs = {(r["channel"], r["member"]): r["mid"] for r in kept if r["member"] is not None}
    assert all(pairs[(r["channel"], r["member"])] == r["mid"] for r in kept if r["member"])
    assert len(set(pairs.values())) == len(pairs)


def ingest_world_part(engine: Engine, events: list[dict[str, Any]]) -> WorkspaceInfo:
    from shequn.community.service import do_create_workspace
    from tests.factories import NOW

    with transaction(engine) as conn:
        ws = do_create_workspace(conn, f"t-{uuid.uuid4().hex[:12]}", now=NOW)
        ws = do_apply_config(conn, ws.slug, CONFIG)
    do_ingest_events(engine, ws, validated(iter(events)))
    return ws


CRASH = """
import os, sys
from shequn.analytics import source, store
from shequn.community.service import load_workspace
from shequn.domains import install
from shequn.platform.db import make_engine

install()
store.SLICE = store.CHUNK = 400  # several slices; the second one dies before its commit
calls = 0
number = store.number_new_members

def dying(*args):
    global calls
    calls += 1
    number(*args)
    if calls == 2:
        os._exit(9)

store.number_new_members = dying
source.CHUNK = 400
engine = make_engine(sys.argv[1])
ws = load_workspace(engine, sys.argv[2])
path = store.store_path(engine, ws)
store.lock(path)
with engine.connect() as conn:
    store.append(conn, ws, path)
sys.exit("the append should have died halfway")
"""


def _rows(path: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [
            *con.execute("SELECT * FROM ev ORDER BY seq").fetchall(),
            *con.execute("SELECT * FROM members ORDER BY mid").fetchall(),
            *con.execute("SELECT * FROM meta").fetchall(),
        ]
    finally:
        con.close()


def _append_all(engine: Engine, ws: WorkspaceInfo) -> Path:
    path = store.store_path(engine, ws)
    assert path is not None
    release = store.lock(path)
    try:
        with engine.connect() as conn:
            store.append(conn, ws, path)
            assert store.append(conn, ws, path) == 0  # a re-run with nothing new
    finally:
        release()
    return path


def test_a_crash_halfway_and_a_rerun_store_what_one_clean_run_stores(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    ws = ingest_world_part(engine, list(world.events))
    total = len(world.events)
    _store_on(monkeypatch, crashed)
    died = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH), engine.url.render_as_string(False), ws.slug],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert died.returncode == 9, died.stderr
    count, distinct, _ = stored(engine, ws)
    assert 0 < count == distinct < total  # the slices committed before the crash, once each

    # Both runs append in slices of the same size, so they number members alike.
    monkeypatch.setattr(store, "SLICE", 400)
    monkeypatch.setattr(store, "CHUNK", 400)
    monkeypatch.setattr(source, "CHUNK", 400)
    after_crash = _rows(_append_all(engine, ws))
    _store_on(monkeypatch, clean)
    assert after_crash == _rows(_append_all(engine, ws))
    assert stored(engine, ws)[:2] == (total, total)


def test_the_store_is_rebuilt_when_what_it_was_computed_with_changes(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _store_on(monkeypatch, tmp_path / "kept")
    ws = ingest_world_part(engine, list(world.events))
    checkins = "SELECT count(*) FROM ev WHERE is_checkin"
    with frame_of(engine, ws) as frame:
        before = frame.scalar(checkins)
    # Other check-in keywords: every stored `is_checkin` is stale, the store is rebuilt.
    with transaction(engine) as conn:
        ws = do_apply_config(conn, ws.slug, {**CONFIG, "checkin": {"keywords": ["早"]}})
    with frame_of(engine, ws) as frame, load_frame(engine, ws) as whole:
        assert frame.scalar(checkins) == whole.scalar(checkins) != before
    # A store that does not match the database's log (a restored database): rebuilt.
    path = store.store_path(engine, ws)
    assert path is not None
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET last_ext_id = 'not-this-one'")
    con.execute("DELETE FROM ev WHERE seq % 2 = 0")
    con.close()
    assert figures(engine, ws) == full_load_figures(engine, ws, monkeypatch, tmp_path / "kept")
    assert_kept(engine, ws)
    assert stored(engine, ws)[:2] == (len(world.events), len(world.events))
