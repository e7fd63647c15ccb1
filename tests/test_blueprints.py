"""Blueprints and per-group configuration: groups inherit their blueprint's settings."""

from __future__ import annotations

import io
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import Engine

from shequn.community.config import ConfigRejected
from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.factories import NOW, T0, event, joined, minutes, posted

CONFIG = {
    "blueprints": {
        "烘焙会员": {
            "type": "product",
            "style": "expert",
            "rules": {"theme": "烘焙交流", "prohibited": "广告，违者移出"},
            "fit": {"high_frequency": True},
            "settings": {
                "checkin": {"points": 5},
                "welcome": {"template": "欢迎{mentions}！{rules}"},
            },
        }
    },
    "groups": {
        "overrides": {
            "g-quiet": {"settings": {"checkin": {"enabled": False}}},
            "g-2": {"blueprint": "烘焙会员"},
        }
    },
}


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def test_groups_inherit_blueprint_then_their_own_settings(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    with transaction(engine) as conn:
        ws = do_apply_config(conn, workspace.slug, CONFIG)
    evs = [
        event("group.created", "g-1", at=T0, name="一群", blueprint="烘焙会员"),
        joined("u-1", group="g-1", at=T0, nickname="小明"),
        posted("u-1", "签到", group="g-1", at=T0 + minutes(1)),
        posted("u-2", "签到", group="g-quiet", at=T0 + minutes(1)),
        posted("u-3", "签到", group="g-2", at=T0 + minutes(1)),
        posted("u-4", "签到", group="g-other", at=T0 + minutes(1)),
    ]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, T0 + timedelta(hours=1))
    points = {c["member"]: c["points"] for c in rows(engine, ws, "checkins")}
    assert points == {"u-1": 5, "u-3": 5, "u-4": 10}  # none in g-quiet
    (welcome,) = [a for a in rows(engine, ws, "actions") if a["rule"] == "engagement.welcome"]
    assert welcome["data"]["text"].startswith("欢迎@小明！【主题】烘焙交流")
    assert "【禁止】广告，违者移出" in welcome["data"]["text"]


def test_per_group_errors_are_reported_with_their_path(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    bad = {
        "blueprints": {"x": {"settings": {"checkin": {"points": -1}, "levels": {}}}},
        "groups": {
            "overrides": {
                "g-1": {"blueprint": "nope", "settings": {"welcome": {"window_seconds": "soon"}}}
            }
        },
    }
    with transaction(engine) as conn, pytest.raises(ConfigRejected) as info:
        do_apply_config(conn, workspace.slug, bad)
    paths = {e.path for e in info.value.errors}
    assert "blueprints.x" in paths  # levels cannot differ per group
    bad["blueprints"]["x"]["settings"].pop("levels")
    with transaction(engine) as conn, pytest.raises(ConfigRejected) as info:
        do_apply_config(conn, workspace.slug, bad)
    paths = {e.path for e in info.value.errors}
    assert paths == {
        "groups.overrides.g-1.blueprint",
        "blueprints.x.settings.checkin.points",
        "groups.overrides.g-1.settings.welcome.window_seconds",
    }


def test_blueprints_over_http_with_the_fit_check(
    engine: Engine, workspace: WorkspaceInfo, settings
) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from shequn.community.service import do_create_token
    from shequn.web.app import create_app

    with transaction(engine) as conn:
        do_apply_config(conn, workspace.slug, {**CONFIG, "blueprints": {
            **CONFIG["blueprints"], "闲聊": {"type": "friends"}}})  # fmt: skip
        token = do_create_token(conn, workspace.slug, now=NOW)
    with TestClient(create_app(settings, engine)) as client:
        r = client.get(
            f"/api/v1/workspaces/{workspace.slug}/blueprints",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200
    plans = {p["name"]: p for p in r.json()}
    assert plans["烘焙会员"]["fits"] is True and plans["闲聊"]["fits"] is False
    assert plans["烘焙会员"]["rules_text"].startswith("【主题】烘焙交流")
