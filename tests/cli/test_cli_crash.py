"""`kill -9` during a large `shequn ingest`, then the same command again: the exports must be
exactly those of one clean run (issue 2, "Must hold").

The ingest commits one transaction per --batch-size events. The test kills the process with
SIGKILL while it is between its first and its last commit (it polls the events table to
know), does that twice (the second kill lands during the re-run), then lets a third run
finish and compares every export byte for byte with a clean run into a fresh database.
Every ingest is a process of its own (the clean one runs beside the others); the workspaces
are made and the exports read in this process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import create_engine, text

from shequn.simulate import chat_traffic
from tests.cli.helpers import SHEQUN, clean_env, in_process

POSTGRES_URL = os.environ.get("SHEQUN_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])

BATCH = 2000
EVENTS = {"sqlite": 60_000, "postgres": 12_000}
"""Enough batches that a kill lands between the first and the last commit."""
KINDS = ("members", "memberships", "actions", "events", "groups")


@dataclass
class Target:
    """One database and workspace the command ingests into."""

    backend: str
    url: str
    ws: str
    cwd: Path

    def cli(self, *args: str) -> bytes:
        """The command in this process; its stdout."""
        code, out, err = in_process(self.url, self.cwd, [*args, "--workspace", self.ws])
        assert code == 0, f"shequn {' '.join(args)}: {err}"
        assert "Traceback" not in err, err
        return out

    def spawn(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """The installed command, in a process of its own."""
        proc = subprocess.run(
            [SHEQUN, *args, "--workspace", self.ws],
            cwd=self.cwd,
            env=clean_env(self.url),
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, f"shequn {' '.join(args)}: {proc.stderr.decode()}"
        assert b"Traceback" not in proc.stderr, proc.stderr.decode()
        return proc

    def start_ingest(self, path: Path, log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as fh:
            return subprocess.Popen(
                [SHEQUN, "ingest", str(path), "--batch-size", str(BATCH), "--workspace", self.ws],
                cwd=self.cwd,
                env=clean_env(self.url),
                stdout=fh,
                stderr=fh,
            )

    def counter(self) -> contextlib.AbstractContextManager[Callable[[], int]]:
        return _sqlite_counter(self.url) if self.backend == "sqlite" else _pg_counter(self)


@contextlib.contextmanager
def _sqlite_counter(url: str) -> Iterator[Callable[[], int]]:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
    try:
        yield lambda: int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


@contextlib.contextmanager
def _pg_counter(target: Target) -> Iterator[Callable[[], int]]:
    engine = create_engine(target.url)
    stmt = text(
        "SELECT count(*) FROM events e JOIN workspaces w ON w.id = e.workspace_id "
        "WHERE w.slug = :ws"
    )

    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(stmt, {"ws": target.ws}).scalar_one())

    try:
        yield count
    finally:
        engine.dispose()


def write_traffic(path: Path, n: int) -> Path:
    with path.open("wb") as fh:
        for raw in chat_traffic(n, groups=12, members=4000, seed=29):
            fh.write(orjson.dumps(raw) + b"\n")
    return path


class Missed(Exception):
    """The run finished before a kill could land between two commits."""


def ingest_and_kill(target: Target, path: Path, total: int, above: int, log: Path) -> int:
    """Start an ingest, SIGKILL it once more than `above` events are committed (but not all);
    return how many events were committed when it died."""
    with target.counter() as count:
        proc = target.start_ingest(path, log)
        deadline = time.monotonic() + 120
        try:
            while True:
                stored = count()
                if above < stored < total:
                    os.kill(proc.pid, signal.SIGKILL)
                    break
                if proc.poll() is not None:
                    raise Missed(f"ingest exited {proc.returncode} with {stored} stored")
                assert time.monotonic() < deadline, "ingest made no progress"
                time.sleep(0.005)
        finally:
            if proc.poll() is None:
                proc.kill()  # only when the test itself failed above: never leave it running
            proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, proc.returncode
        stored = count()
    if not above < stored < total:
        raise Missed(f"{stored} of {total} stored when the kill landed")
    return stored


def crash_and_rerun(target: Target, path: Path, total: int, log: Path) -> list[int]:
    """Two kills mid-way (the second during the re-run), then a run to the end."""
    first = ingest_and_kill(target, path, total, 0, log)
    second = ingest_and_kill(target, path, total, first, log)
    for stored in (first, second):
        # Each batch is one transaction: a kill leaves whole batches, nothing in between.
        assert stored % BATCH == 0, f"{stored} events stored: a batch was half committed"
    rerun = target.spawn("ingest", str(path), "--batch-size", str(BATCH))  # the same command
    summary: dict[str, Any] = orjson.loads(rerun.stdout)
    assert summary["duplicates"] == second
    assert summary["accepted"] == total - second
    return [first, second]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_target(backend: str, root: Path, request: pytest.FixtureRequest, ws: str) -> Target:
    root.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        target = Target(backend, f"sqlite:///{root / 's.db'}", ws, root)
    else:
        url = str(request.getfixturevalue("postgres_url"))
        target = Target(backend, url, f"{ws}-{uuid.uuid4().hex[:10]}", root)
    code, _, err = in_process(target.url, root, ["workspace", "create", target.ws])
    assert code == 0, err
    return target


def exports(*targets: Target) -> list[dict[str, bytes]]:
    """Every export of each target (jsonl)."""
    return [
        {kind: target.cli("export", kind, "--format", "jsonl") for kind in KINDS}
        for target in targets
    ]


def without_action_ids(data: bytes) -> list[dict[str, Any]]:
    rows = [orjson.loads(line) for line in data.splitlines()]
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


@pytest.mark.slow
def test_kill_9_during_ingest_then_rerun_equals_one_clean_run(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    total = EVENTS[backend]
    kills: list[int] | None = None
    for attempt in range(3):
        path = write_traffic(tmp_path / f"traffic-{attempt}.jsonl", total)
        # The same workspace name in a fresh SQLite file: its id, and so the action ids, match.
        clean = make_target(backend, tmp_path / f"clean-{attempt}", request, "k")
        crashed = make_target(backend, tmp_path / f"crashed-{attempt}", request, "k")
        with (tmp_path / f"clean-{attempt}.log").open("wb") as log:
            reference = subprocess.Popen(
                [SHEQUN, "ingest", str(path), "--batch-size", str(BATCH), "-w", clean.ws],
                cwd=clean.cwd,
                env=clean_env(clean.url),
                stdout=subprocess.PIPE,
                stderr=log,
            )
            try:
                kills = crash_and_rerun(crashed, path, total, tmp_path / f"crash-{attempt}.log")
            except Missed:
                total *= 2  # a faster machine: more batches give the kill room to land
                continue
            finally:
                out, _ = reference.communicate(timeout=300)
        assert reference.returncode == 0, (tmp_path / f"clean-{attempt}.log").read_text()
        assert orjson.loads(out)["accepted"] == total
        break
    assert kills is not None, "no kill landed between the first and the last commit"
    assert 0 < kills[0] < kills[1] < total

    expected, got = exports(clean, crashed)
    assert len(got["events"].splitlines()) == total
    assert got["actions"], "the traffic should have decided actions (welcomes)"
    for kind in KINDS:
        if kind == "actions" and backend == "postgres":
            # Two workspaces of one database: action ids (hashed with the workspace) differ.
            assert without_action_ids(got[kind]) == without_action_ids(expected[kind])
        else:
            assert got[kind] == expected[kind], f"{kind} differ after kills at {kills}"
