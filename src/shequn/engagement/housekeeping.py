"""Everyday housekeeping rules: inactivity cleanup, group milestones, keyword replies,
nickname and self-introduction reminders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

from shequn.actions import ActionKind, Decision
from shequn.community.service import silent_memberships
from shequn.engagement.texts import say
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import Event, MemberJoinedData, MessagePostedData
from shequn.i18n import fill

CLEANUP_JOB = "engagement.cleanup"
CLEANUP_REMOVE_JOB = "engagement.cleanup_remove"
KEYWORD_COOLDOWN_JOB = "engagement.keyword_cooldown"
QUIET_JOB = "engagement.quiet"  # a pending job of this kind only holds its slot
INTRO_JOB = "engagement.intro_reminder"


def _next_local(ctx: Context, hour: int) -> datetime:
    """The next time the workspace's clock shows `hour`:00, strictly after now."""
    tz = ctx.workspace.tz
    local = ctx.now.astimezone(tz)
    candidate = datetime.combine(local.date(), time(hour), tz)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def _nickname(ctx: Context, channel: str, group: str, member: str) -> str:
    ms = ctx.state.membership(channel, group, member)
    return (ms.nickname if ms and ms.nickname else None) or member


# --- Inactivity cleanup ---------------------------------------------------------------------


@rule(
    "engagement", "cleanup_schedule", on=["member.joined", "message.posted"], once_per_channel=True
)
def schedule_cleanup(event: Event, ctx: Context) -> Iterable[Decision]:
    """Keep one daily cleanup run pending for the workspace while it has traffic."""
    cfg = ctx.config.cleanup
    if cfg.enabled and ctx.pending("cleanup:daily") is None:
        ctx.schedule(CLEANUP_JOB, "cleanup:daily", _next_local(ctx, cfg.run_at_hour), {})
    return ()


@job_handler("engagement", "cleanup", kind=CLEANUP_JOB)
def run_cleanup(job: Job, ctx: Context) -> Iterable[Decision]:
    """Warn members silent too long; a removal follows the grace period unless they speak."""
    cfg = ctx.config.cleanup
    if not cfg.enabled:
        return ()
    ctx.schedule(CLEANUP_JOB, "cleanup:daily", _next_local(ctx, cfg.run_at_hour), {})
    # The query reads the database: write out what this transaction has changed so far.
    ctx.state.flush()
    silent = silent_memberships(
        ctx.state.conn,
        ctx.workspace.id,
        before=ctx.now - timedelta(days=cfg.silent_days),
        joined_before=ctx.now - timedelta(days=cfg.newcomer_days),
        limit=cfg.batch_size * 4,
    )
    locale = ctx.workspace.locale
    decisions: list[Decision] = []
    for channel, group, member in silent:
        if len(decisions) >= cfg.batch_size:
            break
        slot = f"cleanup:warned:{channel}:{group}:{member}"
        if ctx.pending(slot) is not None or ctx.exempt(channel, group, member):
            continue
        if not ctx.settings(channel, group).cleanup.enabled:
            continue  # switched off for this group
        if cfg.spare_paying:
            found = ctx.state.member(channel, member)
            if found is not None and found.spent_fen > 0:
                continue
        ctx.schedule(
            CLEANUP_REMOVE_JOB,
            slot,
            ctx.now + timedelta(days=cfg.grace_days),
            {
                "channel": channel,
                "group": group,
                "member": member,
                "warned_at": ctx.now.isoformat(),
            },
        )
        nickname = _nickname(ctx, channel, group, member)
        decisions.append(
            Decision(
                ActionKind.MEMBER_WARN,
                say("cleanup.warn_reason", locale, days=cfg.silent_days),
                group=group,
                member=member,
                data={
                    "text": say("cleanup.warn", locale, nickname=nickname, days=cfg.grace_days),
                    "mentions": [member],
                },
                key=f"cleanup:warn:{channel}:{group}:{member}:{ctx.local_date().isoformat()}",
                channel=channel,
            )
        )
    return decisions


@job_handler("engagement", "cleanup", kind=CLEANUP_REMOVE_JOB)
def remove_if_still_silent(job: Job, ctx: Context) -> Iterable[Decision]:
    p: dict[str, Any] = job.payload
    channel, group, member = p["channel"], p["group"], p["member"]
    ms = ctx.state.membership(channel, group, member)
    warned_at = datetime.fromisoformat(p["warned_at"])
    if ms is None or not ms.active or (ms.last_spoke_at and ms.last_spoke_at > warned_at):
        return ()  # left already, or spoke up after the warning
    cfg = ctx.config.cleanup
    # The removal takes effect when the channel carries it out; until then, no new warning.
    ctx.schedule(QUIET_JOB, job.slot, ctx.now + timedelta(days=cfg.silent_days), {})
    return [
        Decision(
            ActionKind.MEMBER_REMOVE,
            say("cleanup.remove_reason", ctx.workspace.locale, days=cfg.silent_days),
            group=group,
            member=member,
            channel=channel,
        )
    ]


