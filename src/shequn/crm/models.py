"""Tables of the member CRM: profiles, custom fields, interview notes, tags and segments.

Profiles are keyed like the core projections, by the channel's own member id, and may exist
before the member is ever seen in a group (an imported customer list).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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


def _workspace() -> Column[int]:
    return Column(
        "workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )


profiles = Table(
    "crm_profiles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _workspace(),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("name", String(100)),
    Column("phone", String(20)),
    Column("gender", String(16)),
    Column("age_band", String(16)),
    Column("education", String(32)),
    Column("city", String(64)),
    Column("city_tier", String(16)),
    Column("occupation", String(100)),
    Column("income_band", String(16)),
    Column("similar_spend_band", String(16)),
    Column("heard_from", String(100)),
    Column("purchase_motive", String(200)),
    Column("pains", JSON, nullable=False),
    Column("lifecycle_stage", String(16)),
    Column("custom", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "channel", "member_ext"),
)

custom_fields = Table(
    "crm_custom_fields",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _workspace(),
    Column("key", String(64), nullable=False),
    Column("label", String(100), nullable=False),
    Column("type", String(16), nullable=False),
    Column("choices", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
)

notes = Table(
    "crm_notes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _workspace(),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("author", String(128), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_crm_notes_member", "workspace_id", "channel", "member_ext"),
)

tag_groups = Table(
    "crm_tag_groups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _workspace(),
    Column("name", String(64), nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

tags = Table(
    "crm_tags",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _workspace(),
    Column("name", String(64), nullable=False),
    Column("group_name", String(64)),
    # manual: staff attach it; rule: only auto-tag rules attach it.
    Column("kind", String(16), nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

member_tags = Table(
    "crm_member_tags",
    metadata,
    # Keyed by the tag's name so the engine can attach tags without a lookup round trip.
    Column("id", Id, primary_key=True, autoincrement=True),
    _workspace(),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("tag", String(64), nullable=False),
    Column("source", String(100), nullable=False),
    Column("caused_by", String(128)),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "channel", "member_ext", "tag"),
    Index("ix_crm_member_tags_tag", "workspace_id", "tag"),
)

segments = Table(
    "crm_segments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _workspace(),
    Column("name", String(64), nullable=False),
    Column("description", Text),
    Column("filter", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

counters = Table(
    "crm_member_counters",
    metadata,
    # What auto-tag rules must remember between batches: net spend and the check-in streak.
    Column("id", Id, primary_key=True, autoincrement=True),
    _workspace(),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("spent_fen", BigInteger, nullable=False),
    Column("last_checkin_day", Date),
    Column("checkin_streak", Integer, nullable=False),
    UniqueConstraint("workspace_id", "channel", "member_ext"),
)
