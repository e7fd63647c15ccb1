"""Each analytic on a small simulated world, checked against a straightforward Python
computation from the raw events (tests/analytics/reference.py), on every backend."""

from __future__ import annotations

import io
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from shequn.analytics import ledgers
from shequn.analytics.funnel import STEPS, funnel
from shequn.analytics.health import health, stage
from shequn.analytics.kol import kol
from shequn.analytics.orbit import LEVELS, cohorts, gravity, levels
from shequn.analytics.retention import retention
from shequn.analytics.roi import roi
from shequn.analytics.source import Frame, Period, load_frame
from shequn.community.service import do_apply_config, do_create_workspace
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import make_engine, transaction
from shequn.simulate.channels import ACQUISITION_CHANNELS
from shequn.simulate.service import validated
from shequn.simulate.world import World, WorldSpec, build_world
from tests.analytics import reference as ref
from tests.conftest import BACKENDS
from tests.factories import NOW

SPEC = WorldSpec(
    groups=3, members=260, days=40, seed=11, start=datetime(2026, 10, 1, tzinfo=ref.SH)
)
SINCE, UNTIL = date(2026, 10, 1), date(2026, 11, 9)
SOURCES = {c.state: c.name for c in ACQUISITION_CHANNELS}
PER_MEMBER = {c.name: c.cost_fen for c in ACQUISITION_CHANNELS}
CONFIG = {
    "analytics": {
        "sources": [
            {
                "name": c.name,
                "label": c.label,
                "states": [c.state],
                "cost_per_member_fen": c.cost_fen,
            }
            for c in ACQUISITION_CHANNELS
        ]
    }
}


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SPEC)


@pytest.fixture(scope="module")
def evs(world: World) -> list[ref.Ev]:
    return ref.parse(list(world.events))


def _database(request: pytest.FixtureRequest, backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        path = tmp / f"{uuid.uuid4().hex}.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("postgres_url"))


def ingest_world(engine: Engine, world: World) -> WorkspaceInfo:
    with transaction(engine) as conn:
        ws = do_create_workspace(conn, f"t-{uuid.uuid4().hex[:12]}", now=NOW)
        ws = do_apply_config(conn, ws.slug, CONFIG)
    do_ingest_events(engine, ws, validated(iter(world.events)))
    return ws


@pytest.fixture(scope="module", params=BACKENDS)
def stored(
    request: pytest.FixtureRequest, world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, WorkspaceInfo]]:
    url = _database(request, request.param, tmp_path_factory.mktemp("analytics"))
    engine = make_engine(url)
    yield engine, ingest_world(engine, world)
    engine.dispose()


@pytest.fixture(scope="module")
def frame(stored: tuple[Engine, WorkspaceInfo]) -> Iterator[Frame]:
    engine, ws = stored
    with load_frame(engine, ws) as f:
        yield f


@pytest.fixture(scope="module")
def period() -> Period:
    return Period(SINCE, UNTIL, ref.SH)


def cfg_of(stored: tuple[Engine, WorkspaceInfo]) -> Any:
    return stored[1].config.analytics


def test_the_frame_holds_every_event(frame: Frame, world: World) -> None:
    assert frame.scalar("SELECT count(*) FROM ev") == len(world.events)
    checkins = sum(
        1
        for e in world.events
        if e["type"] == "message.posted"
        and (e["data"].get("text") or "").strip().startswith(ref.CHECKIN)
    )
    assert frame.scalar("SELECT count(*) FROM ev WHERE is_checkin") == checkins > 0


def test_funnel_matches_a_count_from_the_raw_events(
    frame: Frame, stored: Any, period: Period, evs: list[ref.Ev]
) -> None:
    report = funnel(frame, cfg_of(stored), period)
    counts = [r["count"] for r in report.rows]
    expected = ref.funnel(evs, SINCE, UNTIL)
    assert counts == expected
    assert expected[0] > expected[1] > expected[2] > expected[3] > 0
    first, *rest = report.rows
    assert first["overall_rate"] == 1.0
    for before, row in zip(report.rows, rest, strict=False):
        assert row["step_rate"] == pytest.approx(row["count"] / before["count"])
        assert row["overall_rate"] == pytest.approx(row["count"] / first["count"])
    # Who did each step at all, in any order: never fewer than the ordered count, and a
    # paid order of a member who was not "retained" shows here.
    reached = [r["reached"] for r in report.rows]
    assert reached == ref.funnel_reached(evs, SINCE, UNTIL)
    assert all(r >= c for r, c in zip(reached, counts, strict=True))
    assert reached[3] > counts[3]
    assert "30" in report.note_texts()[0] and "in order" in report.note_texts("en")[0]


