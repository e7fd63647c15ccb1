"""message_authors keyed by the message itself (WITHOUT ROWID on SQLite): one B-tree per
row instead of three, for a table that gets a row for every message

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shequn.platform.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_COLUMNS = "workspace_id, channel, group_ext, message_id, member_ext, at"
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("group_ext", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("member_ext", sa.String(length=128), nullable=False),
        sa.Column("at", shequn.platform.db.UTCDateTime(timezone=True), nullable=False),
    ]


def _foreign_key() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f("fk_message_authors_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def _rebuild(*constraints: sa.Constraint, with_rowid: bool) -> None:
    """Copy the rows aside, make the table anew with these constraints, copy them back
    (constraint names stay those of the naming convention on both databases)."""
    op.execute(f"CREATE TABLE message_authors_copy AS SELECT {_COLUMNS} FROM message_authors")
    op.drop_table("message_authors")
    op.create_table("message_authors", *_columns(), *constraints, sqlite_with_rowid=with_rowid)
    op.execute(
        f"INSERT INTO message_authors ({_COLUMNS}) SELECT {_COLUMNS} FROM message_authors_copy"
    )
    op.drop_table("message_authors_copy")


def upgrade() -> None:
    _rebuild(
        _foreign_key(),
        sa.PrimaryKeyConstraint(
            "workspace_id", "channel", "group_ext", "message_id", name=op.f("pk_message_authors")
        ),
        with_rowid=False,
    )


def downgrade() -> None:
    # The old shape: a surrogate id, the key as a unique constraint, an index by time.
    op.execute(f"CREATE TABLE message_authors_copy AS SELECT {_COLUMNS} FROM message_authors")
    op.drop_table("message_authors")
    op.create_table(
        "message_authors",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        *_columns(),
        _foreign_key(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_authors")),
        sa.UniqueConstraint(
            "workspace_id",
            "channel",
            "group_ext",
            "message_id",
            name=op.f("uq_message_authors_workspace_id_channel_group_ext_message_id"),
        ),
    )
    op.create_index("ix_message_authors_at", "message_authors", ["workspace_id", "at"])
    op.execute(
        f"INSERT INTO message_authors ({_COLUMNS}) SELECT {_COLUMNS} FROM message_authors_copy"
    )
    op.drop_table("message_authors_copy")
