"""promoters enrolled by hand: a status (active, disabled), a tier staff fixed, when disabled

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shequn.platform.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("promoters") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="active")
        )
        batch.add_column(
            sa.Column("tier_fixed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("disabled_at", shequn.platform.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("promoters") as batch:
        batch.drop_column("disabled_at")
        batch.drop_column("tier_fixed")
        batch.drop_column("status")
