"""API tokens: named, listed, expiring and revocable; a revoked or expired token is refused
at once. And what a stranger can learn: nothing about which workspaces or shops exist."""

from __future__ import annotations

from datetime import timedelta

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.commerce.orders import do_create_shop, sign
from shequn.community.service import do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.platform.clock import FixedClock
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW
from tests.growth.helpers import app_with_domains


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_expire_and_are_revoked_at_once(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    clock = FixedClock(NOW)
    with transaction(engine) as conn:
        admin = do_create_token(conn, workspace.slug, "运营后台", now=NOW)
    base = f"/api/v1/workspaces/{workspace.slug}"
    with TestClient(app_with_domains(settings, engine, clock)) as client:
        made = client.post(
            f"{base}/tokens",
            json={"name": "报表脚本", "expires_at": (NOW + timedelta(days=1)).isoformat()},
            headers=bearer(admin),
        )
        assert made.status_code == 201, made.text
        script = made.json()["token"]
        assert client.get(base, headers=bearer(script)).status_code == 200
        listed = client.get(f"{base}/tokens", headers=bearer(admin)).json()
        assert [(t["name"], t["status"]) for t in listed] == [
            ("运营后台", "active"),
            ("报表脚本", "active"),
        ]
        assert listed[1]["hint"] == script[:7] and script not in orjson.dumps(listed).decode()

        clock.advance(timedelta(days=1))  # the script's token has now expired
        expired = client.get(base, headers=bearer(script))
        assert expired.status_code == 401
        assert client.get(f"{base}/tokens", headers=bearer(admin)).json()[1]["status"] == "expired"

        admin_id = listed[0]["id"]
        revoked = client.delete(f"{base}/tokens/{admin_id}", headers=bearer(admin))
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
        assert client.get(base, headers=bearer(admin)).status_code == 401  # at once

        past = {"name": "x", "expires_at": (NOW - timedelta(days=1)).isoformat()}
        with transaction(engine) as conn:
            other = do_create_token(conn, workspace.slug, "other", now=clock.now())
        assert client.post(f"{base}/tokens", json=past, headers=bearer(other)).status_code == 422
        missing = client.delete(f"{base}/tokens/999999", headers=bearer(other))
        assert missing.status_code == 404


def test_a_shop_webhook_does_not_tell_which_workspaces_exist(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    with transaction(engine) as conn:
        secret = do_create_shop(conn, workspace, "shop", None, "sandbox", NOW)
    body = orjson.dumps({"type": "order.paid", "order_id": "o-1", "amount_fen": 100})
    headers = {"X-Shequn-Signature": sign(secret, body)}
    with TestClient(app_with_domains(settings, engine)) as client:
        answers = [
            client.post(path, content=body, headers=headers)
            for path in (
                f"/shop/{workspace.slug}/nope/webhook",  # a workspace that exists, no such shop
                "/shop/no-such-workspace/shop/webhook",
            )
        ]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json() == answers[1].json()
    assert workspace.slug not in answers[0].text
