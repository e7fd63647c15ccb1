"""Tables of growth: live codes and their group pools, scans, campaign
participants, referrals, the reward ledger and the state of the fission models.

Members and groups are named by the channel's own ids (`member_ext`, `group_ext`), as in the
core projections; money is integer fen.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
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


def _ws() -> Column[int]:
    return Column(
        "workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )


live_codes = Table(
    "live_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    # `code` is what events carry (member.joined / code.scanned); `token` is the public URL.
    Column("code", String(128), nullable=False),
    Column("token", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("state", String(200)),
    Column("source", String(64)),
    Column("campaign", String(64)),
    Column("blueprint", String(200)),
    Column("base_name", String(150), nullable=False),
    Column("admissions_cap", Integer, nullable=False),
    Column("group_capacity", Integer, nullable=False),
    Column("next_number", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "code"),
)

live_code_groups = Table(
    "live_code_groups",
    metadata,
    # One group of a code's pool; `admissions` counts scans sent to it (≤ the code's cap).
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code_id", Id, ForeignKey("live_codes.id", ondelete="CASCADE"), nullable=False),
    _ws(),
    Column("position", Integer, nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("name", String(200), nullable=False),
    Column("join_url", String(2048)),
    Column("admissions", Integer, nullable=False),
    # open, pending (staff still has to make it), closed
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("code_id", "position"),
    UniqueConstraint("code_id", "group_ext"),
)

code_scans = Table(
    "code_scans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("event_ext", String(128), nullable=False),
    Column("code", String(128), nullable=False),
    Column("state", String(200)),
    Column("scanner", String(128)),
    Column("inviter", String(128)),
    Column("group_ext", String(128)),
    # A hash of the client's network: a fraud signal, never the address itself.
    Column("network", String(32)),
    # The browser's own id (a cookie): the same device behind two accounts is a fraud signal.
    Column("device", String(64)),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "channel", "event_ext"),
    Index("ix_code_scans_code", "workspace_id", "code"),
    Index("ix_code_scans_scanner", "workspace_id", "channel", "scanner"),
)

participants = Table(
    "campaign_participants",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("campaign", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("poster_at", UTCDateTime),
    Column("shared_at", UTCDateTime),
    Column("shares", Integer, nullable=False),
    Column("chances", Integer, nullable=False),
    Column("chances_used", Integer, nullable=False),
    # Drawn on the poster (fetched once, cached on disk); None: the nickname's initial.
    Column("avatar_url", String(2048)),
    UniqueConstraint("workspace_id", "campaign", "channel", "member_ext"),
)

referrals = Table(
    "referrals",
    metadata,
    # Who invited whom: one inviter per invitee in a workspace (first touch).
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("invitee", String(128), nullable=False),
    Column("inviter", String(128), nullable=False),
    Column("campaign", String(64)),
    Column("group_ext", String(128)),
    Column("code", String(128)),
    Column("depth", Integer, nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("nickname", String(200)),
    # held → valid | invalid; waiting = held past the hold, the qualifying action still due
    Column("status", String(16), nullable=False),
    Column("reason", String(64)),
    Column("validated_at", UTCDateTime),
    Column("left_at", UTCDateTime),
    Column("fraud_score", Integer, nullable=False),
    Column("fraud_reasons", JSON, nullable=False),
    Column("orders", Integer, nullable=False),
    UniqueConstraint("workspace_id", "channel", "invitee"),
    Index("ix_referrals_inviter", "workspace_id", "channel", "inviter"),
)

rewards = Table(
    "rewards",
    metadata,
    # The reward ledger. `key` names the reason (campaign, kind, beneficiary, subject): the
    # same reason never issues twice.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("key", String(300), nullable=False),
    Column("campaign", String(64)),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_fen", Id, nullable=False),
    Column("points", Integer, nullable=False),
    Column("coupon", String(64)),
    Column("identity", String(64)),
    Column("cost_fen", Id, nullable=False),
    # issued, review (waits for staff), rejected, reversed, paid
    Column("status", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("note", Text),
    Column("subject", String(128)),
    Column("rule", String(100), nullable=False),
    Column("caused_by", String(128)),
    Column("fraud_score", Integer, nullable=False),
    Column("fraud_reasons", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Column("decided_by", String(100)),
    UniqueConstraint("workspace_id", "key"),
    Index("ix_rewards_campaign", "workspace_id", "campaign", "status"),
    Index("ix_rewards_member", "workspace_id", "channel", "member_ext"),
)

assists = Table(
    "assists",
    metadata,
    # One participant's bargain, red-packet collection or vote entry.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("campaign", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("start_fen", Id, nullable=False),
    Column("target_fen", Id, nullable=False),
    Column("progress_fen", Id, nullable=False),
    Column("helpers_needed", Integer, nullable=False),
    Column("helpers", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    UniqueConstraint("workspace_id", "campaign", "channel", "member_ext"),
)

assist_helps = Table(
    "assist_helps",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("assist_id", Id, ForeignKey("assists.id", ondelete="CASCADE"), nullable=False),
    _ws(),
    Column("helper", String(128), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("amount_fen", Id, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("assist_id", "helper"),
)

cards = Table(
    "campaign_cards",
    metadata,
    # A ledger of cards: drops are +1, gifts are -1 for the giver and +1 for the receiver.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("key", String(300), nullable=False),
    Column("campaign", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("card", String(32), nullable=False),
    Column("delta", Integer, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
    Index("ix_campaign_cards_member", "workspace_id", "campaign", "channel", "member_ext"),
)

group_buys = Table(
    "group_buys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("campaign", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("leader", String(128), nullable=False),
    Column("size", Integer, nullable=False),
    Column("joined", Integer, nullable=False),
    Column("invites", Integer, nullable=False),
    Column("price_fen", Id, nullable=False),
    # open, done, failed (refund), robot (completed by the robot member)
    Column("status", String(16), nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    UniqueConstraint("workspace_id", "campaign", "channel", "leader"),
)

group_buy_members = Table(
    "group_buy_members",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("buy_id", Id, ForeignKey("group_buys.id", ondelete="CASCADE"), nullable=False),
    _ws(),
    Column("member_ext", String(128), nullable=False),
    Column("robot", Boolean, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("buy_id", "member_ext"),
)

claims = Table(
    "campaign_claims",
    metadata,
    # Flash-sale purchases and free gifts taken: stock is the count of these rows.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("key", String(300), nullable=False),
    Column("campaign", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("price_fen", Id, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
    Index("ix_campaign_claims_campaign", "workspace_id", "campaign"),
)
