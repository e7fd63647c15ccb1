"""Events are validated the same strict way on every HTTP path (the batch API and a signed
shop webhook): times out of range or ahead of the clock, mistyped values, oversized or too
deeply nested events are each a clear 422 that stores nothing, never a 500."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.commerce.orders import do_create_shop, sign
from shequn.community.service import do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.events import MAX_EVENT_BYTES
from shequn.platform.db import transaction
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.factories import NOW, T0, raw_event


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as c:
        yield c


@pytest.fixture
def auth(engine: Engine, workspace: WorkspaceInfo) -> dict[str, str]:
    with transaction(engine) as conn:
        return {"Authorization": f"Bearer {do_create_token(conn, workspace.slug, now=NOW)}"}


def nested(depth: int) -> Any:
    """JSON `depth` levels deep: objects in lists in objects …"""
    value: Any = 1
    for level in range(depth):
        value = {"x": value} if level % 2 else [value]
    return value


def order(**changes: Any) -> dict[str, Any]:
    raw = raw_event("order.paid", None, "u-1", id_="o-1", order_id="o-1", amount_fen=3990)
    data = changes.pop("data", {})
    raw["data"].update(data)
    raw.update(changes)
    return raw


# (what is wrong, the item, the field the answer names)
BAD: list[tuple[str, dict[str, Any], str]] = [
    ("year 1, east of UTC", order(at="0001-01-01T00:00:00+08:00"), "at"),
    ("year 9999, west of UTC", order(at="9999-12-31T23:59:59-12:00"), "at"),
    ("a year ahead of the clock", order(at=(NOW + timedelta(days=365)).isoformat()), "at"),
    ("an hour ahead of the clock", order(at=(NOW + timedelta(hours=1)).isoformat()), "at"),
    ("a Unix time", order(at=1_764_000_000), "at"),
    ("an amount as text", order(data={"amount_fen": "3990"}), "data.amount_fen"),
    ("items nested 500 deep", order(data={"items": [nested(500)]}), "(event)"),
    ("items nested 20 deep", order(data={"items": [nested(20)]}), "data.items"),
    (
        "an event over 64 KiB",
        order(data={"items": [{"sku": "x" * 1000}] * (MAX_EVENT_BYTES // 1000)}),
        "(event)",
    ),
]


@pytest.mark.parametrize(("case", "item", "field"), BAD, ids=[c for c, _, _ in BAD])
def test_batch_api_refuses_each_with_422(
    client: TestClient,
    workspace: WorkspaceInfo,
    auth: dict[str, str],
    case: str,
    item: dict[str, Any],
    field: str,
) -> None:
    good = raw_event("group.created", "g-1", id_="g-1", name="烘焙群")
    r = client.post(
        f"/api/v1/workspaces/{workspace.slug}/events",
        content=json.dumps([good, item]),  # orjson cannot write 500 levels
        headers={**auth, "Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert r.status_code == 422, (case, r.text)
    (error,) = r.json()["errors"]
    assert (error["item"], error["field"]) == (1, field), (case, error)
    events = client.get(f"/api/v1/workspaces/{workspace.slug}/exports/events", headers=auth)
    assert events.content == b"", case  # nothing of the batch is stored


@pytest.mark.parametrize(("case", "item", "field"), BAD, ids=[c for c, _, _ in BAD])
def test_signed_webhook_refuses_each_with_422(
    client: TestClient,
    engine: Engine,
    workspace: WorkspaceInfo,
    case: str,
    item: dict[str, Any],
    field: str,
) -> None:
    with transaction(engine) as conn:
        secret = do_create_shop(conn, workspace, "youzan", "有赞", "sandbox", NOW)
    payload = {
        "type": "order.paid",
        "id": item["id"],
        "member": item["member"],
        "at": item["at"],
        **item["data"],
    }
    body = json.dumps(payload).encode()
    r = client.post(
        f"/shop/{workspace.slug}/youzan/webhook",
        content=body,
        headers={"X-Shequn-Signature": sign(secret, body), "Accept-Language": "en"},
    )
    if r.status_code == 413:  # a webhook's whole body is bounded at 64 KiB first
        assert case == "an event over 64 KiB"
        return
    assert r.status_code == 422, (case, r.text)
    assert r.json()["errors"][0]["field"] == field, (case, r.json())


def test_within_the_skew_and_history_are_accepted(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    items = [
        order(id="o-soon", at=(NOW + timedelta(minutes=9)).isoformat()),
        order(id="o-old", at=(T0 - timedelta(days=3 * 365)).isoformat()),
    ]
    r = client.post(f"/api/v1/workspaces/{workspace.slug}/events", json=items, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2


def test_the_skew_is_a_setting(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    wider = settings.model_copy(update={"max_future_skew": timedelta(days=2)})
    with transaction(engine) as conn:
        token = do_create_token(conn, workspace.slug, now=NOW)
    item = order(at=(NOW + timedelta(days=1)).isoformat())
    with TestClient(create_app(wider, engine)) as client:
        r = client.post(
            f"/api/v1/workspaces/{workspace.slug}/events",
            json=[item],
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200, r.text


def test_a_message_after_an_old_history_runs_its_due_work_in_bounded_transactions(
    client: TestClient,
    engine: Engine,
    workspace: WorkspaceInfo,
    auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A history from three years ago leaves the daily cleanup due every day since: a sandbox
    message now runs those ~1,100 runs in transactions of at most MAX_JOBS_PER_TRANSACTION
    (200 here, to keep the test short)."""
    from sqlalchemy import event as sa_event
    from sqlalchemy import func, select

    from shequn.engine import ingest
    from shequn.engine.models import jobs

    MAX_JOBS_PER_TRANSACTION = 200
    monkeypatch.setattr(ingest, "MAX_JOBS_PER_TRANSACTION", MAX_JOBS_PER_TRANSACTION)

    old = NOW - timedelta(days=3 * 365)
    history = [
        raw_event("group.created", "g-1", at=old, name="老群"),
        raw_event("member.joined", "g-1", "u-1", at=old, nickname="老王", scene="qr"),
    ]
    base = f"/api/v1/workspaces/{workspace.slug}"
    assert client.post(f"{base}/events", json=history, headers=auth).status_code == 200
    done_at_commit: list[int] = []

    def count_done(conn: Any) -> None:
        done = (
            select(func.count())
            .select_from(jobs)
            .where(jobs.c.workspace_id == workspace.id, jobs.c.status == "done")
        )
        done_at_commit.append(conn.execute(done).scalar_one())

    sa_event.listen(engine, "commit", count_done)
    try:
        body = {"group": "g-1", "member": "u-1", "text": "还在吗"}
        r = client.post(f"{base}/sandbox/messages", json=body, headers=auth)
    finally:
        sa_event.remove(engine, "commit", count_done)
    assert r.status_code == 200, r.text
    steps = [b - a for a, b in itertools.pairwise(done_at_commit)]
    assert done_at_commit[-1] > 2 * MAX_JOBS_PER_TRANSACTION
    assert max(steps) <= MAX_JOBS_PER_TRANSACTION
