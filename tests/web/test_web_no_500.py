"""Inputs that once answered 500 each answer a typed 4xx problem with a stable code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.service import do_apply_config, do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.platform.db import transaction
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.factories import NOW
from tests.web.test_api_contract import CONFIG


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api(engine: Engine, workspace: WorkspaceInfo) -> tuple[str, dict[str, str]]:
    with transaction(engine) as conn:
        do_apply_config(conn, workspace.slug, CONFIG)
        token = do_create_token(conn, workspace.slug, now=NOW)
    return f"/api/v1/workspaces/{workspace.slug}", {"Authorization": f"Bearer {token}"}


CAMPAIGN = b"model: bargain\nname: x\nprice_fen: 100\ntarget_fen: 10\nhelpers: 2\n"

# (what, method, path, request arguments, status, code)
CASES: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    ("empty channel", "POST", "/livecodes", {"json": {"code": "c1", "channel": ""}}, 422,
     "growth.bad_channel"),
    ("upper-case channel", "POST", "/livecodes", {"json": {"code": "c2", "channel": "SANDBOX"}},
     422, "growth.bad_channel"),
    ("campaign key", "PUT", "/campaigns/bad%20key", {"content": CAMPAIGN}, 422, "growth.bad_key"),
    ("source key, deprecated path", "PUT", "/growth/channels/bad%20key", {"json": {"name": "x"}},
     422, "growth.bad_key"),
    ("source key", "PUT", "/sources/bad%20key", {"json": {"name": "x"}}, 422, "growth.bad_key"),
    ("shop key", "PUT", "/shops/bad%20key", {"json": {"name": "x", "channel": "sandbox"}}, 422,
     "growth.bad_key"),
    ("word list", "GET", "/moderation/words/nope", {}, 404, "moderation.no_category"),
    ("points short", "POST", "/engagement/points/spend",
     {"json": {"member": "u-1", "amount": 100_000, "reason": "x", "key": "k1"}}, 409,
     "engagement.points_short"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "method", "path", "kwargs", "status", "code"), CASES, ids=[c[0] for c in CASES]
)
def test_refused_with_a_typed_problem(
    client: TestClient,
    api: tuple[str, dict[str, str]],
    what: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    base, auth = api
    r = client.request(method, base + path, headers=auth, **kwargs)
    assert (r.status_code, r.json()["code"]) == (status, code), (what, r.text)


def test_a_reporter_over_the_limit_is_told_to_wait(
    client: TestClient, api: tuple[str, dict[str, str]]
) -> None:
    base, auth = api
    statuses = []
    for i in range(12):
        body = {"reporter": "r1", "group": "g", "author": "m", "message_id": f"m{i}"}
        r = client.post(base + "/moderation/reports", json=body, headers=auth)
        statuses.append(r.status_code)
    assert statuses[0] == 200 and statuses[-1] == 429, statuses
    assert int(r.headers["Retry-After"]) > 0 and r.json()["code"].startswith("moderation.")


def test_every_list_route_refuses_an_offset_past_its_bound(
    client: TestClient, api: tuple[str, dict[str, str]]
) -> None:
    base, auth = api
    lists = [
        path
        for path, item in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        if any(p["name"] == "offset" for p in item.get("get", {}).get("parameters", []))
    ]
    assert len(lists) >= 5
    for path in lists:
        url = re.sub(r"\{[^}]+\}", "x", path.replace("{ws}", base.rsplit("/", 1)[1]))
        r = client.get(url, headers=auth, params={"offset": 9223372036854775807})
        assert r.status_code == 422, (path, r.text)
        r = client.get(url, headers=auth, params={"offset": 1_000_000_000})
        assert r.status_code < 500, (path, r.text)
