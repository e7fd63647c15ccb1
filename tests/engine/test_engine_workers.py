"""Production shapes: several processes on PostgreSQL, and Redis Streams feeding workers."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.models import events
from shequn.platform.bus import RedisBus
from shequn.settings import Settings
from tests.conftest import POSTGRES_URL, REDIS_URL, create_workspace
from tests.factories import NOW

SHEQUN = str(Path(sys.executable).parent / "shequn")
# The community lives in the two hours before the suite's clock: live traffic may not be
# ahead of its clock, and every process here runs on that clock (AFTER), so due work stops
# where `tick --until LAST_PLUS` stops it. A clock far ahead would make each worker run years
# of due work for every other test's workspace in the same database.
FUTURE = NOW - timedelta(hours=2)
# Past the last event of `community()` (400 members, 7 s apart): every welcome window closes.
LAST_PLUS = NOW.isoformat()
AFTER = {"SHEQUN_NOW": LAST_PLUS}


def community(groups: int = 8, members: int = 400) -> list[dict]:
    """Joins, chat, leaves and re-joins whose final state depends on per-group order."""
    out: list[dict] = []
    n = 0

    def add(type_: str, group: str, member: str, at: datetime, **data: object) -> None:
        nonlocal n
        n += 1
        out.append(
            {
                "id": f"w-{n:06d}",
                "type": type_,
                "channel": "sandbox",
                "group": group,
                "member": member,
                "at": at.isoformat(),
                "data": data,
            }
        )

    for i in range(members):
        g = f"g-{i % groups}"
        m = f"u-{i:04d}"
        at = FUTURE + timedelta(seconds=7 * i)
        add("member.joined", g, m, at, nickname=f"成员{i}", scene="qr")
        add(
            "message.posted",
            g,
            m,
            at + timedelta(seconds=1),
            message_id=f"m-{i}",
            kind="text",
            text="你好",
        )
        if i % 5 == 0:
            add("member.left", g, m, at + timedelta(seconds=2), reason="left")
        if i % 10 == 0:
            add(
                "member.joined",
                g,
                m,
                at + timedelta(seconds=3),
                nickname=f"回来{i}",
                scene="invite",
            )
    out.sort(key=lambda e: (e["at"], e["id"]))
    return out


def run_cli(args: list[str], env: dict[str, str], **kw: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [SHEQUN, *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )  # type: ignore[call-overload]


def export(kind: str, ws: str, env: dict[str, str]) -> list[dict]:
    out = subprocess.run(
        [SHEQUN, "export", kind, "-w", ws],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    ).stdout
    return [orjson.loads(line) for line in out.splitlines()]


def without_ids(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "id"} for r in rows]


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs SHEQUN_TEST_POSTGRES_URL")
def test_two_processes_overlapping_batches_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    from shequn.platform.db import make_engine

    engine = make_engine(postgres_url)
    ws = create_workspace(engine)
    evs = community()
    third = len(evs) // 3
    # A and B overlap in the middle third; B also repeats the first events.
    a, b = evs[: 2 * third], evs[third:] + evs[:50]
    for name, part in (("a", a), ("b", b)):
        (tmp_path / f"{name}.jsonl").write_bytes(b"\n".join(orjson.dumps(e) for e in part))
    env = {"SHEQUN_DATABASE_URL": postgres_url, **AFTER}
    procs = [
        run_cli(["ingest", str(tmp_path / f"{n}.jsonl"), "-w", ws.slug, "--batch-size", "200"], env)
        for n in ("a", "b")
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    with engine.connect() as conn:
        stored = conn.execute(
            select(func.count(), func.count(events.c.ext_id.distinct())).where(
                events.c.workspace_id == ws.id
            )
        ).one()
    assert tuple(stored) == (len(evs), len(evs))  # none lost, none twice
    subprocess.run(
        [SHEQUN, "tick", "--until", LAST_PLUS, "-w", ws.slug],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    welcomes = [x for x in export("actions", ws.slug, env) if x["rule"] == "engagement.welcome"]
    mentioned = [m for x in welcomes for m in x["data"]["mentions"]]
    assert len(mentioned) == len(set(mentioned))  # nobody welcomed twice
    keys = [(x["group"], x["decided_at"]) for x in welcomes]
    assert len(keys) == len(set(keys))  # one welcome per group per window
    every = export("actions", ws.slug, env)
    decided = [(a["rule"], a["kind"], a["group"], a["member"], a["caused_by"], a["decided_at"])
               for a in every]  # fmt: skip
    assert len(decided) == len(set(decided))  # no action decided twice
    engine.dispose()


@pytest.mark.skipif(REDIS_URL is None, reason="needs SHEQUN_TEST_REDIS_URL")
def test_redis_workers_keep_group_order(settings: Settings, engine: Engine) -> None:
    from shequn.community.service import do_create_token
    from shequn.engine.service import do_ingest_events
    from shequn.platform.db import transaction
    from shequn.simulate.service import validated
    from shequn.web.app import create_app

    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    queued = settings.model_copy(update={"redis_url": REDIS_URL, "bus_prefix": prefix})
    bus = RedisBus(REDIS_URL, queued.bus_partitions, prefix)  # type: ignore[arg-type]
    via_bus: WorkspaceInfo = create_workspace(engine)
    direct: WorkspaceInfo = create_workspace(engine)
    evs = community()
    with transaction(engine) as conn:
        token = do_create_token(conn, via_bus.slug, now=NOW)
    try:
        with TestClient(create_app(queued, engine)) as client:
            for start in range(0, len(evs), 300):
                r = client.post(
                    f"/api/v1/workspaces/{via_bus.slug}/events",
                    json=evs[start : start + 300],
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert r.status_code == 202, r.text
                assert r.json() == {"queued": len(evs[start : start + 300])}
        assert bus.backlog() == len(evs)
        env = {
            "SHEQUN_DATABASE_URL": settings.database_url,
            "SHEQUN_REDIS_URL": REDIS_URL or "",
            "SHEQUN_BUS_PREFIX": prefix,
            **AFTER,
        }
        workers = [run_cli(["worker", "--once"], env) for _ in range(3)]
        for w in workers:
            _, err = w.communicate(timeout=300)
            assert w.returncode == 0, err.decode()
        assert bus.backlog() == 0
    finally:
        bus.drop_all()
    do_ingest_events(engine, direct, list(validated(iter(evs))))
    env = {"SHEQUN_DATABASE_URL": settings.database_url}
    for ws in (via_bus, direct):
        subprocess.run(
            [SHEQUN, "tick", "--until", LAST_PLUS, "-w", ws.slug],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
    # Partitions interleave, so arrival order (seq) differs; the set of events may not.
    by_id = lambda rows: sorted(rows, key=lambda r: r["id"])  # noqa: E731
    assert by_id(export("events", via_bus.slug, env)) == by_id(export("events", direct.slug, env))
    for kind in ("memberships", "members", "groups"):
        assert export(kind, via_bus.slug, env) == export(kind, direct.slug, env), kind
    assert without_ids(export("actions", via_bus.slug, env)) == without_ids(
        export("actions", direct.slug, env)
    )
