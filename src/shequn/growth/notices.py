"""Telling members of their rewards: one message per issued reward, @mentioning the member in
the group where the campaign reached them, saying what they got and how to claim a liability.

Every path that issues a reward (rules, staff approval, the fission operations) asks this
module, so the decision is made in one place. The message's idempotency key comes from the
reward's key: replays and re-runs never send it twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import and_, select

from shequn.actions import ActionKind, Decision
from shequn.community.workspace import WorkspaceInfo
from shequn.config.growth import AnyCampaign, Reward
from shequn.engagement.activities import yuan
from shequn.engine.state import BatchState
from shequn.growth.models import live_code_groups, live_codes
from shequn.growth.referrals import ReferralBook
from shequn.growth.texts import say

if TYPE_CHECKING:
    from shequn.growth.rewards import Issued

LIABILITIES = ("cash", "redpacket")
"""Rewards paid out by staff: the message says how to claim them."""


def notice_key(reward_key: str) -> str:
    return f"growth.reward_notice:{reward_key}"


def reward_notice(
    ws: WorkspaceInfo,
    state: BatchState,
    referrals: ReferralBook,
    issued: Issued,
    *,
    subject: str | None = None,
    hint: str | None = None,
) -> Decision | None:
    """The message telling a member of an issued reward, or None when the campaign keeps
    quiet or the member is in none of the groups the campaign reached them in."""
    spec = ws.config.campaigns.get(issued.campaign)
    if spec is not None and not spec.notify_rewards:
        return None
    channel, member = issued.channel, issued.member
    group = next(
        (
            g
            for g in _candidate_groups(ws, state, referrals, spec, issued, subject, hint)
            if _inside(state, channel, g, member)
        ),
        None,
    )
    if group is None:
        return None
    locale = ws.locale
    ms = state.membership(channel, group, member)
    person = state.member(channel, member)
    nickname = (ms.nickname if ms else None) or (person.nickname if person else None) or member
    text = say(
        "reward.notice",
        locale,
        nickname=nickname,
        campaign=spec.name if spec is not None else issued.campaign or "",
        what=describe(ws, issued.reward),
        claim=_claim(locale, issued.reward, spec),
    ).strip()
    return Decision(
        ActionKind.MESSAGE_SEND,
        say("reward.notice_reason", locale),
        group=group,
        member=member,
        channel=channel,
        data={"text": text, "mentions": [member], "reward": issued.id},
        key=notice_key(issued.key),
    )


def describe(ws: WorkspaceInfo, reward: Reward) -> str:
    """What a reward is, in the words of the workspace's language."""
    locale = ws.locale
    if reward.kind == "points":
        return say("reward.what.points", locale, points=reward.points)
    if reward.kind == "coupon":
        template = ws.config.coupons.templates.get(reward.coupon or "")
        name = template.name if template is not None else reward.coupon
        return say("reward.what.coupon", locale, name=name)
    if reward.kind == "identity":
        return say("reward.what.identity", locale, identity=reward.identity or "")
    return say(f"reward.what.{reward.kind}", locale, yuan=yuan(reward.amount_fen))


def _claim(locale: str, reward: Reward, spec: AnyCampaign | None) -> str:
    if reward.kind not in LIABILITIES:
        return ""
    if spec is not None and spec.staff_account:
        return say("reward.claim.staff", locale, staff=spec.staff_account)
    return say("reward.claim.wait", locale)


def _inside(state: BatchState, channel: str, group: str, member: str) -> bool:
    ms = state.membership(channel, group, member)
    return ms is not None and ms.active


def _candidate_groups(
    ws: WorkspaceInfo,
    state: BatchState,
    referrals: ReferralBook,
    spec: AnyCampaign | None,
    issued: Issued,
    subject: str | None,
    hint: str | None,
) -> Iterator[str]:
    """Where the campaign reached the member, nearest first: the group of the act rewarded,
    the group the invite being rewarded joined, the group the member was invited into, the
    pool groups of the campaign's live codes, its groups; and, for a campaign that runs
    everywhere, the member's first group."""
    channel = issued.channel
    if hint:
        yield hint
    for invitee in (subject, issued.member):
        ref = referrals.get(channel, invitee) if invitee else None
        if ref is not None and ref["group_ext"] and ref["campaign"] == issued.campaign:
            yield str(ref["group_ext"])
    if issued.campaign is not None:
        c, g = live_codes, live_code_groups
        pools = referrals.conn.execute(
            select(g.c.group_ext)
            .select_from(g.join(c, c.c.id == g.c.code_id))
            .where(
                and_(
                    c.c.workspace_id == ws.id,
                    c.c.channel == channel,
                    c.c.campaign == issued.campaign,
                )
            )
            .order_by(c.c.id, g.c.position)
        ).scalars()
        yield from [str(x) for x in pools]
    if spec is not None:
        yield from spec.groups
    if spec is None or not spec.groups:
        person = state.member(channel, issued.member)
        if person is not None and person.first_group:
            yield person.first_group
