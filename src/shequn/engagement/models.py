"""Tables of the engagement domain: the points ledger, check-ins, and each member's standing."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shequn.platform.db import Id, UTCDateTime, metadata

points_ledger = Table(
    "points_ledger",
    metadata,
    # Append-only: a correction is a new row, never an update.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(300), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("group_ext", String(128)),
    Column("delta", Integer, nullable=False),
    Column("balance", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("rule", String(100), nullable=False),
    Column("caused_by", String(128)),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
    Index("ix_points_ledger_member", "workspace_id", "channel", "member_ext"),
)

checkins = Table(
    "checkins",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("day", Date, nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("streak", Integer, nullable=False),
    Column("points", Integer, nullable=False),
    Column("caused_by", String(128), nullable=False),
    UniqueConstraint("workspace_id", "channel", "member_ext", "day"),
)

member_standing = Table(
    "member_standing",
    metadata,
    # The projection of the ledger and check-ins a rule needs at hand for one member.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("balance", Integer, nullable=False),
    Column("earned", Integer, nullable=False),
    Column("level", String(50), nullable=False),
    Column("counter_day", Date),
    Column("message_points_today", Integer, nullable=False),
    Column("last_checkin_day", Date),
    Column("streak", Integer, nullable=False),
    Column("checkins", Integer, nullable=False),
    UniqueConstraint("workspace_id", "channel", "member_ext"),
)
