"""With Redis, callbacks are answered once queued; a worker started later (after a restart)
ingests them, and a callback delivered three times is still one event."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.exports import EXPORTS
from shequn.platform.bus import RedisBus
from shequn.settings import Settings
from shequn.web.app import create_app
from shequn.worker import consume_once
from tests.channels.wecom_kit import KEY, callback, chat_xml, connect
from tests.conftest import REDIS_URL, create_workspace
from tests.factories import NOW

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(REDIS_URL is None, reason="needs SHEQUN_TEST_REDIS_URL"),
]


def stored(engine: Engine, ws: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return list(EXPORTS["events"].rows(conn, ws))


def test_queued_callbacks_survive_a_restart_and_de_duplicate(
    settings: Settings, engine: Engine
) -> None:
    assert REDIS_URL is not None
    prefix = f"test-wecom-{uuid.uuid4().hex[:8]}:"
    queued = Settings(
        database_url=settings.database_url, secret_key=KEY, redis_url=REDIS_URL,
        bus_prefix=prefix,
    )  # fmt: skip
    ws = create_workspace(engine)
    connect(engine, ws, NOW)
    join = chat_xml("update", UpdateDetail="add_member", JoinScene=3, CurMemVer="v9",
                    members=["wm-alice", "wm-bob"])  # fmt: skip
    try:
        with TestClient(create_app(queued, engine)) as client:
            for nonce in ("a", "b", "c"):
                query, body = callback(join, nonce=nonce)
                answer = client.post(f"/channels/wecom/{ws.slug}/callback?{query}", content=body)
                assert answer.status_code == 200 and answer.text == "success"
        assert stored(engine, ws) == []  # answered before anything was processed
        # The server is gone; a worker started afterwards finds every delivery on the bus.
        worker = RedisBus(REDIS_URL, queued.bus_partitions, prefix)
        assert worker.backlog() == 6
        while consume_once(engine, worker):
            pass
        assert worker.backlog() == 0
    finally:
        RedisBus(REDIS_URL, queued.bus_partitions, prefix).drop_all()
    events = stored(engine, ws)
    assert sorted(e["member"] for e in events) == ["wm-alice", "wm-bob"]
    other = create_workspace(engine)
    assert stored(engine, other) == []
