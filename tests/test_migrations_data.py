"""Migrations that move data keep it: a database made by an older version, with rows in it,
upgraded to the newest schema (on a SQLite file of its own: downgrading the shared
PostgreSQL schema would pull it from under the other tests)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
from alembic import command

from shequn.community.config import check_config
from shequn.platform.migrate import alembic_config
from shequn.settings import Settings

STAMP = "2026-11-01 00:00:00.000000"


def test_channel_costs_and_message_authors_survive_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    cfg = alembic_config(Settings(database_url=f"sqlite:///{path}"))
    command.upgrade(cfg, "0008")
    with sqlite3.connect(path) as db:
        # A configured channel the old table also priced, and one only the table knew.
        config = {"analytics": {"channels": [{"name": "store", "states": ["s-store"]}]}}
        db.execute(
            "INSERT INTO workspaces (id, slug, name, config, config_version, created_at)"
            " VALUES (1, 'acme', 'acme', ?, 1, ?)",
            (orjson.dumps(config).decode(), STAMP),
        )
        db.executemany(
            "INSERT INTO growth_channels (workspace_id, key, name, kind, cost_fen, created_at)"
            " VALUES (1, ?, ?, ?, ?, ?)",
            [
                ("store", "门店二维码", "store", 50_000, STAMP),
                ("ads", "信息流", "ads", 120_000, STAMP),
            ],
        )
        db.executemany(
            "INSERT INTO message_authors (workspace_id, channel, group_ext, message_id,"
            " member_ext, at) VALUES (1, 'sandbox', ?, ?, ?, ?)",
            [("g-1", "m-1", "u-1", STAMP), ("g-2", "m-1", "u-2", STAMP)],
        )

    command.upgrade(cfg, "0010")  # 0011 renames the key 0009 wrote (tested below)

    with sqlite3.connect(path) as db:
        (stored,) = db.execute("SELECT config FROM workspaces WHERE id = 1").fetchone()
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        authors = sorted(
            db.execute("SELECT group_ext, message_id, member_ext FROM message_authors")
        )
    channels = {c["name"]: c for c in orjson.loads(stored)["analytics"]["channels"]}
    assert channels["store"] == {
        "name": "store",
        "states": ["s-store"],  # what the configuration had stays
        "label": "门店二维码",
        "kind": "store",
        "cost_fen": 50_000,
    }
    assert channels["ads"] == {"name": "ads", "label": "信息流", "kind": "ads", "cost_fen": 120_000}
    check_config(orjson.loads(stored))  # the moved document is a valid configuration
    assert "growth_channels" not in tables
    assert authors == [("g-1", "m-1", "u-1"), ("g-2", "m-1", "u-2")]


def _configs(path: Path) -> dict[int, dict[str, Any]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, config FROM workspaces ORDER BY id").fetchall()
    return {int(ws_id): orjson.loads(config) for ws_id, config in rows}


def test_acquisition_sources_move_to_their_new_key_and_back(tmp_path: Path) -> None:
    """0011: `analytics.channels` becomes `analytics.sources` in every stored configuration,
    with every entry and every other key as it was; downgrading gives the old key back."""
    path = tmp_path / "old.db"
    cfg = alembic_config(Settings(database_url=f"sqlite:///{path}"))
    command.upgrade(cfg, "0010")
    store = {"name": "store", "label": "门店二维码", "states": ["s-store"], "cost_fen": 50_000}
    ads = {
        "name": "ads",
        "codes": ["ads-feed"],
        "costs": [{"since": "2026-10-01", "until": "2026-10-31", "cost_fen": 300_000}],
    }
    before = {
        1: {
            "workspace": {"name": "幸福烘焙"},
            "analytics": {"activation_days": 5, "channels": [store, ads], "campaigns": []},
        },
        2: {"welcome": {"enabled": False}},  # no analytics at all
        3: {"analytics": {"channels": []}},
        4: {},
    }
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO workspaces (id, slug, name, config, config_version, created_at)"
            " VALUES (?, ?, ?, ?, 1, ?)",
            [
                (ws_id, f"w-{ws_id}", f"w-{ws_id}", orjson.dumps(config).decode(), STAMP)
                for ws_id, config in before.items()
            ],
        )

    command.upgrade(cfg, "0011")
    after = _configs(path)
    assert after[1] == {
        "workspace": {"name": "幸福烘焙"},
        "analytics": {"activation_days": 5, "sources": [store, ads], "campaigns": []},
    }
    assert list(after[1]["analytics"]) == ["activation_days", "sources", "campaigns"]
    assert after[2] == before[2] and after[4] == before[4]
    assert after[3] == {"analytics": {"sources": []}}
    for config in after.values():
        check_config(config)  # a valid configuration under the new key
    assert check_config(after[1]).analytics.sources[0].cost_fen == 50_000

    command.downgrade(cfg, "0010")
    assert _configs(path) == before
    command.upgrade(cfg, "head")
    assert _configs(path) == after