# --- Group milestones -------------------------------------------------------------------------


@rule("engagement", "milestones", on=["member.joined"])
def announce_milestone(event: Event, ctx: Context) -> Iterable[Decision]:
    cfg = ctx.settings(event.channel, event.group).milestones
    group = ctx.state.group(event.channel, event.group or "")
    if not cfg.enabled or group is None or group.member_count not in cfg.counts:
        return ()
    locale = ctx.workspace.locale
    text = fill(
        cfg.template or say("milestone", locale, count="{count}"),
        frozenset({"count", "group"}),
        count=group.member_count,
        group=group.name,
    )
    return [
        Decision(
            ActionKind.MESSAGE_SEND,
            say("milestone.reason", locale, count=group.member_count),
            group=group.ext_id,
            data={"text": text},
            # Once per size per group: leaving and re-joining never announces it again.
            key=f"milestone:{event.channel}:{group.ext_id}:{group.member_count}",
        )
    ]


# --- Keyword replies --------------------------------------------------------------------------


@rule(
    "engagement",
    "keywords",
    on=["message.posted"],
    when=lambda config: config.keywords.enabled and bool(config.keywords.replies),
)
def reply_to_keyword(event: Event, ctx: Context) -> Iterable[Decision]:
    cfg = ctx.settings(event.channel, event.group).keywords
    assert isinstance(event.data, MessagePostedData)
    text = event.data.text
    if not cfg.enabled or not cfg.replies or not text or event.group is None:
        return ()
    if ctx.config.roles.exempt(event.member or ""):
        return ()  # bots and staff do not trigger the robot
    for index, kw in enumerate(cfg.replies):
        if kw.groups and event.group not in kw.groups:
            continue
        if not kw.matches(text):
            continue
        slot = f"keyword:{event.channel}:{event.group}:{index}"
        if ctx.pending(slot) is not None:
            return ()  # cooling down in this group
        cooldown = kw.cooldown_seconds if kw.cooldown_seconds is not None else cfg.cooldown_seconds
        if cooldown:
            ctx.schedule(KEYWORD_COOLDOWN_JOB, slot, event.at + timedelta(seconds=cooldown), {})
        return [
            Decision(
                ActionKind.MESSAGE_SEND,
                say("keyword.reason", ctx.workspace.locale, keyword=kw.pattern),
                group=event.group,
                member=event.member,
                data={"text": kw.reply, "reply_to": event.data.message_id},
            )
        ]
    return ()


@job_handler("engagement", "keywords", kind=KEYWORD_COOLDOWN_JOB)
@job_handler("engagement", "cleanup", kind=QUIET_JOB)
def end_hold(job: Job, ctx: Context) -> Iterable[Decision]:
    return ()  # the pending job was the hold (a cooldown); finishing it ends it


# --- Nickname and self-introduction reminders -------------------------------------------------


@rule(
    "engagement",
    "intro",
    on=["member.joined", "message.posted"],
    when=lambda config: config.intro.enabled,
)
def track_introductions(event: Event, ctx: Context) -> Iterable[Decision]:
    cfg = ctx.settings(event.channel, event.group).intro
    if not cfg.enabled or event.group is None or event.member is None:
        return ()
    slot = f"intro:{event.channel}:{event.group}:{event.member}"
    if isinstance(event.data, MemberJoinedData):
        ctx.schedule(
            INTRO_JOB,
            slot,
            event.at + timedelta(hours=cfg.remind_after_hours),
            {"channel": event.channel, "group": event.group, "member": event.member},
        )
    elif isinstance(event.data, MessagePostedData):
        text = event.data.text or ""
        if any(k in text for k in cfg.intro_keywords) and _nickname_ok(ctx, event):
            ctx.cancel(slot)  # introduced, with a good nickname: no reminder
    return ()


def _nickname_ok(ctx: Context, event: Event) -> bool:
    import re

    pattern = ctx.settings(event.channel, event.group).intro.nickname_pattern
    if pattern is None:
        return True
    nickname = _nickname(ctx, event.channel, event.group or "", event.member or "")
    return re.fullmatch(pattern, nickname) is not None


@job_handler("engagement", "intro", kind=INTRO_JOB)
def remind_introduction(job: Job, ctx: Context) -> Iterable[Decision]:
    p = job.payload
    cfg = ctx.settings(p["channel"], p["group"]).intro
    ms = ctx.state.membership(p["channel"], p["group"], p["member"])
    if not cfg.enabled or ms is None or not ms.active:
        return ()
    locale = ctx.workspace.locale
    nickname = ms.nickname or p["member"]
    text = (
        say("intro.remind", locale, nickname=nickname, format=cfg.nickname_format)
        if cfg.nickname_format
        else say("intro.remind_intro_only", locale, nickname=nickname)
    )
    return [
        Decision(
            ActionKind.MESSAGE_SEND,
            say("intro.reason", locale, hours=cfg.remind_after_hours),
            group=p["group"],
            member=p["member"],
            data={"text": text, "mentions": [p["member"]]},
        )
    ]
