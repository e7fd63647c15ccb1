"""Tables of the event log, the outbox of actions, and the durable scheduler's jobs."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shequn.platform.db import Id, UTCDateTime, metadata

events = Table(
    "events",
    metadata,
    # seq is the order of arrival: replays and exports follow it.
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("ext_id", String(128), nullable=False),
    Column("type", String(32), nullable=False),
    Column("group_ext", String(128)),
    Column("member_ext", String(128)),
    Column("at", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    UniqueConstraint("workspace_id", "channel", "ext_id"),
    # Rules replay the recent window of the log (flooding, duplicates across groups).
    Index("ix_events_recent", "workspace_id", "at"),
)

actions = Table(
    "actions",
    metadata,
    # A deterministic id derived from the idempotency key: a re-run decides the same ids.
    Column("id", String(32), primary_key=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("idempotency_key", String(400), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128)),
    Column("member_ext", String(128)),
    Column("data", JSON, nullable=False),
    Column("rule", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("caused_by", String(128)),
    Column("decided_at", UTCDateTime, nullable=False),
    # The decision's place among those of the same cause: exports keep decision order.
    Column("ordinal", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("done_at", UTCDateTime),
    UniqueConstraint("workspace_id", "idempotency_key"),
    Index("ix_actions_due", "status", "next_attempt_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(64), nullable=False),
    # slot names the pending work a job stands for ("welcome for group g"); key is unique.
    Column("slot", String(300), nullable=False),
    Column("key", String(300), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("done_at", UTCDateTime),
    UniqueConstraint("workspace_id", "key"),
    Index("ix_jobs_due", "status", "due_at"),
    Index("ix_jobs_slot", "workspace_id", "slot", "status"),
)
