"""Request bodies and answers of the growth API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shequn.config.growth import Campaign, FraudSignal, Reward
from shequn.events import RequestInstant
from shequn.growth.avatars import check_avatar_url
from shequn.platform.schemas import Answer, Json, Number, RowId, Timestamp

Ext = Field(min_length=1, max_length=128)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceIn(_Body):
    name: str | None = Field(default=None, max_length=100)
    kind: str = Field(default="other", max_length=32)
    cost_fen: int = Field(default=0, ge=0, le=10**12)


class CodeIn(_Body):
    code: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=100)
    channel: str = Field(
        default="sandbox", max_length=32, description="Chat platform of the code's groups."
    )
    state: str | None = Field(default=None, max_length=200)
    source: str | None = Field(
        default=None, max_length=64, description="Acquisition source 来源渠道 (its key)."
    )
    campaign: str | None = Field(default=None, max_length=64)
    blueprint: str | None = Field(default=None, max_length=200)
    base_name: str | None = Field(default=None, max_length=150)
    groups: list[str] = Field(default_factory=list, max_length=1000)
    admissions_cap: int | None = Field(default=None, ge=1, le=100_000)
    group_capacity: int | None = Field(default=None, ge=1, le=100_000)


class PoolGroupIn(_Body):
    group: str = Ext
    name: str | None = Field(default=None, max_length=200)
    join_url: str | None = Field(default=None, max_length=2048)


class GroupUrlIn(_Body):
    join_url: str = Field(min_length=1, max_length=2048)


class SandboxJoinIn(_Body):
    scan: str = Ext
    member: str = Ext
    nickname: str = Field(min_length=1, max_length=200)
    at: RequestInstant | None = None


class ReviewIn(_Body):
    approve: bool
    by: str = Field(default="staff", min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=500)


class AvatarIn(_Body):
    avatar_url: str | None = Field(description="http(s) URL of the picture; null clears it.")
    channel: str = Field(default="sandbox", max_length=32)

    @field_validator("avatar_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        return None if value is None else check_avatar_url(value)


class ReverseIn(_Body):
    by: str = Field(default="staff", min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=500)


class PaidIn(_Body):
    ids: list[RowId] = Field(min_length=1, max_length=10_000)
    by: str = Field(default="staff", min_length=1, max_length=100)


class MemberIn(_Body):
    member: str = Ext
    channel: str = Field(default="sandbox", max_length=32)
    at: RequestInstant | None = None


class AssistStartIn(MemberIn):
    target_fen: int | None = Field(default=None, ge=1)


class HelpIn(_Body):
    owner: str = Ext
    helper: str = Ext
    channel: str = Field(default="sandbox", max_length=32)
    at: RequestInstant | None = None


class GiftIn(_Body):
    giver: str = Ext
    receiver: str = Ext
    card: str = Field(min_length=1, max_length=32)
    channel: str = Field(default="sandbox", max_length=32)
    at: RequestInstant | None = None


class GroupBuyJoinIn(_Body):
    leader: str = Ext
    member: str = Ext
    channel: str = Field(default="sandbox", max_length=32)
    at: RequestInstant | None = None


# --- Answers ------------------------------------------------------------------------------

RewardKind = Literal["cash", "redpacket", "discount", "points", "coupon", "identity", "none"]
RewardStatus = Literal["issued", "review", "rejected", "reversed", "paid"]


class SourceOut(Answer):
    """An acquisition source 来源渠道 as configured."""

    key: str
    name: str
    kind: str
    cost_fen: int


class SourceStatsOut(Answer):
    """An acquisition source over all history: its codes' traffic and, from the ROI report,
    its money."""

    source: str
    codes: int
    scans: int
    scanners: int
    joins: int
    name: str
    kind: str | None = Field(description="null for a source that is not configured.")
    new: int
    paying: int
    cost_fen: int
    revenue_fen: int
    join_rate: float | None
    cost_per_new_fen: int | None
    roi: float | None = Field(description="(revenue − cost) ÷ cost; null without a cost.")


class PoolGroupOut(Answer):
    position: int
    group: str
    name: str
    join_url: str | None
    admissions: int
    status: str
    members: int


class CodeOut(Answer):
    """A live code: its public URL and the pool of groups it fills in turn."""

    code: str
    token: str
    url: str = Field(description="The public page, `/l/{token}`.")
    name: str
    channel: str
    state: str | None
    source: str | None = Field(description="The acquisition source 来源渠道 (its key).")
    campaign: str | None
    blueprint: str | None
    base_name: str
    admissions_cap: int
    group_capacity: int
    pool: list[PoolGroupOut]


class CodeStatsOut(Answer):
    code: str
    state: str | None
    source: str | None
    scans: int
    scanners: int
    joins: int
    new: int
    join_rate: float | None


class AttributionOut(Answer):
    """A member's first touch: where they came from."""

    channel: str = Field(description="The member's chat platform.")
    member: str
    group: str | None
    code: str | None
    state: str | None
    inviter: str | None
    campaign: str | None
    source: str | None = Field(
        description="The acquisition source the first-touch code was made for (`--source`), as"
        " given; reports credit the source `analytics.sources` names for its state or code first."
    )


