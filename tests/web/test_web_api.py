"""The HTTP API: auth scoped to a workspace, ingest, sandbox, exports, problems, ops."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from shequn.community.service import do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.platform.db import transaction
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.conftest import create_workspace
from tests.factories import NOW, T0, raw_event


def token_for(engine: Engine, ws: WorkspaceInfo) -> str:
    with transaction(engine) as conn:
        return do_create_token(conn, ws.slug, now=NOW)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as c:
        yield c


@pytest.fixture
def auth(engine: Engine, workspace: WorkspaceInfo) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(engine, workspace)}"}


def url(ws: WorkspaceInfo, path: str = "") -> str:
    return f"/api/v1/workspaces/{ws.slug}{path}"


def batch() -> list[dict]:
    return [
        raw_event("group.created", "g-1", at=T0, id_="e-1", name="烘焙1群"),
        raw_event("member.joined", "g-1", "u-1", at=T0, id_="e-2", nickname="小明", scene="qr"),
        raw_event(
            "message.posted",
            "g-1",
            "u-1",
            at=T0,
            id_="e-3",
            message_id="m-1",
            kind="text",
            text="大家好",
        ),
    ]


def test_ingest_answers_accepted_and_duplicates(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    r = client.post(url(workspace, "/events"), json=batch(), headers=auth)
    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], r.json()["duplicates"]) == (3, 0)
    r = client.post(url(workspace, "/events"), json={"events": batch()}, headers=auth)
    assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 3)
    members = client.get(url(workspace, "/members"), headers=auth).json()
    assert [(m["member"], m["message_count"]) for m in members] == [("u-1", 1)]


def test_ingest_answers_conflicts_apart_from_duplicates(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    client.post(url(workspace, "/events"), json=batch(), headers=auth)
    changed = batch()
    changed[2]["data"]["text"] = "改过的"
    r = client.post(url(workspace, "/events"), json=changed, headers=auth)
    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], r.json()["duplicates"], r.json()["conflicts"]) == (0, 2, ["e-3"])
    stored = client.get(url(workspace, "/exports/events"), headers=auth).text
    assert "大家好" in stored and "改过的" not in stored


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.update(type="message.postd"), "type"),
        (lambda e: e["data"].pop("nickname"), "data.nickname"),
        (lambda e: e.update(at="2026-11-22T10:00:00"), "at"),
        (lambda e: e["data"].update(scene="teleport"), "data.scene"),
        (lambda e: e.update(member=None), "member"),
    ],
)
def test_bad_item_rejects_whole_batch(
    client: TestClient,
    workspace: WorkspaceInfo,
    auth: dict[str, str],
    mutate,
    field: str,  # type: ignore[no-untyped-def]
) -> None:
    items = batch()
    mutate(items[1])
    english = {**auth, "Accept-Language": "en"}
    r = client.post(url(workspace, "/events"), json=items, headers=english)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422 and problem["title"].startswith("Batch rejected")
    assert {"item": 1, "field": field} == {k: problem["errors"][0][k] for k in ("item", "field")}
    assert client.get(url(workspace, "/exports/events"), headers=auth).content == b""


def test_skip_invalid_stores_the_rest(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    items = batch()
    items[0]["at"] = "yesterday"
    r = client.post(url(workspace, "/events?skip_invalid=true"), json=items, headers=auth)
    assert r.status_code == 200
    assert (r.json()["accepted"], r.json()["skipped"]) == (2, 1)
    assert r.json()["errors"][0].startswith("0: at:")


def test_malformed_and_oversized_bodies(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str], settings: Settings
) -> None:
    r = client.post(url(workspace, "/events"), content=b"[{", headers=auth)
    assert r.status_code == 400 and r.json()["title"] == "Malformed JSON"
    r = client.post(url(workspace, "/events"), json={"nope": 1}, headers=auth)
    assert r.status_code == 400
    huge = b"[" + b" " * (settings.max_body_bytes + 1) + b"]"
    r = client.post(url(workspace, "/events"), content=huge, headers=auth)
    assert r.status_code == 413
    big_event = batch()[2]
    big_event["data"]["text"] = "字" * 20_001
    r = client.post(url(workspace, "/events"), json=[big_event], headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "data.text"
    assert client.get(url(workspace, "/exports/events"), headers=auth).content == b""


def test_tokens_are_scoped_to_one_workspace(
    client: TestClient, engine: Engine, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    other = create_workspace(engine)
    other_auth = {"Authorization": f"Bearer {token_for(engine, other)}"}
    client.post(url(workspace, "/events"), json=batch(), headers=auth)
    paths = [
        "",
        "/config",
        "/groups",
        "/members",
        "/memberships",
        "/actions",
        "/exports/events",
        "/sandbox/groups/g-1/messages",
    ]
    for path in paths:
        r = client.get(url(workspace, path), headers=other_auth)
        assert r.status_code == 403, path
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "小明" not in r.text and "u-1" not in r.text
    r = client.post(url(workspace, "/events"), json=batch(), headers=other_auth)
    assert r.status_code == 403
    r = client.post(
        url(workspace, "/sandbox/messages"),
        json={"group": "g-1", "member": "u-9", "text": "hi"},
        headers=other_auth,
    )
    assert r.status_code == 403
    assert (
        client.get(
            url(workspace, "/members"), headers={"Authorization": "Bearer sq_wrong"}
        ).status_code
        == 401
    )
    assert client.get(url(workspace, "/members")).status_code == 401
    assert client.get(url(other, "/members"), headers=other_auth).json() == []


def test_sandbox_post_answers_actions_and_history(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    client.post(url(workspace, "/events"), json=batch(), headers=auth)
    # The welcome window of u-1 closed 30 s after the join; this message's time passes it.
    r = client.post(
        url(workspace, "/sandbox/messages"),
        json={
            "group": "g-1",
            "member": "u-2",
            "text": "请问怎么下单",
            "at": "2026-11-22T10:05:00+08:00",
        },
        headers=auth,
    )
    assert r.status_code == 200, r.text
    (action,) = r.json()["actions"]
    assert action["kind"] == "message.send" and action["rule"] == "engagement.welcome"
    assert set(action) >= {
        "id",
        "kind",
        "group",
        "member",
        "data",
        "rule",
        "reason",
        "caused_by",
        "status",
    }
    history = client.get(url(workspace, "/sandbox/groups/g-1/messages"), headers=auth).json()
    assert [m["text"] for m in history] == ["大家好", "请问怎么下单"]


def test_exports_in_every_format(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    client.post(url(workspace, "/events"), json=batch(), headers=auth)
    lines = client.get(url(workspace, "/exports/events"), headers=auth).content.splitlines()
    assert [orjson.loads(x)["id"] for x in lines] == ["e-1", "e-2", "e-3"]
    csv_text = client.get(
        url(workspace, "/exports/memberships?format=csv&header=ids"), headers=auth
    ).content.decode("utf-8-sig")
    header, row = csv_text.splitlines()
    assert header.startswith("channel,group,member,")
    assert row.startswith("sandbox,g-1,u-1,小明,True")
    xlsx = client.get(url(workspace, "/exports/members?format=xlsx&header=ids"), headers=auth)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.values)
    assert rows[0][:2] == ("channel", "member") and rows[1][:2] == ("sandbox", "u-1")
    assert client.get(url(workspace, "/exports/nope"), headers=auth).status_code == 404
    assert client.get(url(workspace, "/exports/events?format=pdf"), headers=auth).status_code == 400


def test_config_roundtrip_and_errors(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    cfg = client.get(url(workspace, "/config"), headers=auth).json()
    assert cfg["workspace"]["timezone"] == "Asia/Shanghai"
    assert cfg["groups"]["default_capacity"] == 500
    bad = "workspace:\n  timezone: Mars/Base\nwelcom: {}\ngroups:\n  default_capacity: -1\n"
    r = client.put(url(workspace, "/config"), content=bad, headers=auth)
    assert r.status_code == 422
    paths = {e["path"] for e in r.json()["errors"]}
    assert paths == {"workspace.timezone", "welcom", "groups.default_capacity"}
    assert client.get(url(workspace, "/config"), headers=auth).json() == cfg
    r = client.put(
        url(workspace, "/config"), content="welcome:\n  window_seconds: 60\n", headers=auth
    )
    assert r.status_code == 200 and r.json()["welcome"]["window_seconds"] == 60


def test_ops_endpoints(client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    client.post(url(workspace, "/events"), json=batch(), headers=auth)
    # A check-in decides a reply: the outbox then has a pending action to count.
    client.post(
        url(workspace, "/sandbox/messages"),
        json={"group": "g-1", "member": "u-1", "text": "签到"},
        headers=auth,
    )
    metrics = client.get("/metrics").text
    assert "shequn_events_ingested_total" in metrics
    assert "shequn_ingest_batch_seconds_bucket" in metrics
    assert 'shequn_actions{status="pending"}' in metrics
    spec = client.get("/openapi.json").json()
    assert "/api/v1/workspaces/{ws}/events" in spec["paths"]
    # The API docs render with no internet: every script and style they load is served here.
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html.text)
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
    r = client.get("/nowhere")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
