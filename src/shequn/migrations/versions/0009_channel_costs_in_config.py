"""channel costs have one home, the workspace configuration (analytics.channels): the costs
set with `shequn channel set` move there from growth_channels, which is dropped

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import shequn.platform.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_workspaces = sa.table("workspaces", sa.column("id", sa.Integer), sa.column("config", sa.JSON))
_channels = sa.table(
    "growth_channels",
    sa.column("workspace_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("cost_fen", sa.Integer),
)


def _merged(config: dict[str, Any], rows: list[Any]) -> dict[str, Any]:
    """The stored document with each channel row as an `analytics.channels` entry (an entry
    of the same name keeps its states, codes and other costs)."""
    analytics = dict(config.get("analytics") or {})
    entries = [dict(e) for e in analytics.get("channels") or []]
    for row in rows:
        entry = next((e for e in entries if e.get("name") == row.key), None)
        if entry is None:
            entry = {"name": row.key}
            entries.append(entry)
        entry.update(label=row.name, kind=row.kind, cost_fen=int(row.cost_fen))
    analytics["channels"] = entries
    return {**config, "analytics": analytics}


def upgrade() -> None:
    conn = op.get_bind()
    by_ws: dict[int, list[Any]] = {}
    for row in conn.execute(sa.select(_channels).order_by(_channels.c.key)):
        by_ws.setdefault(int(row.workspace_id), []).append(row)
    for ws_id, rows in by_ws.items():
        config = conn.execute(
            sa.select(_workspaces.c.config).where(_workspaces.c.id == ws_id)
        ).scalar_one()
        conn.execute(
            _workspaces.update()
            .where(_workspaces.c.id == ws_id)
            .values(config=_merged(dict(config or {}), rows))
        )
    op.drop_table("growth_channels")


def downgrade() -> None:
    # The costs stay in the configuration; the old table comes back empty.
    op.create_table(
        "growth_channels",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cost_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", shequn.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_growth_channels_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growth_channels")),
        sa.UniqueConstraint(
            "workspace_id", "key", name=op.f("uq_growth_channels_workspace_id_key")
        ),
    )