class SandboxJoinOut(Answer):
    group: str
    member: str


class ScanOut(Answer):
    scan: str = Field(description="The id of the `code.scanned` event.")
    status: Literal["ok", "preparing"]
    group: str | None
    name: str | None
    join_url: str | None


class CampaignOut(Answer):
    key: str
    model: str
    spec: Campaign = Field(description="The campaign as configured (unset options left out).")
    reward_value_fen: int
    warnings: list[str] = Field(description="Participant-cost warnings, in the workspace language.")


class PresetsOut(Answer):
    """Campaign documents to start from (`PUT …/campaigns/{key}` takes one as it is)."""

    redpacket: dict[str, Json]
    stored_value: dict[str, Json]
    coupon: dict[str, Json]
    crowdfunding: dict[str, Json]


class LayerOut(Answer):
    depth: int
    invites: int
    valid: int
    invalid: int
    pending: int


class InviterOut(Answer):
    channel: str
    member: str
    valid: int
    invites: int


class EdgeOut(Answer):
    inviter: str
    invitee: str
    channel: str
    depth: int
    status: str = Field(description="held, waiting, valid or invalid.")
    reason: str | None


class ReferralsOut(Answer):
    campaign: str
    invites: int
    valid: int
    invalid: int
    pending: int
    participants: int
    depth: int
    k_factor: float | None
    layers: list[LayerOut]
    leaderboard: list[InviterOut]
    edges: list[EdgeOut]


class AssistOut(Answer):
    """A bargain, red-packet collection or vote entry."""

    campaign: str
    member: str
    kind: Literal["bargain", "redpacket", "vote"]
    start_fen: int
    target_fen: int
    progress_fen: int
    helpers: int
    helpers_needed: int
    status: Literal["open", "done"]


class HelpOut(AssistOut):
    amount_fen: int = Field(description="This help's cut, amount or vote.")


class RankOut(Answer):
    rank: int
    channel: str
    member: str
    votes: int


class WinnerOut(RankOut):
    staff_account: str | None


class ClaimOut(Answer):
    campaign: str
    member: str
    price_fen: int
    left: int = Field(description="Stock left.")


class DrawOut(Answer):
    draw: int
    prize: int | None = Field(description="Index of the prize drawn.")
    reward: Reward
    status: str = Field(description="The reward's status, or `nothing`.")
    left: int = Field(description="Chances left.")


class GroupBuyOut(Answer):
    campaign: str
    leader: str
    size: int
    joined: int
    invites: int
    price_fen: int
    status: Literal["open", "done", "robot", "failed"]
    deadline: Timestamp


class RewardOut(Answer):
    id: int
    key: str
    campaign: str | None
    channel: str
    member: str
    kind: RewardKind
    amount_fen: int
    points: int
    coupon: str | None
    identity: str | None
    cost_fen: int
    status: RewardStatus
    reason: str
    note: str | None
    subject: str | None
    rule: str
    caused_by: str | None
    fraud_score: int
    fraud_reasons: list[FraudSignal]
    created_at: Timestamp
    decided_at: Timestamp | None
    decided_by: str | None


class PaidOut(Answer):
    paid: int = Field(description="How many were marked paid.")


class AvatarOut(Answer):
    campaign: str
    channel: str
    member: str
    avatar_url: str | None


class AcceptedOut(Answer):
    accepted: int


class ReviewWindow(Answer):
    starts_at: Timestamp | None
    ends_at: Timestamp | None


class RewardTally(Answer):
    count: int
    cost_fen: int


class ReviewSourceCost(Answer):
    source: str
    cost_fen: int


class Retained(Answer):
    eligible: int
    retained: int
    rate: float | None


class RetentionOut(Answer):
    d1: Retained
    d7: Retained
    d30: Retained


class GoalOut(Answer):
    figure: Literal["new_members", "groups", "join_rate"]
    goal: Number | None
    forecast: Number | None
    actual: Number | None


class ReviewOut(Answer):
    """Every figure of a campaign's review."""

    campaign: str
    name: str
    model: str
    owner: str | None
    window: ReviewWindow
    codes: list[str]
    groups_made: int
    scans: int
    scanners: int
    joined: int
    join_rate: float | None
    participants: int
    posters: int
    shared: int
    forward_rate: float | None
    forward_pass_rate: float
    forward_pass: bool | None
    new_members: int
    net_new_members: int
    invites: int
    valid_invites: int
    invalid_invites: int
    pending_invites: int
    k_factor: float | None
    rewards: dict[str, RewardTally] = Field(description="Count and cost by reward status.")
    reward_cost_fen: int
    commission_cost_fen: int
    sources: list[ReviewSourceCost]
    source_cost_fen: int
    cost_fen: int
    cost_per_new_member_fen: int | None
    budget_fen: int | None
    budget_left_fen: int | None
    retention: RetentionOut
    goal_forecast_actual: list[GoalOut]
    warnings: list[str]
