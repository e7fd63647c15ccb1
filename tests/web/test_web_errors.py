"""Domain errors over HTTP: each answers its own status as problem+json, in the workspace's
language (or the one asked for), and nothing unhandled leaks a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.service import do_create_token
from shequn.engine.rules import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.platform.db import transaction
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.factories import T0, joined

PROBLEM = "application/problem+json"


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    # A 500 must come back as a response, as a real server would answer it.
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def auth(engine: Engine, workspace: WorkspaceInfo) -> dict[str, str]:
    with transaction(engine) as conn:
        return {"Authorization": f"Bearer {do_create_token(conn, workspace.slug)}"}


def url(ws: WorkspaceInfo, path: str) -> str:
    return f"/api/v1/workspaces/{ws.slug}{path}"


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert isinstance(body, dict) and body["status"] == status
    assert body["code"] and body["title"] and body["detail"], body
    return body


def test_spending_more_points_than_a_member_has_is_a_conflict(
    client: TestClient, engine: Engine, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    do_ingest_events(engine, workspace, [joined("u-1", at=T0)])
    body = {"member": "u-1", "amount": 50, "reason": "兑换", "key": "k-1"}
    r = client.post(url(workspace, "/engagement/points/spend"), json=body, headers=auth)
    got = problem(r, 409)
    assert got["code"] == "engagement.points_short"
    assert "u-1" in str(got["detail"]) and "50" in str(got["detail"])


def test_a_reporter_over_the_limit_is_told_when_to_come_back(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    def report(message_id: str) -> Any:
        body = {"group": "g-1", "message_id": message_id, "author": "u-1", "reporter": "r-1"}
        return client.post(url(workspace, "/moderation/reports"), json=body, headers=auth)

    for i in range(5):  # the default: five reports an hour
        r = report(f"m-{i}")
        assert r.status_code == 200, r.text
    r = report("m-9")
    got = problem(r, 429)
    assert got["code"] == "moderation.reports_too_many"
    retry = int(r.headers["retry-after"])
    assert 0 < retry <= 3600 and got["retry_after"] == retry


@pytest.mark.parametrize(
    ("method", "path", "json", "status", "code"),
    [
        ("GET", "/moderation/words/nope", None, 404, "moderation.no_category"),
        ("PUT", "/campaigns/bad%20key", None, 422, "growth.bad_key"),
        ("PUT", "/growth/channels/bad%20key", {}, 422, "growth.bad_key"),
        ("PUT", "/shops/bad%20key", {}, 422, "growth.bad_key"),
        ("POST", "/livecodes", {"code": "lc-1", "channel": ""}, 422, "growth.bad_channel"),
        ("POST", "/livecodes", {"code": "lc-1", "channel": "SANDBOX"}, 422, "growth.bad_channel"),
    ],
)
def test_bad_input_past_the_schema_is_a_domain_error_not_a_crash(
    client: TestClient,
    workspace: WorkspaceInfo,
    auth: dict[str, str],
    method: str,
    path: str,
    json: Any,
    status: int,
    code: str,
) -> None:
    r = client.request(method, url(workspace, path), json=json, headers=auth)
    assert problem(r, status)["code"] == code


def test_errors_speak_chinese_by_default_and_english_on_request(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    path = url(workspace, "/moderation/words/nope")
    zh = problem(client.get(path, headers=auth), 404)
    assert zh["title"] == "未找到" and "nope" in str(zh["detail"])
    assert "未知" in str(zh["detail"])
    en = problem(client.get(path, headers={**auth, "Accept-Language": "en-US,en;q=0.9"}), 404)
    assert en["title"] == "Not found" and str(en["detail"]).startswith("unknown category 'nope'")
    assert en["code"] == zh["code"]


def test_an_english_workspace_answers_in_english(
    client: TestClient, engine: Engine, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    from shequn.community.service import do_apply_config

    with transaction(engine) as conn:
        do_apply_config(conn, workspace.slug, {"workspace": {"locale": "en"}})
    path = url(workspace, "/moderation/words/nope")
    assert problem(client.get(path, headers=auth), 404)["title"] == "Not found"
    asked = client.get(path, headers={**auth, "Accept-Language": "zh-CN"})
    assert problem(asked, 404)["title"] == "未找到"
