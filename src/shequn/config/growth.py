"""Configuration of growth: live-code and validity defaults, posters, and the campaigns with
their fission models (sections `growth` and `campaigns` of the workspace YAML)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, ConfigDict, Field, RootModel, model_validator

from shequn.config.base import Section

Fen = Annotated[int, Field(ge=0, le=10**11)]
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


def feasible(total: int, steps: int, first_share: float) -> bool:
    """Can `total` be split into `steps` positive steps with the first ≥ the share?"""
    return steps >= 1 and total - (steps - 1) >= max(math.ceil(first_share * total), 1)


class LiveCodeDefaults(Section):
    admissions_per_group: int = Field(
        default=200, ge=1, le=100_000, description="Scans sent to one group (a group code's cap)."
    )
    group_capacity: int = Field(default=500, ge=1, le=100_000, description="Members per group.")
    rate_per_minute: int = Field(
        default=60, ge=1, le=100_000, description="Scans one client may make per minute."
    )
    new_groups_per_hour: int = Field(
        default=5,
        ge=1,
        le=1_000,
        description="Groups one live code may make in an hour; beyond, scans wait and staff "
        "are told (anonymous scans must not grow a pool without limit).",
    )


FraudSignal = Literal[
    "same_device", "same_network", "burst", "ring", "instant_leavers", "look_alike", "left_early"
]


def _default_weights() -> dict[FraudSignal, int]:
    return {
        "same_device": 60,
        "same_network": 30,
        "burst": 30,
        "ring": 60,
        "instant_leavers": 30,
        "look_alike": 30,
        "left_early": 30,
    }


class ValiditySection(Section):
    """When an invitee counts, and which rewards wait for staff review."""

    hold_hours: float = Field(
        default=24, ge=0, le=24 * 90, description="The invitee must still be in after this."
    )
    qualify: Literal["none", "speak", "checkin", "order"] = Field(
        default="none", description="A qualifying action the invitee must also take."
    )
    qualify_within_hours: float = Field(
        default=72, ge=0, le=24 * 90, description="Time after the join to take it."
    )
    per_inviter_daily: int = Field(
        default=20, ge=1, le=100_000, description="Rewarded invites per inviter per day."
    )
    burst_count: int = Field(default=10, ge=2, le=100_000)
    burst_minutes: int = Field(
        default=10, ge=1, le=24 * 60, description="burst_count joins from one inviter within it."
    )
    leave_after_reward_days: int = Field(default=7, ge=0, le=365)
    refund_window_days: int = Field(
        default=7,
        ge=0,
        le=365,
        description="A reward tied to an order fully refunded within this many days of its "
        "payment is reversed.",
    )
    review_score: int = Field(
        default=50, ge=1, le=1000, description="Fraud score from which a reward waits for review."
    )
    weights: dict[FraudSignal, int] = Field(default_factory=_default_weights)


class PosterSection(Section):
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        max_length=300,
        description="Public address the posters' QR codes point at.",
    )
    font: str | None = Field(default=None, max_length=500, description="A CJK font file.")
    width: int = Field(default=750, ge=200, le=3000)
    height: int = Field(default=1334, ge=200, le=5000)
    background: str = Field(default="#F6E7C8", max_length=20)
    background_image: str | None = Field(default=None, max_length=500)
    forward_pass_rate: float = Field(default=0.5, ge=0, le=1, description="转发率 pass line.")


class GrowthSection(Section):
    live_codes: LiveCodeDefaults = Field(default_factory=LiveCodeDefaults)
    validity: ValiditySection = Field(default_factory=ValiditySection)
    posters: PosterSection = Field(default_factory=PosterSection)


# --- Campaigns ---------------------------------------------------------------------------------


class Reward(Section):
    """What a participant gets. Cash and red packets are liabilities; Shequn moves no money."""

    kind: Literal["cash", "redpacket", "discount", "points", "coupon", "identity", "none"] = "cash"
    amount_fen: Fen = 0
    points: int = Field(default=0, ge=0, le=10**7)
    coupon: Key | None = None
    identity: str | None = Field(default=None, max_length=64)
    value_fen: Fen | None = Field(
        default=None, description="What it is worth to the participant (for coupons, identity)."
    )

    @property
    def cost_fen(self) -> int:
        """What it costs the budget."""
        if self.kind in ("cash", "redpacket", "discount"):
            return self.amount_fen
        return self.value_fen or 0


class Goal(Section):
    new_members: int | None = Field(default=None, ge=0)
    groups: int | None = Field(default=None, ge=0)
    join_rate: float | None = Field(default=None, ge=0, le=1)


Ask = Literal["phone", "address", "wechat", "id_card", "bank_card", "face"]


class ParticipantCost(Section):
    """What taking part costs the participant: time, money and trust."""

    minutes: int = Field(default=1, ge=0, le=10_000)
    money_fen: Fen = 0
    asks: list[Ask] = Field(default_factory=list, description="Personal data asked for.")


class CampaignBase(Section):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    owner: str | None = Field(default=None, max_length=100)
    goal: Goal = Field(default_factory=Goal)
    forecast: Goal = Field(default_factory=Goal)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    budget_fen: Fen | None = Field(default=None, description="Reward budget cap.")
    codes: list[Key] = Field(default_factory=list, description="Live codes of the campaign.")
    groups: list[str] = Field(default_factory=list, description="Groups (default: any).")
    participant_cost: ParticipantCost = Field(default_factory=ParticipantCost)
    copy_text: str = Field(default="", max_length=200, description="Poster copy.")
    staff_account: str | None = Field(
        default=None, max_length=128, description="Whom winners add to claim cash and prizes."
    )
    notify_rewards: bool = Field(
        default=True, description="Tell members of their rewards in the group (@mention)."
    )
    preset: str | None = Field(default=None, max_length=32, description="The preset it came from.")
    segment: str | int | None = Field(
        default=None,
        description="A CRM segment (name or id): only its members take part and are rewarded, "
        "judged at the time of each act.",
    )

    @model_validator(mode="after")
    def _window(self) -> CampaignBase:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def active(self, at: datetime) -> bool:
        return (self.starts_at is None or at >= self.starts_at) and (
            self.ends_at is None or at < self.ends_at
        )


class Milestone(Section):
    on: Literal["joined", "first_order", "repurchase"]
    amount_fen: Fen


class Step(Section):
    min_invites: int = Field(ge=1)
    per_invite_fen: Fen


class Task(Section):
    invites: int = Field(ge=1, le=10_000)
    reward: Reward


class LotteryPrize(Section):
    weight: float = Field(gt=0)
    reward: Reward = Field(default_factory=lambda: Reward(kind="none"))


class InvitationCampaign(CampaignBase):
    """邀请: milestone split, ladder, lottery chances and task mode (任务宝), in any mix."""

    model: Literal["invitation"]
    reward_kind: Literal["cash", "redpacket", "points"] = "cash"
    milestones: list[Milestone] = Field(default_factory=list)
    ladder: list[Step] = Field(default_factory=list, description="By valid invites so far.")
    lottery_chances_per_invite: int = Field(default=0, ge=0, le=100)
    lottery: list[LotteryPrize] = Field(default_factory=list, description="Draw weights.")
    task: Task | None = None

    @model_validator(mode="after")
    def _ladder_rises(self) -> InvitationCampaign:
        mins = [s.min_invites for s in self.ladder]
        if mins != sorted(set(mins)) or (mins and mins[0] != 1):
            raise ValueError("ladder steps must start at 1 and rise strictly")
        return self


class BargainCampaign(CampaignBase):
    """砍价: the first cut takes ≥ first_share of the gap; exactly N helpers reach the target."""

    model: Literal["bargain"]
    price_fen: Fen
    target_fen: Fen = 0
    helpers: int = Field(default=5, ge=1, le=1000)
    first_share: float = Field(default=0.9, ge=0.5, lt=1)

    @model_validator(mode="after")
    def _gap(self) -> BargainCampaign:
        if not feasible(self.price_fen - self.target_fen, self.helpers, self.first_share):
            raise ValueError(
                "the gap between price and target is too small for this many helpers "
                "with that first cut"
            )
        return self


class RedPacketCampaign(CampaignBase):
    """收红包: the first help reaches ≥ first_share of the target; N helpers reach it."""

    model: Literal["redpacket"]
    targets_fen: list[Fen] = Field(default_factory=lambda: [1000, 10000, 30000], min_length=1)
    helpers: int = Field(default=10, ge=1, le=1000)
    first_share: float = Field(default=0.9, ge=0.5, lt=1)

    @model_validator(mode="after")
    def _targets(self) -> RedPacketCampaign:
        if not all(feasible(t, self.helpers, self.first_share) for t in self.targets_fen):
            raise ValueError("a target is too small for this many helpers with that first help")
        return self


class Prize(Section):
    up_to_rank: int = Field(ge=1)
    reward: Reward


class VoteCampaign(CampaignBase):
    """点赞/投票: ranking by votes; prizes are claimed by adding the staff account."""

    model: Literal["vote"]
    prizes: list[Prize] = Field(default_factory=list)
    votes_per_voter: int = Field(default=1, ge=1, le=100)


class Card(Section):
    name: str = Field(min_length=1, max_length=32)
    weight: float = Field(gt=0, description="Rarity: higher drops more often.")


CardAction = Literal["join", "invite", "checkin", "order", "share"]


def _default_drops() -> dict[CardAction, int]:
    return {"join": 1, "invite": 1, "order": 1, "share": 1}


class CardsCampaign(CampaignBase):
    """集卡: cards dropped by actions with rarity weights; a full set unlocks the reward."""

    model: Literal["cards"]
    cards: list[Card] = Field(min_length=2)
    drops: dict[CardAction, int] = Field(default_factory=_default_drops)
    new_user_multiplier: int = Field(default=2, ge=1, le=10)
    reward: Reward = Field(default_factory=Reward)


class MutualCampaign(CampaignBase):
    """互利: the sharer and the helper are both rewarded."""

    model: Literal["mutual"]
    sharer_reward: Reward
    helper_reward: Reward


class FlashSaleCampaign(CampaignBase):
    """一元秒杀 and 免费领: a price (0 for a free gift) while stock lasts."""

    model: Literal["flash_sale", "free_gift"]
    price_fen: Fen = 100
    original_fen: Fen = 0
    stock: int = Field(ge=0, le=10**7)
    per_member: int = Field(default=1, ge=1, le=100)
    invites_needed: int = Field(default=0, ge=0, le=1000)


class Threshold(Section):
    invites: int = Field(ge=1)
    price_fen: Fen


class GroupBuyCampaign(CampaignBase):
    """拼团: 2…N people within a time limit; invite thresholds lower the price; a group still
    short at the deadline can be completed by a robot member instead of refunded."""

    model: Literal["group_buy"]
    size: int = Field(default=3, ge=2, le=1000)
    price_fen: Fen
    thresholds: list[Threshold] = Field(default_factory=list)
    time_limit_hours: float = Field(default=24, gt=0, le=24 * 30)
    robot_completion: bool = False
    robot_member: str = Field(default="robot", max_length=128)


class DistributionCampaign(CampaignBase):
    """分销: commissions on referred sales (rates and tiers in the `distribution` section)."""

    model: Literal["distribution"]


Campaign = Annotated[
    Union[  # noqa: UP007 - a discriminated union reads best spelled out
        InvitationCampaign,
        BargainCampaign,
        RedPacketCampaign,
        VoteCampaign,
        CardsCampaign,
        MutualCampaign,
        FlashSaleCampaign,
        GroupBuyCampaign,
        DistributionCampaign,
    ],
    Field(discriminator="model"),
]
AnyCampaign = (
    InvitationCampaign
    | BargainCampaign
    | RedPacketCampaign
    | VoteCampaign
    | CardsCampaign
    | MutualCampaign
    | FlashSaleCampaign
    | GroupBuyCampaign
    | DistributionCampaign
)


class CampaignsSection(RootModel[dict[Key, Campaign]]):
    """Campaigns by key (section `campaigns`)."""

    model_config = ConfigDict(frozen=True)
    root: dict[Key, Campaign] = Field(default_factory=dict)

    def get(self, key: str | None) -> AnyCampaign | None:
        """The campaign of that key; None for no key or an unknown one."""
        if key is None:
            return None
        found: AnyCampaign | None = self.root.get(key)
        return found

    def items(self) -> list[tuple[str, AnyCampaign]]:
        return list(self.root.items())
