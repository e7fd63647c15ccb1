"""Reports through the HTTP API, the `shequn report` command and as charts; the bench
workload on a small log; the same numbers on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import orjson
import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from shequn.analytics import charts
from shequn.analytics.api import router
from shequn.analytics.cli import report_app
from shequn.analytics.service import REPORTS, Options, check_period, run_report
from shequn.analytics.source import Period
from shequn.bench.analytics import bench_analytics
from shequn.community.service import do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.platform.db import make_engine, transaction
from shequn.settings import Settings
from shequn.simulate.world import World, WorldSpec, build_world
from shequn.web.app import create_app
from tests.analytics.reference import SH
from tests.analytics.test_analytics_figures import _database, ingest_world
from tests.conftest import POSTGRES_URL
from tests.factories import NOW

FIRST, LAST = date(2026, 10, 1), date(2026, 10, 14)


def small_world() -> World:
    return build_world(
        WorldSpec(groups=2, members=80, days=14, seed=5, start=datetime(2026, 10, 1, tzinfo=SH))
    )


@pytest.fixture
def filled(engine: Engine) -> WorkspaceInfo:
    return ingest_world(engine, small_world())


def test_every_report_as_json_png_and_html_over_http(
    settings: Settings, engine: Engine, filled: WorkspaceInfo
) -> None:
    app = create_app(settings, engine)
    app.include_router(router)
    with transaction(engine) as conn:
        token = do_create_token(conn, filled.slug, now=NOW)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/workspaces/{filled.slug}/reports"
    with TestClient(app) as client:
        assert client.get(base, headers=headers).json()["reports"] == list(REPORTS)
        for name in REPORTS:
            answer = client.get(
                f"{base}/{name}",
                params={"since": "2026-10-01", "until": "2026-10-14"},
                headers=headers,
            )
            assert answer.status_code == 200, (name, answer.text)
            body = answer.json()
            assert body["report"] == name and body["period"]["tz"] == "Asia/Shanghai"
        png = client.get(
            f"{base}/funnel", params={"format": "png", "by": "channel"}, headers=headers
        )
        assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
        page = client.get(f"{base}/retention", params={"format": "html"}, headers=headers)
        assert "留存队列" in page.text and "data:image/png;base64," in page.text
        assert client.get(f"{base}/nope", headers=headers).status_code == 404
        bad = client.get(f"{base}/funnel", params={"since": "10/01"}, headers=headers)
        assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
        assert client.get(f"{base}/funnel").status_code == 401


def test_report_command_prints_a_table_and_writes_charts(
    settings: Settings,
    engine: Engine,
    filled: WorkspaceInfo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHEQUN_DATABASE_URL", settings.database_url)
    from shequn.settings import get_settings

    get_settings.cache_clear()
    app = typer.Typer()
    app.add_typer(report_app, name="report")
    runner = CliRunner()
    png, html = tmp_path / "f.png", tmp_path / "f.html"
    args = ["report", "funnel", "-w", filled.slug, "--since", "2026-10-01", "--until", "2026-10-14"]
    result = runner.invoke(app, [*args, "--by", "source", "--png", str(png), "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert "AARRR 漏斗" in result.output and "激活" in result.output
    assert png.read_bytes()[:4] == b"\x89PNG" and "<table>" in html.read_text(encoding="utf-8")
    result = runner.invoke(
        app, ["report", "retention", "-w", filled.slug, "--json", "--until", "2026-10-14"]
    )
    assert orjson.loads(result.stdout)["meta"]["unit"] == "week"
    result = runner.invoke(app, ["report", "roi", "-w", filled.slug, "--since", "2026-13-01"])
    assert result.exit_code == 2
    get_settings.cache_clear()


def test_charts_draw_every_kind(engine: Engine, filled: WorkspaceInfo) -> None:
    period = check_period(filled, "2026-10-01", "2026-10-14", now=NOW)
    for name in REPORTS:
        report = run_report(engine, filled, name, period, Options(by="group"))
        assert charts.png(report)[:4] == b"\x89PNG"
        assert "<!doctype html>" in charts.page(report, "en")


def test_bench_workload_on_a_small_log() -> None:
    results = bench_analytics(size=60_000)
    assert [r["workload"] for r in results] == [
        "analytics.store_build",
        "analytics.append_tail",
        "analytics.funnel",
        "analytics.retention",
        "analytics.health",
        "analytics.roi",
    ]
    build, tail, *reports = results
    # Everything but the last 1 % is appended by the build; the first report appends the rest.
    assert build["appended"] + tail["appended"] == 60_000
    assert build["store_bytes_per_event"] > 0 and build["baseline_seconds"] > 0
    for r in reports:
        assert r["events"] == 60_000 and r["seconds"] > 0 and r["baseline_seconds"] > 0
        # The funnel's and ROI's figures are also checked equal to the hand-written queries.
        assert r["ratio"] > 0 and r["rate"] > 0 and r["cpu_seconds"] >= 0


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_URL is None, reason="needs SHEQUN_TEST_POSTGRES_URL")
def test_funnel_and_retention_are_the_same_on_sqlite_and_postgres(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    world = small_world()
    period = Period(FIRST, LAST, SH)
    answers = {}
    for backend in ("sqlite", "postgres"):
        engine = make_engine(_database(request, backend, tmp_path))
        try:
            ws = ingest_world(engine, world)
            answers[backend] = [
                run_report(engine, ws, "funnel", period, Options(by=by)).to_json()["rows"]
                for by in (None, "source", "cohort")
            ] + [
                run_report(
                    engine, ws, "retention", period, Options(unit=u, mode=m, measure=x)
                ).to_json()["rows"]
                for u in ("day", "week")
                for m in ("first", "recurring")
                for x in ("on", "on_or_after")
            ]
        finally:
            engine.dispose()
    assert answers["sqlite"] == answers["postgres"]
    assert answers["sqlite"][0][0]["count"] > 0
