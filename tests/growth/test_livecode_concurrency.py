"""1,200 concurrent scans of one live code over 5 groups of capacity 200, from several
processes: no group admits more than 200, every scan is answered, and the sixth group is
created exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
from sqlalchemy import Engine, func, select

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.models import events
from shequn.engine.service import do_ingest_events
from shequn.growth import livecode
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW, event

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
SCANS = 300
THREADS = 6


def test_concurrent_scans_never_overfill_a_group(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    pool = [f"g-{i}" for i in range(1, 6)]
    do_ingest_events(engine, workspace, [event("group.created", g, name=g) for g in pool])
    with transaction(engine) as conn:
        livecode.do_create_code(
            conn, workspace, "lc-rush", groups_=pool, admissions_cap=200, base_name="秒杀群", at=NOW
        )
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.growth.scan_worker",
                settings.database_url,
                workspace.slug,
                "lc-rush",
                str(SCANS),
                str(THREADS),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(PROCESSES)
    ]
    answered: list[str | None] = []
    for p in procs:
        out, err = p.communicate(timeout=540)
        assert p.returncode == 0, err.decode()[-3000:]
        answered += orjson.loads(out.splitlines()[-1])
    assert len(answered) == PROCESSES * SCANS == 1200
    assert None not in answered  # every scan answered with a group
    per_group = Counter(answered)
    assert max(per_group.values()) <= 200
    assert per_group == {**dict.fromkeys(pool, 200), "lc-rush-6": 200}
    with engine.connect() as conn:
        code = livecode.access_code(conn, workspace, "lc-rush")
        made = conn.execute(
            select(func.count()).where(
                events.c.workspace_id == workspace.id, events.c.type == "group.created"
            )
        ).scalar_one()
        scanned = conn.execute(
            select(func.count()).where(
                events.c.workspace_id == workspace.id, events.c.type == "code.scanned"
            )
        ).scalar_one()
    assert [(g["group"], g["admissions"]) for g in code["pool"]] == [
        *((g, 200) for g in pool),
        ("lc-rush-6", 200),
    ]
    assert made == 6  # five made before, the sixth exactly once
    assert scanned == 1200
