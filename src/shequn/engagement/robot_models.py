"""Tables of the community robot's scheduled features: once-only marks, activity counters per
group and member and day, group health, KOL scores, activities, elimination and flash groups.

Rows name groups and members by the channel's own ids, like every projection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shequn.platform.db import Id, UTCDateTime, metadata


def _ws() -> Column[Any]:
    return Column(
        "workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )


robot_marks = Table(
    "robot_marks",
    metadata,
    # "This was done once" (an activity armed, a helper suggested): a job slot only says what
    # is pending, and scheduling a finished job again would repeat it.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("key", String(300), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
)

group_day_counts = Table(
    "group_day_counts",
    metadata,
    # Kept by additive upserts on the hot path; group health reads it once a day.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("day", Date, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("joins", Integer, nullable=False),
    Column("leaves", Integer, nullable=False),
    UniqueConstraint("workspace_id", "channel", "group_ext", "day"),
)

member_day_activity = Table(
    "member_day_activity",
    metadata,
    # One row per member who spoke or was answered in a group on a local day: speakers for
    # group health, answers and replies received for KOL scores.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("day", Date, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("answers", Integer, nullable=False),
    Column("replies_received", Integer, nullable=False),
    Column("mentions_received", Integer, nullable=False),
    UniqueConstraint("workspace_id", "channel", "group_ext", "member_ext", "day"),
    Index("ix_member_day_activity_day", "workspace_id", "channel", "day"),
)

message_authors = Table(
    "message_authors",
    metadata,
    # Who wrote a message, so a reply can credit its author; pruned after the reply window.
    # Every message writes a row: keyed by the message itself, without a rowid on SQLite, it
    # is one B-tree to write instead of three (pruning scans a workspace's rows, weekly).
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("workspace_id", "channel", "group_ext", "message_id"),
    sqlite_with_rowid=False,
)

group_health = Table(
    "group_health",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("day", Date, nullable=False),
    Column("members", Integer, nullable=False),
    Column("speakers", Integer, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("silent_ratio", Float, nullable=False),
    Column("joins", Integer, nullable=False),
    Column("leaves", Integer, nullable=False),
    Column("speakers_7d", Integer, nullable=False),
    Column("messages_7d", Integer, nullable=False),
    Column("messages_prev_7d", Integer, nullable=False),
    Column("net_joins_7d", Integer, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "channel", "group_ext", "day"),
)

kol_scores = Table(
    "kol_scores",
    metadata,
    # The board as of a day: one snapshot per weekly run.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("day", Date, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("score", Float, nullable=False),
    Column("answers", Integer, nullable=False),
    Column("received", Integer, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("active_days", Integer, nullable=False),
    Column("tenure_days", Integer, nullable=False),
    UniqueConstraint("workspace_id", "channel", "day", "member_ext"),
)

activity_entries = Table(
    "activity_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("activity", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("text", Text),
    Column("correct", Boolean),
    Column("caused_by", String(128), nullable=False),
    UniqueConstraint("workspace_id", "activity", "channel", "member_ext"),
)

activity_winners = Table(
    "activity_winners",
    metadata,
    # The draw's log: who won what, and the seed that makes the draw repeatable.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("activity", String(64), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("prize", String(200)),
    Column("amount_fen", Integer, nullable=False),
    Column("points", Integer, nullable=False),
    Column("seed", String(64), nullable=False),
    Column("entrants", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "activity", "rank"),
)

elimination_baselines = Table(
    "elimination_baselines",
    metadata,
    # Each member's cumulative points at the end of the last period: this period's points
    # are the difference.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("earned", Integer, nullable=False),
    Column("since", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "channel", "member_ext"),
)

eliminations = Table(
    "eliminations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("period", String(40), nullable=False),
    Column("points", Integer, nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("eliminated_at", UTCDateTime, nullable=False),
    Column("revive_until", UTCDateTime),
    Column("revived_at", UTCDateTime),
    Column("revived_by", String(128)),
    UniqueConstraint("workspace_id", "channel", "group_ext", "member_ext", "period"),
    Index("ix_eliminations_member", "workspace_id", "channel", "member_ext"),
)

flash_invites = Table(
    "flash_invites",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("target_group", String(128)),
    Column("messages", Integer, nullable=False),
    Column("invited_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "channel", "group_ext", "member_ext"),
)

flash_reports = Table(
    "flash_reports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("members_end", Integer, nullable=False),
    Column("joined", Integer, nullable=False),
    Column("speakers", Integer, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("engaged", Integer, nullable=False),
    Column("invited", Integer, nullable=False),
    Column("converted", Integer, nullable=False),
    Column("target_group", String(128)),
    Column("end_action", String(16), nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "channel", "group_ext"),
)
