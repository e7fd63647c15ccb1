"""campaign participants' avatar URL, drawn on their posters

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_participants") as batch:
        batch.add_column(sa.Column("avatar_url", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign_participants") as batch:
        batch.drop_column("avatar_url")
