"""Exports of growth: rewards, referrals, scans, live-code pools, campaign participants,
cards, claims and assists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Table, select

from shequn.community.workspace import WorkspaceInfo
from shequn.exports import iso, register_export, stream
from shequn.growth.models import (
    assists,
    cards,
    claims,
    code_scans,
    live_code_groups,
    live_codes,
    participants,
    referrals,
)
from shequn.growth.models import rewards as rewards_table
from shequn.growth.rewards import public_reward


def _plain(row: Any, columns: tuple[str, ...], rename: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in columns:
        source = rename.get(col, col)
        value = row[source]
        out[col] = (
            iso(value) if hasattr(value, "isoformat") and not isinstance(value, str) else value
        )
    return out


def _simple(
    name: str,
    table: Table,
    columns: tuple[str, ...],
    order: tuple[str, ...],
    rename: dict[str, str],
) -> None:
    def rows(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
        stmt = (
            select(table)
            .where(table.c.workspace_id == ws.id)
            .order_by(*(table.c[c] for c in order))
        )
        for r in stream(conn, stmt):
            yield _plain(r, columns, rename)

    register_export(name, columns)(rows)


REWARD_COLUMNS = (
    "id",
    "key",
    "campaign",
    "channel",
    "member",
    "kind",
    "amount_fen",
    "points",
    "coupon",
    "identity",
    "cost_fen",
    "status",
    "reason",
    "note",
    "subject",
    "rule",
    "caused_by",
    "fraud_score",
    "fraud_reasons",
    "created_at",
    "decided_at",
    "decided_by",
)


@register_export("rewards", REWARD_COLUMNS)
def _rewards(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = rewards_table
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.id)
    for r in stream(conn, stmt):
        yield public_reward(r)


_simple(
    "referrals",
    referrals,
    (
        "channel",
        "invitee",
        "inviter",
        "campaign",
        "group",
        "code",
        "depth",
        "joined_at",
        "status",
        "reason",
        "validated_at",
        "left_at",
        "fraud_score",
        "fraud_reasons",
        "orders",
    ),
    ("joined_at", "id"),
    {"group": "group_ext"},
)
_simple(
    "scans",
    code_scans,
    ("channel", "id", "code", "state", "scanner", "inviter", "group", "at"),
    ("at", "id"),
    {"id": "event_ext", "group": "group_ext"},
)
_simple(
    "livecodes",
    live_codes,
    (
        "code",
        "token",
        "name",
        "channel",
        "state",
        "source",
        "campaign",
        "blueprint",
        "base_name",
        "admissions_cap",
        "group_capacity",
        "status",
        "created_at",
    ),
    ("code",),
    {},
)
_simple(
    "livecode_groups",
    live_code_groups,
    ("code_id", "position", "group", "name", "join_url", "admissions", "status", "created_at"),
    ("code_id", "position"),
    {"group": "group_ext"},
)
_simple(
    "participants",
    participants,
    (
        "campaign",
        "channel",
        "member",
        "joined_at",
        "poster_at",
        "shared_at",
        "shares",
        "chances",
        "chances_used",
        "avatar_url",
    ),
    ("campaign", "channel", "member_ext"),
    {"member": "member_ext"},
)
_simple(
    "cards",
    cards,
    ("campaign", "channel", "member", "card", "delta", "reason", "at", "key"),
    ("at", "id"),
    {"member": "member_ext"},
)
_simple(
    "claims",
    claims,
    ("campaign", "channel", "member", "price_fen", "at", "key"),
    ("at", "id"),
    {"member": "member_ext"},
)
_simple(
    "assists",
    assists,
    (
        "campaign",
        "channel",
        "member",
        "kind",
        "start_fen",
        "target_fen",
        "progress_fen",
        "helpers",
        "helpers_needed",
        "status",
        "created_at",
        "done_at",
    ),
    ("campaign", "channel", "member_ext"),
    {"member": "member_ext"},
)