def test_funnel_breakdown_by_first_touch_source(
    frame: Frame, stored: Any, period: Period, evs: list[ref.Ev], world: World
) -> None:
    report = funnel(frame, cfg_of(stored), period, by="source")
    joined = {r["breakdown"]: r["count"] for r in report.rows if r["step"] == "joined"}
    joins = {m: j for m, j in ref.first_joins(evs).items() if SINCE <= j.day <= UNTIL}
    assert joined == Counter(ref.source(j, SOURCES) for j in joins.values())
    # Attribution from the log agrees with the simulator's ground truth wherever the join
    # carried a live-code state or an inviter.
    for member, join in joins.items():
        if join.data.get("state") or join.data.get("inviter"):
            assert ref.source(join, SOURCES) == world.first_touch[member]
    by_step = Counter()
    for r in report.rows:
        by_step[r["step"]] += r["count"]
    overall = funnel(frame, cfg_of(stored), period)
    assert [by_step[s] for s in STEPS] == [r["count"] for r in overall.rows]


@pytest.mark.parametrize("unit", ["week", "day"])
@pytest.mark.parametrize("mode", ["first", "recurring"])
@pytest.mark.parametrize("measure", ["on", "on_or_after"])
def test_retention_matches_the_raw_events(
    frame: Frame, stored: Any, period: Period, evs: list[ref.Ev], unit: Any, mode: Any, measure: Any
) -> None:
    report = retention(frame, cfg_of(stored), period, unit, mode, measure)
    got = {(r["cohort"], r["offset"]): r["retained_count"] for r in report.rows}
    expected = ref.retention(evs, SINCE, UNTIL, unit, mode, measure)
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
    assert all(r["rate"] == pytest.approx(r["retained_count"] / r["size"]) for r in report.rows)


def test_group_health_matches_the_raw_events(
    frame: Frame, stored: Any, period: Period, evs: list[ref.Ev]
) -> None:
    cfg = cfg_of(stored)
    report = health(frame, cfg, period)
    expected = ref.health(evs, SINCE, UNTIL)
    assert {(r["group"], r["day"]) for r in report.rows} == set(expected)
    for r in report.rows:
        want = expected[(r["group"], r["day"])]
        for key in ("members", "speakers", "messages", "joins", "leaves"):
            assert r[key] == want[key], (r, key)
        assert r["stage"] == stage(
            cfg,
            want["members"],
            want["speakers7"],
            want["net7"],
            want["messages7"],
            want["messages_prev7"],
        )
    assert {r["stage"] for r in report.rows} >= {"growing", "active"}


def test_source_roi_matches_the_raw_events(
    frame: Frame, stored: Any, period: Period, evs: list[ref.Ev]
) -> None:
    report = roi(frame, cfg_of(stored), period)
    expected = ref.roi(evs, SINCE, UNTIL, PER_MEMBER, SOURCES)
    got = {r["source"]: r for r in report.rows if r["members"]}
    assert set(got) == set(expected)
    for name, want in expected.items():
        row = got[name]
        assert (row["members"], row["revenue_fen"], row["paying"], row["cost_fen"]) == (
            want["members"],
            want["revenue"],
            want["paying"],
            want["cost"],
        )
        if row["cost_fen"]:
            assert row["roi"] == pytest.approx((want["revenue"] - want["cost"]) / want["cost"])


def test_fixed_source_costs_are_prorated_by_day() -> None:
    from shequn.analytics.roi import source_cost
    from shequn.config.analytics import SourceSpec

    spec = SourceSpec.model_validate(
        {
            "name": "ads",
            "cost_per_member_fen": 100,
            "costs": [{"since": "2026-09-21", "until": "2026-10-10", "cost_fen": 20_000}],
        }
    )
    # 10 of the cost's 20 days fall in October's first ten days: half of it.
    assert source_cost(spec, 3, Period(date(2026, 10, 1), date(2026, 10, 31), ref.SH)) == 10_300


def test_kol_board_matches_the_raw_events(
    frame: Frame, stored: Any, period: Period, evs: list[ref.Ev]
) -> None:
    report = kol(frame, cfg_of(stored), period, limit=15)
    expected = ref.kol(evs, SINCE, UNTIL)
    top_a = max(r["answers"] for r in expected.values())
    top_r = max(r["received"] for r in expected.values())
    scores = {m: ref.kol_score(r, top_a, top_r, period.days) for m, r in expected.items()}
    ranked = sorted(scores, key=lambda m: (-scores[m], m))[:15]
    assert [r["member"] for r in report.rows] == ranked
    for row in report.rows:
        want = expected[row["member"]]
        assert (row["answers"], row["received"], row["tenure_days"]) == (
            want["answers"],
            want["received"],
            want["tenure"],
        )
        assert row["score"] == scores[row["member"]]


