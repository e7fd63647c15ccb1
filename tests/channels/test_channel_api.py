"""Connecting, reading and disconnecting over the API: secrets go in and never come out,
and one workspace's token cannot touch another's connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.service import do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.platform.db import transaction
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.channels.fake_wecom import FakeWecom
from tests.channels.wecom_kit import AES_KEY, KEY, TOKEN
from tests.conftest import create_workspace
from tests.factories import NOW


@pytest.fixture
def fake() -> Iterator[FakeWecom]:
    server = FakeWecom().start()
    yield server
    server.stop()


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    keyed = Settings(database_url=settings.database_url, secret_key=KEY)
    with TestClient(create_app(keyed, engine)) as c:
        yield c


def auth(engine: Engine, ws: WorkspaceInfo) -> dict[str, str]:
    with transaction(engine) as conn:
        return {"Authorization": f"Bearer {do_create_token(conn, ws.slug, now=NOW)}"}


def test_secrets_go_in_and_never_come_out(
    client: TestClient, engine: Engine, workspace: WorkspaceInfo, fake: FakeWecom
) -> None:
    base = f"/api/v1/workspaces/{workspace.slug}/channels"
    headers = auth(engine, workspace)
    body = {"corp_id": fake.corp_id, "agent_id": 7, "token": TOKEN, "aes_key": AES_KEY,
            "secret": fake.secret, "api_base": fake.base}  # fmt: skip
    answer = client.put(f"{base}/wecom", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["reachable"] is True
    listed = client.get(base, headers=headers)
    for text in (answer.text, listed.text):
        assert fake.secret not in text and AES_KEY not in text and "token-1" not in text
        assert f'"{TOKEN}"' not in text
    assert listed.json()[0]["settings"] == {"corp_id": fake.corp_id, "agent_id": 7,
                                            "api_base": fake.base}  # fmt: skip
    synced = client.post(f"{base}/wecom/sync", headers=headers)
    assert synced.status_code == 200 and synced.json()["groups"] == 0

    other = create_workspace(engine)
    theirs = auth(engine, other)
    assert client.get(base, headers=theirs).status_code == 403
    assert client.delete(f"{base}/wecom", headers=theirs).status_code == 403
    assert client.get(f"/api/v1/workspaces/{other.slug}/channels", headers=theirs).json() == []

    assert client.delete(f"{base}/wecom", headers=headers).status_code == 204
    gone = client.delete(f"{base}/wecom", headers=headers)
    assert gone.status_code == 404 and gone.json()["code"] == "channels.not_connected"


def test_connect_refuses_bad_settings_and_keeps_unreachable_ones(
    client: TestClient, engine: Engine, workspace: WorkspaceInfo
) -> None:
    base = f"/api/v1/workspaces/{workspace.slug}/channels"
    headers = auth(engine, workspace)
    body = {"corp_id": "ww-x", "agent_id": 7, "token": "bad token!", "aes_key": AES_KEY,
            "secret": "s", "api_base": "http://127.0.0.1:9/cgi-bin/"}  # fmt: skip
    refused = client.put(f"{base}/wecom", json=body, headers=headers)
    assert refused.status_code == 422 and refused.json()["code"] == "wecom.bad_setting"
    assert client.get(base, headers=headers).json() == []
    kept = client.put(f"{base}/wecom", json={**body, "token": TOKEN}, headers=headers)
    assert kept.status_code == 200 and kept.json()["reachable"] is False
    assert kept.json()["connection"]["errors"][-1]["what"] == "check"
    failed = client.post(f"{base}/wecom/sync", headers=headers)
    assert failed.status_code == 409 and failed.json()["code"] == "wecom.api_failed"
