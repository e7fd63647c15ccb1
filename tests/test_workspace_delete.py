"""`shequn workspace delete`: asks first, exports everything, then leaves no row of the
workspace in any table and every other workspace as it was."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import orjson
from sqlalchemy import Engine, func, select

from shequn.analytics.service import run_report
from shequn.analytics.source import Period
from shequn.analytics.store import store_path
from shequn.community.workspace import WorkspaceInfo
from shequn.domains import all_tables
from shequn.settings import Settings
from shequn.simulate.service import do_simulate
from tests.cli.helpers import in_process
from tests.conftest import create_workspace
from tests.factories import NOW


def counts(engine: Engine, ws: WorkspaceInfo) -> dict[str, int]:
    """Rows of the workspace in each table that has any."""
    found = {}
    with engine.connect() as conn:
        for table in all_tables().sorted_tables:
            if "workspace_id" in table.c:
                n = conn.execute(
                    select(func.count()).select_from(table).where(table.c.workspace_id == ws.id)
                ).scalar_one()
                if n:
                    found[table.name] = int(n)
    return found


def test_delete_exports_first_then_removes_every_row(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    doomed, kept = create_workspace(engine), create_workspace(engine)
    for ws in (doomed, kept):
        do_simulate(engine, ws, groups=2, members=40, days=3, seed=3, start=NOW - timedelta(days=4))
    before = counts(engine, doomed)
    assert len(before) >= 10  # the simulation filled many tables
    kept_before = counts(engine, kept)
    url = settings.database_url

    code, _, err = in_process(url, tmp_path, ["workspace", "delete", doomed.slug])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--yes" in err
    assert counts(engine, doomed) == before  # no confirmation, nothing deleted

    period = Period(date(2026, 11, 1), date(2026, 12, 1), doomed.tz)
    run_report(engine, doomed, "funnel", period)  # builds its kept analytics store
    kept_store = store_path(engine, doomed)
    assert kept_store is not None and kept_store.exists()
    store_dir = {"SHEQUN_ANALYTICS_DIR": os.environ["SHEQUN_ANALYTICS_DIR"]}
    code, out, err = in_process(
        url, tmp_path, ["workspace", "delete", doomed.slug, "--yes"], env=store_dir
    )
    assert code == 0, err
    answer = orjson.loads(out)
    folder = tmp_path / answer["export"]
    assert answer["deleted"] == doomed.slug and folder.is_dir()
    events = (folder / "events.jsonl").read_bytes().splitlines()
    assert len(events) == before["events"]
    assert counts(engine, doomed) == {}
    assert counts(engine, kept) == kept_before
    assert not kept_store.exists()
    code, _, err = in_process(url, tmp_path, ["workspace", "delete", doomed.slug, "--yes"])
    assert code == 2 and doomed.slug in err