def test_preset_cohorts_match_the_raw_events(
    frame: Frame, stored: Any, period: Period, evs: list[ref.Ev]
) -> None:
    report = cohorts(frame, cfg_of(stored), period)
    got: dict[str, set[str]] = {"new_and_active": set(), "recently_inactive": set()}
    for r in report.rows:
        got[r["preset"]].add(r["member"])
    expected = ref.presets(evs, UNTIL)
    assert got == expected
    assert expected["new_and_active"] and expected["recently_inactive"]


def test_orbit_levels_and_movement_match_the_raw_events(
    frame: Frame, stored: Any, period: Period, evs: list[ref.Ev]
) -> None:
    report = levels(frame, cfg_of(stored), period)
    october = ref.month_population(evs, date(2026, 10, 1), date(2026, 10, 31))
    november = ref.month_population(evs, date(2026, 11, 1), UNTIL)
    rows = {(r["month"], r["level"]): r for r in report.rows}
    for number, name in enumerate(LEVELS, start=1):
        oct_row = rows[(date(2026, 10, 1), name)]
        nov_row = rows[(date(2026, 11, 1), name)]
        assert oct_row["members"] == sum(1 for v in october.values() if v == number)
        assert oct_row["new"] == oct_row["members"]  # nobody was there in September
        assert nov_row["members"] == sum(1 for v in november.values() if v == number)
        assert nov_row["moved_up"] == sum(
            1 for m, v in november.items() if v == number and october.get(m, 0) > number
        )
        assert nov_row["moved_down"] == sum(
            1 for m, v in november.items() if v == number and 0 < october.get(m, 5) < number
        )
        assert nov_row["new"] == sum(
            1 for m, v in november.items() if v == number and m not in october
        )
        assert nov_row["left"] == sum(
            1 for m, v in october.items() if v == number and m not in november
        )
    report = gravity(frame, cfg_of(stored), period)
    (oct_g, _nov_g) = report.rows
    love = ref.month_love(evs, date(2026, 10, 1), date(2026, 10, 31))
    assert oct_g["love"] == sum(love.values())
    assert oct_g["members"] == len(october)
    assert oct_g["gravity"] > oct_g["love"]  # replies and mentions give reach


def test_empty_range_gives_empty_figures(frame: Frame, stored: Any) -> None:
    quiet = Period(date(2025, 1, 1), date(2025, 1, 31), ref.SH)
    cfg = cfg_of(stored)
    assert [r["count"] for r in funnel(frame, cfg, quiet).rows] == [0] * 5
    assert retention(frame, cfg, quiet).rows == []
    assert health(frame, cfg, quiet).rows == []
    assert kol(frame, cfg, quiet).rows == []


def export_rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict[str, Any]]:
    buffer = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buffer)
    return [orjson.loads(line) for line in buffer.getvalue().splitlines()]


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ref.SH).date()


def test_moderation_figures_match_the_violations_log(stored: Any, period: Period) -> None:
    from shequn.moderation.service import do_revert_violation
    from shequn.platform.db import transaction

    engine, ws = stored
    log = [v for v in export_rows(engine, ws, "violations") if SINCE <= _day(v["at"]) <= UNTIL]
    assert log  # the world has ad accounts
    with transaction(engine) as conn:
        do_revert_violation(conn, ws, log[0]["id"], "staff", now=NOW)
    with engine.connect() as conn:
        report = ledgers.moderation(conn, ws, period)
    assert {r["rule"]: r["violations"] for r in report.rows} == Counter(v["detector"] for v in log)
    assert report.meta["violations"] == len(log)
    assert report.meta["reverted"] == 1
    members = {v["detector"]: set() for v in log}
    for v in log:
        members[v["detector"]].add(v["member"])
    assert {r["rule"]: r["members"] for r in report.rows} == {k: len(m) for k, m in members.items()}


def test_points_economy_matches_the_ledger(stored: Any, period: Period) -> None:
    engine, ws = stored
    with engine.connect() as conn:
        report = ledgers.points(conn, ws, period)
    ledger = export_rows(engine, ws, "points")
    inside = [r for r in ledger if SINCE <= _day(r["at"]) <= UNTIL]
    issued = Counter()
    spent = Counter()
    for r in inside:
        (issued if r["delta"] > 0 else spent)[r["kind"]] += abs(r["delta"])
    assert {r["kind"]: (r["issued"], r["spent"]) for r in report.rows} == {
        k: (issued[k], spent[k]) for k in set(issued) | set(spent)
    }
    assert report.meta["issued"] == sum(issued.values()) > 0
    assert report.meta["outstanding"] == sum(r["delta"] for r in ledger if _day(r["at"]) <= UNTIL)
