"""Engine rules of the engagement domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from shequn.actions import ActionKind, Decision
from shequn.config.engagement import (
    CHECKIN_VARIABLES,
    LEVEL_VARIABLES,
    WELCOME_VARIABLES,
    CheckinSection,
)
from shequn.engagement.points import Change, PointsBook, affordable, spend_key
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import Event, MemberJoinedData, MessagePostedData, PointsSpentData
from shequn.i18n import fill, t, template

WELCOME_JOB = "engagement.welcome"


def _merge_newcomers(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    seen = {m["member"] for m in old["newcomers"]}
    merged["newcomers"] = old["newcomers"] + [
        m for m in new["newcomers"] if m["member"] not in seen
    ]
    return merged


@rule("engagement", "welcome", on=["member.joined"])
def welcome_newcomer(event: Event, ctx: Context) -> Iterable[Decision]:
    """Collect newcomers; one welcome per group per window mentions them all."""
    cfg = ctx.settings(event.channel, event.group).welcome
    if not cfg.enabled:
        return ()
    assert isinstance(event.data, MemberJoinedData) and event.group and event.member
    ctx.schedule(
        WELCOME_JOB,
        slot=f"welcome:{event.channel}:{event.group}",
        due_at=event.at + timedelta(seconds=cfg.window_seconds),
        payload={
            "channel": event.channel,
            "group": event.group,
            "caused_by": event.id,
            "newcomers": [{"member": event.member, "nickname": event.data.nickname}],
        },
        merge=_merge_newcomers,
    )
    return ()


@job_handler("engagement", "welcome", kind=WELCOME_JOB)
def send_welcome(job: Job, ctx: Context) -> Iterable[Decision]:
    payload = job.payload
    channel, group_id = payload["channel"], payload["group"]
    group = ctx.state.group(channel, group_id)
    present = [
        m
        for m in payload["newcomers"]
        if (ms := ctx.state.membership(channel, group_id, m["member"])) is not None and ms.active
    ]
    if group is None or group.status == "dismissed" or not present:
        return ()
    locale = ctx.workspace.locale
    settings = ctx.settings(channel, group_id)
    text_template = settings.welcome.template or template("welcome.default", locale)
    mentions = " ".join(f"@{m['nickname']}" for m in present)
    text = fill(
        text_template,
        WELCOME_VARIABLES,
        mentions=mentions,
        nickname=present[0]["nickname"],
        group=group.name,
        rules=group.notice or _blueprint_rules(ctx, group_id, group.blueprint),
    ).strip()
    return [
        Decision(
            kind=ActionKind.MESSAGE_SEND,
            group=group_id,
            reason=t("welcome.reason", locale, count=len(present)),
            data={"text": text, "mentions": [m["member"] for m in present]},
            key=f"engagement.welcome:{channel}:{group_id}:{job.key}",
        )
    ]


def _blueprint_rules(ctx: Context, group: str, blueprint: str | None) -> str:
    override = ctx.config.groups.overrides.get(group)
    name = (override.blueprint if override else None) or blueprint
    plan = ctx.config.blueprints.get(name) if name else None
    return str(plan.rules.text()) if plan is not None else ""


# --- Check-in, points and levels -------------------------------------------------------------


def _nickname(ctx: Context, event: Event) -> str:
    assert event.group is not None and event.member is not None
    ms = ctx.state.membership(event.channel, event.group, event.member)
    return (ms.nickname if ms and ms.nickname else None) or event.member


def _level_up(ctx: Context, event: Event, change: Change | None) -> list[Decision]:
    cfg = ctx.config.levels
    if change is None or not change.levelled_up or not cfg.enabled or not cfg.announce:
        return []
    locale = ctx.workspace.locale
    standing = ctx.book(PointsBook).standing(event.channel, event.member or "", "")
    nickname = _nickname(ctx, event)
    text = fill(
        cfg.template or template("levels.up", locale),
        LEVEL_VARIABLES,
        nickname=nickname,
        level=change.new_level,
        earned=standing.earned,
    )
    return [
        Decision(
            kind=ActionKind.MESSAGE_SEND,
            group=event.group,
            member=event.member,
            reason=t("levels.reason", locale, level=change.new_level),
            data={"text": text, "mentions": [event.member]},
            key=f"engagement.levels:{event.channel}:{event.member}:{change.new_level}",
        )
    ]


@rule("engagement", "checkin", on=["message.posted"])
def check_in(event: Event, ctx: Context) -> Iterable[Decision]:
    """签到/打卡 once per member per local day: points, streak bonus and a reply."""
    cfg = ctx.settings(event.channel, event.group).checkin
    assert isinstance(event.data, MessagePostedData)
    if not cfg.enabled or not cfg.is_checkin(event.data.text):
        return ()
    assert event.group is not None and event.member is not None
    levels = ctx.config.levels
    book = ctx.book(PointsBook)
    standing = book.standing(event.channel, event.member, levels.level_for(0))
    day = ctx.local_date()
    if standing.last_checkin_day == day:
        return ()  # a second check-in the same day earns nothing
    streak = (
        standing.streak + 1
        if standing.last_checkin_day is not None and (day - standing.last_checkin_day).days == 1
        else 1
    )
    points = cfg.points + sum(bonus for n, bonus in cfg.streak_bonus.items() if streak % n == 0)
    book.check_in(standing, day, event.group, event.at, points, event.id)
    locale = ctx.workspace.locale
    change = book.post(
        standing,
        delta=points,
        kind="checkin",
        key=f"checkin:{event.channel}:{event.member}:{day.isoformat()}",
        reason=t("checkin.reason", locale, streak=streak),
        rule="engagement.checkin",
        at=event.at,
        level_for=levels.level_for,
        caused_by=event.id,
        group=event.group,
    )
    decisions: list[Decision] = _challenges(ctx, event, cfg, book, standing, day)
    if cfg.reply:
        text = fill(
            cfg.reply_template or template("checkin.reply", locale),
            CHECKIN_VARIABLES,
            nickname=_nickname(ctx, event),
            streak=streak,
            points=points,
            balance=standing.balance,
            day=day.isoformat(),
        )
        decisions.append(
            Decision(
                kind=ActionKind.MESSAGE_SEND,
                group=event.group,
                member=event.member,
                reason=t("checkin.reason", locale, streak=streak),
                data={"text": text, "mentions": [event.member], "reply_to": event.data.message_id},
            )
        )
    return decisions + _level_up(ctx, event, change)


def _challenges(
    ctx: Context, event: Event, cfg: CheckinSection, book: PointsBook, standing: Any, day: Any
) -> list[Decision]:
    """Challenges this check-in completes: points, a message, and a task for staff."""
    decisions: list[Decision] = []
    assert event.member is not None
    locale = ctx.workspace.locale
    levels = ctx.config.levels
    for challenge in cfg.challenges:
        since = day - timedelta(days=challenge.within_days - 1)
        if book.checkins_since(event.channel, event.member, since) < challenge.checkins:
            continue
        key = f"challenge:{challenge.name}:{event.channel}:{event.member}"
        change = book.post(
            standing,
            delta=challenge.reward_points,
            kind="challenge",
            key=key,
            reason=t("challenge.reason", locale, name=challenge.name),
            rule="engagement.checkin",
            at=event.at,
            level_for=levels.level_for,
            caused_by=event.id,
            group=event.group,
        )
        if change is None and challenge.reward_points:
            continue  # completed before: one reward per member per challenge
        nickname = _nickname(ctx, event)
        decisions.append(
            Decision(
                ActionKind.MESSAGE_SEND,
                t("challenge.reason", locale, name=challenge.name),
                group=event.group,
                member=event.member,
                data={
                    "text": t("challenge.done", locale, nickname=nickname, name=challenge.name,
                              points=challenge.reward_points),
                    "mentions": [event.member],
                },
                key=f"{key}:message",
            )
        )  # fmt: skip
        if challenge.staff_task:
            decisions.append(
                Decision(
                    ActionKind.STAFF_TASK,
                    t("challenge.task", locale, member=event.member, name=challenge.name,
                      task=challenge.staff_task),
                    group=event.group,
                    member=event.member,
                    key=f"{key}:task",
                )
            )  # fmt: skip
    return decisions


@rule("engagement", "message_points", on=["message.posted"])
def points_for_speaking(event: Event, ctx: Context) -> Iterable[Decision]:
    """Points per message, up to a daily cap in the workspace's time zone."""
    cfg = ctx.config.points
    if cfg.per_message <= 0 or cfg.message_daily_cap <= 0:
        return ()
    assert event.member is not None
    levels = ctx.config.levels
    book = ctx.book(PointsBook)
    standing = book.standing(event.channel, event.member, levels.level_for(0))
    book.roll_day(standing, ctx.local_date())
    room = cfg.message_daily_cap - standing.message_points_today
    if room <= 0:
        return ()
    delta = min(cfg.per_message, room)
    standing.message_points_today += delta
    change = book.post(
        standing,
        delta=delta,
        kind="message",
        key=f"message:{event.channel}:{event.id}",
        reason=t("points.message_reason", ctx.workspace.locale),
        rule="engagement.message_points",
        at=event.at,
        level_for=levels.level_for,
        caused_by=event.id,
        group=event.group,
    )
    return _level_up(ctx, event, change)


@rule("engagement", "spend", on=["points.spent"])
def spend_points(event: Event, ctx: Context) -> Iterable[Decision]:
    """Staff spent a member's points (a redemption): one ledger entry per key. When a replay
    finds too few points (another configuration is being backtested), nothing is spent."""
    data = event.data
    assert isinstance(data, PointsSpentData) and event.member is not None
    book = ctx.book(PointsBook)
    key = spend_key(data.key)
    if book.entry_delta(key) is not None:
        return ()
    levels = ctx.config.levels
    standing = book.standing(event.channel, event.member, levels.level_for(0))
    if not affordable(standing.balance, data.amount, ctx.config.points.allow_negative):
        return ()
    book.post(
        standing,
        delta=-data.amount,
        kind="spend",
        key=key,
        reason=t("points.spend_reason", ctx.workspace.locale, reason=data.reason),
        rule="engagement.points",
        at=event.at,
        level_for=levels.level_for,
        allow_negative=True,
        earns=False,
    )
    return ()
