"""Rate limits of the public pages: fixed one-minute windows, counted in the process when
embedded and in Redis when there is one, so that several servers share one limit."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.workspace import WorkspaceInfo
from shequn.growth import livecode
from shequn.growth.api import LIMITER
from shequn.growth.ratelimit import RateLimiter, RedisRateLimiter
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.conftest import REDIS_URL
from tests.factories import NOW
from tests.growth.helpers import app_with_domains, configure, rows

needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="needs SHEQUN_TEST_REDIS_URL")


MINUTE_1000 = datetime.fromtimestamp(1_000 * 60, UTC)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def live_code(engine: Engine, ws: WorkspaceInfo, per_minute: int) -> tuple[WorkspaceInfo, str]:
    ws = configure(engine, ws, {"growth": {"live_codes": {"rate_per_minute": per_minute}}})
    with transaction(engine) as conn:
        code = livecode.do_create_code(conn, ws, "lc-1", admissions_cap=100, at=NOW)
    return ws, code["url"]


@pytest.fixture
def prefix() -> Iterator[str]:
    """A Redis key prefix of this test only; its keys are deleted afterwards."""
    value = f"test-{uuid.uuid4().hex[:12]}:"
    yield value
    if REDIS_URL is not None:
        client = redis.Redis.from_url(REDIS_URL)
        names = list(client.scan_iter(match=f"{value}*"))
        if names:
            client.delete(*names)
        client.close()


def test_in_process_windows_last_one_minute() -> None:
    limiter, at = RateLimiter(), MINUTE_1000
    assert [limiter.allow("a", 3, at) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", 3, at)  # each key has its own count
    assert not limiter.allow("a", 3, at + timedelta(seconds=59))  # still the same window
    later = at + timedelta(seconds=60)
    assert [limiter.allow("a", 3, later) for _ in range(4)] == [True, True, True, False]
    limiter.reset()
    assert limiter.allow("a", 3, later)


@needs_redis
def test_redis_limiters_share_one_count_per_minute(prefix: str) -> None:
    assert REDIS_URL is not None
    at = MINUTE_1000
    one, two = (
        RedisRateLimiter(redis.Redis.from_url(REDIS_URL), prefix, RateLimiter()) for _ in range(2)
    )
    answers = [(one if i % 2 else two).allow("1.2.3.4|tok", 5, at) for i in range(7)]
    assert answers == [True] * 5 + [False] * 2
    assert one.allow("5.6.7.8|tok", 5, at)  # another client
    (name,) = one.client.keys(f"{prefix}ratelimit:*:1.2.3.4|tok")
    assert name == f"{prefix}ratelimit:1000:1.2.3.4|tok".encode()
    assert 0 < one.client.ttl(name) <= 60  # gone once its window is over
    assert two.allow("1.2.3.4|tok", 5, at + timedelta(seconds=60))  # a new window
    one.reset()
    assert one.client.keys(f"{prefix}*") == []


@needs_redis
def test_two_servers_on_one_redis_admit_the_limit_together(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo, prefix: str
) -> None:
    ws, url = live_code(engine, workspace, per_minute=5)
    shared = settings.model_copy(update={"redis_url": REDIS_URL, "bus_prefix": prefix})
    apps: list[FastAPI] = [app_with_domains(shared, engine) for _ in range(2)]
    limiters = [app.state.limiter for app in apps]
    assert all(isinstance(limiter, RedisRateLimiter) for limiter in limiters)
    assert limiters[0] is not limiters[1]
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        statuses = [
            (a if i % 2 else b).get(url, params={"format": "json"}).status_code for i in range(5)
        ]
        assert statuses == [200] * 5
        refused = a.get(url, params={"format": "json"})
        assert b.get(url, params={"format": "json"}).status_code == 429
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["retry-after"] == "60"
    assert refused.json()["status"] == 429
    assert len(rows(engine, ws, "scans")) == 5  # a refused scan stores nothing
    # Counted in Redis, not in this test's process (which both apps happen to share).
    (name,) = limiters[0].client.keys(f"{prefix}ratelimit:*")
    assert int(limiters[0].client.get(name)) == 7


def test_unreachable_redis_falls_back_to_the_process_and_warns_once(
    settings: Settings,
    engine: Engine,
    workspace: WorkspaceInfo,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ws, url = live_code(engine, workspace, per_minute=3)
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port()}/0"})
    app = app_with_domains(down, engine)
    assert isinstance(app.state.limiter, RedisRateLimiter)
    LIMITER.reset()
    with caplog.at_level(logging.WARNING, "shequn.growth.ratelimit"), TestClient(app) as client:
        statuses = [client.get(url, params={"format": "json"}).status_code for _ in range(4)]
    LIMITER.reset()
    assert statuses == [200, 200, 200, 429]  # still limited, by this process alone
    warnings = [r for r in caplog.records if r.name == "shequn.growth.ratelimit"]
    assert len(warnings) == 1 and "Redis" in warnings[0].getMessage()
    assert len(rows(engine, ws, "scans")) == 3


def test_the_fallback_warns_at_most_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    at = MINUTE_1000
    client = redis.Redis.from_url(f"redis://127.0.0.1:{closed_port()}/0")
    limiter = RedisRateLimiter(client, "x:", RateLimiter())
    with caplog.at_level(logging.WARNING, "shequn.growth.ratelimit"):
        assert limiter.allow("k", 2, at) and limiter.allow("k", 2, at)
        assert not limiter.allow("k", 2, at)
        assert not limiter.allow("k", 2, at + timedelta(seconds=59))
        assert len(caplog.records) == 1
        assert limiter.allow("k", 2, at + timedelta(seconds=60))  # a new window, fallback too
        assert len(caplog.records) == 2
