"""channel connections: a workspace's settings and sealed secrets per chat platform

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shequn.platform.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_connections",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=False),
        sa.Column("connected_at", shequn.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shequn.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column(
            "access_token_expires_at", shequn.platform.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_check_at", shequn.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_check_ok", sa.JSON(), nullable=True),
        sa.Column("last_callback_at", shequn.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_sync_at", shequn.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_sync", sa.JSON(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "channel", name="uq_channel_connections_ws_channel"),
    )


def downgrade() -> None:
    op.drop_table("channel_connections")
