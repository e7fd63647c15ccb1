"""Engine rules of growth: scans, invites with their hold and validity checks, rewards of the
invite-driven fission models (invitation, mutual benefit, cards, group buy), leaves after a
reward, and poster shares."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from shequn.actions import Decision
from shequn.config import WorkspaceConfig
from shequn.config.growth import (
    CardAction,
    CardsCampaign,
    GroupBuyCampaign,
    InvitationCampaign,
    MutualCampaign,
    Reward,
)
from shequn.engagement.points import PointsBook
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import (
    CodeScannedData,
    Event,
    MemberJoinedData,
    MessagePostedData,
    PosterSharedData,
    RewardPaidData,
    RewardReversedData,
    RewardReviewedData,
)
from shequn.growth import fission, references  # noqa: F401 - registers the apply-time check
from shequn.growth.fraud import InviteFacts, Verdict, score, signals
from shequn.growth.maths import ladder_amount
from shequn.growth.referrals import ReferralBook, mark_shared
from shequn.growth.rewards import RewardBook, apply_paid, apply_reversal, apply_review, give
from shequn.growth.targeting import admitted
from shequn.growth.texts import say

HOLD_JOB = "growth.hold"
QUICK_LEAVE = timedelta(hours=1)
INVITE_DRIVEN = (InvitationCampaign, MutualCampaign, CardsCampaign, GroupBuyCampaign)


def _want(events: Sequence[Event], ctx: Context) -> None:
    """Name, for the whole batch, what invites will read: joiners, inviters, sharers and
    the invitees whose hold is pending; the referral book loads them in bulk, and the
    memberships of the open invites are loaded with them (a hold's end looks at its group).
    The rules of growth share this preload: it runs once per batch."""
    book = ctx.book(ReferralBook)
    joiners: set[tuple[str, str]] = set()
    others: set[tuple[str, str]] = set()
    for ev in events:
        if ev.member is None:
            continue
        if isinstance(ev.data, MemberJoinedData):
            joiners.add((ev.channel, ev.member))
            if ev.data.inviter:
                others.add((ev.channel, ev.data.inviter))
        elif ev.type == "poster.shared":
            others.add((ev.channel, ev.member))
    for job in ctx.jobs.pending_of_kind(HOLD_JOB):
        others.add((str(job.payload["channel"]), str(job.payload["invitee"])))
    if book.want(joiners, others):
        ctx.state.load((), (), book.open_invites())


@rule("growth", "scans", on=["code.scanned"])
def record_scan(event: Event, ctx: Context) -> Iterable[Decision]:
    """Keep every scan (live codes record their own first; imported scans land here)."""
    assert isinstance(event.data, CodeScannedData)
    ctx.book(ReferralBook).record_scan(
        {
            "workspace_id": ctx.workspace.id,
            "channel": event.channel,
            "event_ext": event.id,
            "code": event.data.code,
            "state": event.data.state,
            "scanner": event.data.scanner,
            "inviter": None,
            "group_ext": event.group,
            "network": None,
            "device": None,
            "at": event.at,
        }
    )
    return ()


def _active_campaign(ctx: Context, group: str | None, at: datetime) -> str | None:
    """The invite-driven campaign running in this group (the first by key if several)."""
    for key, spec in sorted(ctx.config.campaigns.items(), key=lambda kv: kv[0]):
        in_scope = not spec.groups or group in spec.groups
        if isinstance(spec, INVITE_DRIVEN) and spec.active(at) and in_scope:
            return str(key)
    return None


def _facts(ctx: Context, ref: dict[str, Any], at: datetime, nickname: str | None) -> InviteFacts:
    book = ctx.book(ReferralBook)
    channel, invitee, inviter = ref["channel"], ref["invitee"], ref["inviter"]
    siblings = [r for r in book.invitees_of(channel, inviter) if r["invitee"] != invitee]
    invitee_devices, invitee_networks = book.scan_marks(channel, [invitee])
    inviter_devices, inviter_networks = book.scan_marks(channel, [inviter])
    upline_devices, _ = book.scan_marks(
        channel, book.upline(channel, inviter) + [r["invitee"] for r in siblings]
    )
    judged = [r for r in siblings if r["status"] in ("valid", "invalid")]
    quick = [
        r
        for r in judged
        if r["left_at"] is not None and r["left_at"] - r["joined_at"] <= QUICK_LEAVE
    ]
    days = timedelta(days=ctx.config.growth.validity.leave_after_reward_days)
    after_reward = [
        r
        for r in siblings
        if r["validated_at"] is not None
        and r["left_at"] is not None
        and r["status"] == "valid"
        and r["left_at"] - r["validated_at"] <= days
    ]
    return InviteFacts(
        at=at,
        invitee_devices=frozenset(invitee_devices),
        invitee_networks=frozenset(invitee_networks),
        inviter_devices=frozenset(inviter_devices),
        inviter_networks=frozenset(inviter_networks),
        upline_devices=frozenset(upline_devices),
        recent_joins=[r["joined_at"] for r in siblings] + [ref["joined_at"]],
        nickname=nickname,
        sibling_nicknames=[r["nickname"] for r in siblings],
        siblings_left_quickly=len(quick),
        siblings_judged=len(judged),
        left_after_reward=len(after_reward),
    )


def _verdict(ctx: Context, ref: dict[str, Any]) -> Verdict:
    """The fraud verdict with what is known now; velocity is judged at the join itself."""
    cfg = ctx.config.growth.validity
    facts = _facts(ctx, ref, ref["joined_at"], ref["nickname"])
    found = signals(facts, cfg.burst_count, cfg.burst_minutes)
    return score(found, cfg.weights)


@rule("growth", "invites", on=["member.joined"], preload=_want)
def invite_joined(event: Event, ctx: Context) -> Iterable[Decision]:
    """A join with an inviter starts an invite: judged now for the plain checks, held for the
    rest (still in the group after the hold, the qualifying action)."""
    assert isinstance(event.data, MemberJoinedData) and event.member and event.group
    book = ctx.book(ReferralBook)
    channel, member = event.channel, event.member
    inviter, code = event.data.inviter, event.data.code
    if inviter is None:
        linked = book.scan_inviter(channel, member, event.at)
        if linked is not None:
            inviter, code = linked[0], code or linked[1]
    campaign = book.code_campaign(code) or _active_campaign(ctx, event.group, event.at)
    running = ctx.config.campaigns.get(campaign)
    if running is None or not running.active(event.at):
        campaign = None  # outside its window a code still attributes, but rewards nothing
    decisions: list[Decision] = []
    person = ctx.state.member(channel, member)
    ms = ctx.state.membership(channel, event.group, member)
    new = (
        person is not None
        and person.first_joined_at == event.at
        and ms is not None
        and ms.joins == 1
    )
    spec = ctx.config.campaigns.get(campaign)
    if isinstance(spec, CardsCampaign) and spec.active(event.at) and new:
        decisions += fission.drop_cards(ctx, campaign or "", spec, channel, member, "join", event)
    if inviter is None or book.get(channel, member) is not None:
        return decisions
    if not admitted(ctx, spec, channel, inviter):
        campaign = None  # a campaign for a segment takes no inviter from outside it
    status, reason = "held", None
    if inviter == member:
        status, reason = "invalid", "self"
    elif not new:
        status, reason = "invalid", "not_new"
    elif person is not None and person.blacklisted:
        status, reason = "invalid", "blacklisted"
    parent = book.get(channel, inviter)
    depth = parent["depth"] + 1 if parent is not None and parent["campaign"] == campaign else 1
    ref = book.add(
        channel=channel,
        invitee=member,
        inviter=inviter,
        campaign=campaign,
        group_ext=event.group,
        code=code,
        depth=depth,
        joined_at=event.at,
        nickname=event.data.nickname,
        status=status,
        reason=reason,
    )
    verdict = _verdict(ctx, ref)
    book.change(ref, fraud_score=verdict.score, fraud_reasons=list(verdict.reasons))
    if campaign is not None:
        book.participant(campaign, channel, inviter, event.at)
    if status == "held":
        hold = timedelta(hours=ctx.config.growth.validity.hold_hours)
        ctx.schedule(
            HOLD_JOB,
            slot=f"growth.hold:{channel}:{member}",
            due_at=event.at + hold,
            payload={"channel": channel, "invitee": member, "caused_by": event.id},
        )
    return decisions


def _qualified(ctx: Context, ref: dict[str, Any]) -> bool:
    need = ctx.config.growth.validity.qualify
    channel, invitee = ref["channel"], ref["invitee"]
    if need == "none":
        return True
    if need == "speak":
        person = ctx.state.member(channel, invitee)
        return person is not None and person.message_count > 0
    if need == "checkin":
        standing = ctx.book(PointsBook).standing(channel, invitee, "")
        return standing.checkins > 0
    return int(ref["orders"]) > 0


def _judge(ctx: Context, ref: dict[str, Any], caused_by: str | None) -> list[Decision]:
    """Decide a held invite: invalid, still waiting for its qualifying action, or valid."""
    book = ctx.book(ReferralBook)
    cfg = ctx.config.growth.validity
    ms = ctx.state.membership(ref["channel"], ref["group_ext"], ref["invitee"])
    if ms is None or not ms.active:
        book.change(ref, status="invalid", reason="left", left_at=ref["left_at"] or ctx.now)
        return []
    if not _qualified(ctx, ref):
        deadline = ref["joined_at"] + timedelta(hours=cfg.qualify_within_hours)
        if ctx.now < deadline:
            if ref["status"] != "waiting":
                book.change(ref, status="waiting")
                ctx.schedule(
                    HOLD_JOB,
                    slot=f"growth.qualify:{ref['channel']}:{ref['invitee']}",
                    due_at=deadline,
                    payload={
                        "channel": ref["channel"],
                        "invitee": ref["invitee"],
                        "caused_by": caused_by,
                    },
                )
            return []
        book.change(ref, status="invalid", reason="not_qualified")
        return []
    verdict = _verdict(ctx, ref)
    book.change(
        ref,
        status="valid",
        reason=None,
        validated_at=ctx.now,
        fraud_score=verdict.score,
        fraud_reasons=list(verdict.reasons),
    )
    return _reward_valid_invite(ctx, ref, verdict, caused_by)


@job_handler("growth", "hold", kind=HOLD_JOB)
def end_hold(job: Job, ctx: Context) -> Iterable[Decision]:
    ref = ctx.book(ReferralBook).get(job.payload["channel"], job.payload["invitee"])
    if ref is None or ref["status"] not in ("held", "waiting"):
        return ()
    return _judge(ctx, ref, job.payload.get("caused_by"))


def _money(kind: str, amount: int) -> Reward:
    if kind == "points":
        return Reward(kind="points", points=amount)
    return Reward(kind=kind, amount_fen=amount)


def _reward_valid_invite(
    ctx: Context, ref: dict[str, Any], verdict: Verdict, caused_by: str | None
) -> list[Decision]:
    campaign = ref["campaign"]
    spec = ctx.config.campaigns.get(campaign)
    if spec is None or campaign is None:
        return []
    book = ctx.book(ReferralBook)
    channel, inviter, invitee = ref["channel"], ref["inviter"], ref["invitee"]
    common: dict[str, Any] = {
        "campaign": campaign,
        "channel": channel,
        "group": ref["group_ext"],
        "subject": invitee,
        "caused_by": caused_by,
        "verdict": verdict,
    }
    out: list[Decision] = []
    if isinstance(spec, InvitationCampaign):
        out += _invitation(ctx, spec, ref, common)
    elif isinstance(spec, MutualCampaign):
        out += give(
            ctx,
            member=inviter,
            reward=spec.sharer_reward,
            reason="mutual_sharer",
            key=f"{campaign}:mutual:sharer:{channel}:{invitee}",
            **common,
        )
        out += give(
            ctx,
            member=invitee,
            reward=spec.helper_reward,
            reason="mutual_helper",
            key=f"{campaign}:mutual:helper:{channel}:{invitee}",
            **common,
        )
    elif isinstance(spec, CardsCampaign):
        out += fission.drop_cards(ctx, campaign, spec, channel, inviter, "invite", None, invitee)
    elif isinstance(spec, GroupBuyCampaign):
        fission.count_group_buy_invite(book.conn, ctx.workspace, campaign, spec, channel, inviter)
    return out


def _valid_count(ctx: Context, ref: dict[str, Any]) -> int:
    rows = ctx.book(ReferralBook).invitees_of(ref["channel"], ref["inviter"], ref["campaign"])
    return sum(1 for r in rows if r["status"] == "valid")


def _day_start(ctx: Context) -> datetime:
    local = ctx.now.astimezone(ctx.workspace.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _invitation(
    ctx: Context, spec: InvitationCampaign, ref: dict[str, Any], common: dict[str, Any]
) -> list[Decision]:
    campaign, channel = ref["campaign"], ref["channel"]
    inviter, invitee = ref["inviter"], ref["invitee"]
    cfg = ctx.config.growth.validity
    out: list[Decision] = []
    today = ctx.book(RewardBook).count_today(channel, inviter, "invite", _day_start(ctx))
    limited = today >= cfg.per_inviter_daily
    valid = _valid_count(ctx, ref)
    if spec.ladder:
        amount = ladder_amount(valid, [(s.min_invites, s.per_invite_fen) for s in spec.ladder])
        out += give(
            ctx,
            member=inviter,
            reward=_money(spec.reward_kind, amount),
            reason="invite",
            key=f"{campaign}:invite:{channel}:{invitee}",
            rate_limited=limited,
            **common,
        )
    out += _milestones(ctx, spec, ref, common)
    if spec.lottery_chances_per_invite:
        book = ctx.book(ReferralBook)
        row = book.participant(campaign, channel, inviter, ctx.now)
        book.set_participant(row, chances=int(row["chances"]) + spec.lottery_chances_per_invite)
    if spec.task is not None and valid >= spec.task.invites:
        out += give(
            ctx,
            member=inviter,
            reward=spec.task.reward,
            reason="task",
            key=f"{campaign}:task:{channel}:{inviter}",
            **{**common, "subject": inviter},
        )
    return out


_MILESTONE_ORDERS = {"joined": 0, "first_order": 1, "repurchase": 2}


def _milestones(
    ctx: Context, spec: InvitationCampaign, ref: dict[str, Any], common: dict[str, Any]
) -> list[Decision]:
    """The reward split over the invitee's milestones: each paid once it is reached."""
    out: list[Decision] = []
    for step in spec.milestones:
        if int(ref["orders"]) >= _MILESTONE_ORDERS[step.on]:
            out += give(
                ctx,
                member=ref["inviter"],
                reward=_money(spec.reward_kind, step.amount_fen),
                reason=f"milestone_{step.on}",
                key=f"{ref['campaign']}:milestone:{step.on}:{ref['channel']}:{ref['invitee']}",
                **common,
            )
    return out


@rule("growth", "qualify", on=["message.posted", "order.paid"], preload=_want)
def qualifying_action(event: Event, ctx: Context) -> Iterable[Decision]:
    """Orders count toward milestones; a waiting invite is judged as soon as it qualifies."""
    if event.member is None:
        return ()
    book = ctx.book(ReferralBook)
    ref = book.get(event.channel, event.member)
    if ref is None:
        return ()
    out: list[Decision] = []
    if event.type == "order.paid":
        book.change(ref, orders=int(ref["orders"]) + 1)
        spec = ctx.config.campaigns.get(ref["campaign"])
        if ref["status"] == "valid" and isinstance(spec, InvitationCampaign):
            common = {
                "campaign": ref["campaign"],
                "channel": ref["channel"],
                "group": ref["group_ext"],
                "subject": ref["invitee"],
                "caused_by": event.id,
                "verdict": Verdict(int(ref["fraud_score"]), tuple(ref["fraud_reasons"])),
            }
            out += _milestones(ctx, spec, ref, common)
    if ref["status"] == "waiting" and _qualified(ctx, ref):
        out += _judge(ctx, ref, event.id)
    return out


@rule("growth", "leaves", on=["member.left"])
def invitee_left(event: Event, ctx: Context) -> Iterable[Decision]:
    """Leaving during the hold voids the invite; leaving right after a reward reverses what
    is not yet paid, and counts against the inviter's later invites."""
    assert event.member is not None
    book = ctx.book(ReferralBook)
    ref = book.get(event.channel, event.member)
    if ref is None or ref["group_ext"] != event.group:
        return ()
    if ref["status"] in ("held", "waiting"):
        book.change(ref, status="invalid", reason="left", left_at=event.at)
        return ()
    if ref["status"] != "valid" or ref["left_at"] is not None:
        return ()
    book.change(ref, left_at=event.at)
    days = ctx.config.growth.validity.leave_after_reward_days
    if ref["validated_at"] is None or event.at - ref["validated_at"] > timedelta(days=days):
        return ()
    rewards = ctx.book(RewardBook)
    note = say("reward.reversed_left", ctx.workspace.locale, days=days)
    points = ctx.book(PointsBook)
    for row in rewards.for_subject(ref["campaign"], ref["invitee"]):
        rewards.reverse(ctx.workspace, row, note, event.at, points, caused_by=event.id)
    return ()


@rule("growth", "shares", on=["poster.shared"], preload=_want)
def poster_shared(event: Event, ctx: Context) -> Iterable[Decision]:
    assert isinstance(event.data, PosterSharedData) and event.member is not None
    campaign = event.data.campaign
    mark_shared(ctx.book(ReferralBook), campaign, event.channel, event.member, event.at)
    spec = ctx.config.campaigns.get(campaign)
    if isinstance(spec, CardsCampaign) and spec.active(event.at):
        return fission.drop_cards(ctx, campaign, spec, event.channel, event.member, "share", event)
    return ()


def _runs_cards(config: WorkspaceConfig) -> bool:
    # Campaigns are a workspace section: a group's configuration holds the workspace's.
    return any(isinstance(spec, CardsCampaign) for _, spec in config.campaigns.items())


@rule("growth", "card_actions", on=["message.posted", "order.paid"], when=_runs_cards)
def card_actions(event: Event, ctx: Context) -> Iterable[Decision]:
    """Check-ins and orders drop cards in running card-collection campaigns."""
    if event.member is None:
        return ()
    action: CardAction
    if event.type == "message.posted":
        assert isinstance(event.data, MessagePostedData)
        if not ctx.config.checkin.is_checkin(event.data.text):
            return ()
        action = "checkin"
    else:
        action = "order"
    out: list[Decision] = []
    for key, spec in sorted(ctx.config.campaigns.items(), key=lambda kv: kv[0]):
        if isinstance(spec, CardsCampaign) and spec.active(event.at):
            if spec.groups and event.group not in spec.groups:
                continue
            out += fission.drop_cards(ctx, key, spec, event.channel, event.member, action, event)
    return out


# --- Staff decisions on rewards, as events -------------------------------------------------


@rule("growth", "review", on=["reward.reviewed"])
def reward_reviewed(event: Event, ctx: Context) -> Iterable[Decision]:
    """Staff approved or rejected a reward waiting for review."""
    data = event.data
    assert isinstance(data, RewardReviewedData)
    return apply_review(ctx, data.reward, approve=data.approve, by=data.by, note=data.note)


@rule("growth", "reverse", on=["reward.reversed"])
def reward_reversed(event: Event, ctx: Context) -> Iterable[Decision]:
    """Staff reversed an issued or in-review reward."""
    data = event.data
    assert isinstance(data, RewardReversedData)
    apply_reversal(ctx, data.reward, by=data.by, note=data.note)
    return ()


@rule("growth", "paid", on=["reward.paid"])
def reward_paid(event: Event, ctx: Context) -> Iterable[Decision]:
    """Staff paid out a cash or red-packet reward (outside Shequn)."""
    data = event.data
    assert isinstance(data, RewardPaidData)
    apply_paid(ctx, data.reward, by=data.by)
    return ()
