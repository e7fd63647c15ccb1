"""Time comes from one injected clock: the wall clock is read in platform/clock.py only."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.service import do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.moderation.service import do_ban
from shequn.platform.clock import SYSTEM_CLOCK, FixedClock, SystemClock
from shequn.platform.db import transaction
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.factories import NOW

SRC = Path(__file__).resolve().parents[1] / "src" / "shequn"
CLOCK = SRC / "platform" / "clock.py"
WALL_CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
}
"""Calls that read the date. Monotonic timers (durations, caches, rate windows) are not
dates and stay where they are used."""


def wall_clock_reads(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value  # `datetime.now()`, or `datetime.datetime.now()`
            name = (
                owner.id
                if isinstance(owner, ast.Name)
                else owner.attr
                if isinstance(owner, ast.Attribute)
                else None
            )
            if (name, node.func.attr) in WALL_CLOCK_READS:
                found.append(f"{node.lineno}: {name}.{node.func.attr}()")
    return found


def test_only_the_clock_reads_the_wall_clock() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{hit}"
        for path in sorted(SRC.rglob("*.py"))
        if path != CLOCK
        for hit in wall_clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "take `now` from the caller or the injected Clock"


def test_the_guard_sees_every_kind_of_read() -> None:
    source = "import time\nfrom datetime import date, datetime\n" + "\n".join(
        f"{owner}.{attr}()" for owner, attr in sorted(WALL_CLOCK_READS)
    )
    assert len(wall_clock_reads(source)) == len(WALL_CLOCK_READS)
    assert len(wall_clock_reads("datetime.datetime.now(UTC)\n")) == 1
    assert wall_clock_reads("time.monotonic()\nnow.date()\nctx.now\n") == []


def test_a_fixed_clock_stands_still_until_moved() -> None:
    clock = FixedClock(NOW)
    assert clock.now() == clock.now() == NOW and clock.now().tzinfo == UTC
    assert clock.advance(timedelta(hours=1)) == NOW + timedelta(hours=1) == clock.now()
    clock.set(NOW)
    assert clock.now() == NOW
    with pytest.raises(ValueError, match="UTC offset"):
        FixedClock(datetime(2026, 1, 1))


def test_the_settings_choose_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().clock().now() == NOW  # SHEQUN_NOW, set for every test
    monkeypatch.delenv("SHEQUN_NOW")
    clock = Settings().clock()
    assert clock is SYSTEM_CLOCK and isinstance(clock, SystemClock)
    before = datetime.now(UTC)  # the test may read the wall clock to check the real one
    assert before <= clock.now() <= datetime.now(UTC)
    monkeypatch.setenv("SHEQUN_NOW", "2026-12-01T12:00:00")
    with pytest.raises(ValueError, match="timezone"):
        Settings()


def test_the_api_stamps_staff_operations_with_its_clock(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    at = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    with transaction(engine) as conn:
        auth = {"Authorization": f"Bearer {do_create_token(conn, workspace.slug, now=at)}"}
    base = f"/api/v1/workspaces/{workspace.slug}/moderation"
    with TestClient(create_app(settings, engine, clock=FixedClock(at))) as client:
        banned = client.post(
            f"{base}/banlist", json={"member": "u-9", "reason": "广告"}, headers=auth
        )
        assert banned.status_code == 200
        (entry,) = client.get(f"{base}/banlist", headers=auth).json()
    assert datetime.fromisoformat(entry["at"]) == at


def test_services_take_time_from_their_caller(engine: Engine, workspace: WorkspaceInfo) -> None:
    with transaction(engine) as conn, pytest.raises(TypeError, match="now"):
        do_ban(conn, workspace, "sandbox", "u-1", "广告", "staff")  # type: ignore[call-arg]
