"""Group health: every local day, per group — members, speakers, messages, the silent ratio,
joins and leaves — and the group's stage over the trailing 7 days, with a staff task when a
group starts dying (declining or dead).

A daily job per channel reads the small counters `counters.py` keeps on the hot path.
Stages, checked in this order (shares are of the members at the day's end):
- dead: fewer than `dead_speaker_share` of the members spoke in the last 7 days;
- growing: net joins of the last 7 days reach `growing_net_share` of the members;
- declining: messages of the last 7 days fell below `declining_message_ratio` of the 7 before;
- active: otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from shequn.actions import ActionKind, Decision
from shequn.community.workspace import WorkspaceInfo
from shequn.config.base import fingerprint
from shequn.config.engagement import HealthSection
from shequn.engagement.counters import CountersBook
from shequn.engagement.robot import (
    live_groups,
    next_daily,
)
from shequn.engagement.robot_models import group_day_counts, group_health, member_day_activity
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import Event
from shequn.exports import iso, register_export, stream
from shequn.i18n import Texts
from shequn.platform.db import insert_ignore

DAILY_JOB = "engagement.health.daily"
STAGES = ("growing", "active", "declining", "dead")
DYING = ("declining", "dead")

_TEXTS: dict[str, dict[str, str]] = {
    "stage.growing": {"zh-CN": "成长期", "en": "growing"},
    "stage.active": {"zh-CN": "活跃期", "en": "active"},
    "stage.declining": {"zh-CN": "衰退期", "en": "declining"},
    "stage.dead": {"zh-CN": "沉寂（死群）", "en": "dead"},
    "warn": {
        "zh-CN": "群「{group}」进入{stage}（{day}）：近 7 天 {speakers} / {members} 人发言，"
        "消息 {messages} 条（前 7 天 {previous} 条），净增 {net} 人。{advice}",
        "en": "Group {group} is {stage} ({day}): {speakers} of {members} members spoke in 7 "
        "days, {messages} messages (7 days before: {previous}), net {net} members. {advice}",
    },
    "advice.declining": {
        "zh-CN": "建议：发起话题或小活动，请核心用户带动讨论。",
        "en": "Try a topic or a small activity, and ask the helpers to lead a discussion.",
    },
    "advice.dead": {
        "zh-CN": "建议：发红包或抽奖唤醒，清理僵尸粉，必要时合并或解散本群。",
        "en": "Wake it with a red packet or lottery, clean out silent members, or merge or "
        "dissolve the group.",
    },
}
_say = Texts(_TEXTS)


def stage_of(
    cfg: HealthSection,
    members: int,
    speakers_7d: int,
    net_7d: int,
    messages_7d: int,
    messages_prev_7d: int,
) -> str:
    if members == 0 or speakers_7d < cfg.dead_speaker_share * members or speakers_7d == 0:
        return "dead"
    if net_7d > 0 and net_7d >= cfg.growing_net_share * members:
        return "growing"
    if messages_prev_7d > 0 and messages_7d < cfg.declining_message_ratio * messages_prev_7d:
        return "declining"
    return "active"


def _cfg(ctx: Context) -> HealthSection:
    return ctx.config.health


def _slot(cfg: HealthSection, channel: str) -> str:
    return f"health:daily:{channel}:{fingerprint(cfg.run_at)}"


@rule(
    "engagement", "health_schedule", on=["message.posted", "member.joined"], once_per_channel=True
)
def keep_daily_run(event: Event, ctx: Context) -> Iterable[Decision]:
    """Keep one daily health run pending per channel while it has traffic."""
    cfg = _cfg(ctx)
    if cfg.enabled:
        slot = _slot(cfg, event.channel)
        if ctx.jobs.pending_in_slot(slot) is None:
            due = next_daily(ctx.now, cfg.run_at, ctx.workspace.tz)
            ctx.schedule(
                DAILY_JOB, slot, due, {"channel": event.channel, "run_at": str(cfg.run_at)}
            )
    return ()


def _per_group(conn: Connection, stmt: Any) -> dict[str, int]:
    return {str(g): int(n) for g, n in conn.execute(stmt)}


@job_handler("engagement", "health", kind=DAILY_JOB)
def measure_day(job: Job, ctx: Context) -> Iterable[Decision]:
    """Measure the day that just ended for each live group of the channel; warn when dying."""
    cfg = _cfg(ctx)
    channel = str(job.payload["channel"])
    if not cfg.enabled or _slot(cfg, channel) != job.slot:
        return ()  # switched off or re-timed: the new slot has its own chain
    tz = ctx.workspace.tz
    ctx.schedule(DAILY_JOB, job.slot, next_daily(job.due_at, cfg.run_at, tz), dict(job.payload))
    day = ctx.local_date(job.due_at) - timedelta(days=1)
    ctx.book(CountersBook).flush()  # the queries below read what this batch counted
    groups = [g for g in live_groups(ctx, channel) if ctx.local_date(g.created_at) <= day]
    if not groups:
        return ()
    conn, ws = ctx.state.conn, ctx.workspace.id
    week, fortnight = day - timedelta(days=6), day - timedelta(days=13)
    c, a, h = group_day_counts, member_day_activity, group_health
    counts: dict[tuple[str, date], tuple[int, int, int]] = {
        (r.group_ext, r.day): (r.messages, r.joins, r.leaves)
        for r in conn.execute(
            select(c.c.group_ext, c.c.day, c.c.messages, c.c.joins, c.c.leaves).where(
                and_(
                    c.c.workspace_id == ws,
                    c.c.channel == channel,
                    c.c.day >= fortnight,
                    c.c.day <= day,
                )
            )
        )
    }
    spoke = and_(a.c.workspace_id == ws, a.c.channel == channel, a.c.messages > 0)
    speakers = _per_group(
        conn,
        select(a.c.group_ext, func.count()).where(spoke, a.c.day == day).group_by(a.c.group_ext),
    )
    speakers_7d = _per_group(
        conn,
        select(a.c.group_ext, func.count(func.distinct(a.c.member_ext)))
        .where(spoke, a.c.day >= week, a.c.day <= day)
        .group_by(a.c.group_ext),
    )
    before = {
        str(g): str(s)
        for g, s in conn.execute(
            select(h.c.group_ext, h.c.stage).where(
                and_(
                    h.c.workspace_id == ws,
                    h.c.channel == channel,
                    h.c.day == day - timedelta(days=1),
                )
            )
        )
    }
    locale = ctx.workspace.locale
    rows: list[dict[str, Any]] = []
    decisions: list[Decision] = []
    for g in groups:
        eff = ctx.workspace.group_config(g.group, g.blueprint).health
        if not eff.enabled:
            continue

        def total(first: date, last: date, index: int, group: str = g.group) -> int:
            n, d = 0, first
            while d <= last:
                n += counts.get((group, d), (0, 0, 0))[index]
                d += timedelta(days=1)
            return n

        messages, joins, leaves = counts.get((g.group, day), (0, 0, 0))
        m7, mprev = total(week, day, 0), total(fortnight, week - timedelta(days=1), 0)
        net = total(week, day, 1) - total(week, day, 2)
        s7 = speakers_7d.get(g.group, 0)
        stage = stage_of(eff, g.member_count, s7, net, m7, mprev)
        silent = (
            1.0 - min(speakers.get(g.group, 0), g.member_count) / g.member_count
            if g.member_count
            else 1.0
        )
        rows.append(
            {
                "workspace_id": ws,
                "channel": channel,
                "group_ext": g.group,
                "day": day,
                "members": g.member_count,
                "speakers": speakers.get(g.group, 0),
                "messages": messages,
                "silent_ratio": round(silent, 4),
                "joins": joins,
                "leaves": leaves,
                "speakers_7d": s7,
                "messages_7d": m7,
                "messages_prev_7d": mprev,
                "net_joins_7d": net,
                "stage": stage,
                "computed_at": job.due_at,
            }
        )
        old_enough = (day - ctx.local_date(g.created_at)).days >= cfg.min_age_days
        if stage in DYING and before.get(g.group) != stage and eff.warn and old_enough:
            text = _say(
                "warn",
                locale,
                group=g.name,
                stage=_say(f"stage.{stage}", locale),
                day=day.isoformat(),
                speakers=s7,
                members=g.member_count,
                messages=m7,
                previous=mprev,
                net=net,
                advice=_say(f"advice.{stage}", locale),
            )
            decisions.append(
                Decision(
                    ActionKind.STAFF_TASK,
                    text,
                    group=g.group,
                    data={"stage": stage, "day": day.isoformat(), "text": text},
                    key=f"health:warn:{channel}:{g.group}:{day.isoformat()}",
                    channel=channel,
                )
            )
    insert_ignore(conn, group_health, rows)
    return decisions


@register_export(
    "group_health",
    (
        "channel",
        "group",
        "day",
        "members",
        "speakers",
        "messages",
        "silent_ratio",
        "joins",
        "leaves",
        "speakers_7d",
        "messages_7d",
        "messages_prev_7d",
        "net_joins_7d",
        "stage",
        "computed_at",
    ),
)
def _export(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = group_health
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.channel, t.c.group_ext, t.c.day)
    for r in stream(conn, stmt):
        yield {
            "channel": r["channel"],
            "group": r["group_ext"],
            "day": r["day"].isoformat(),
            "members": r["members"],
            "speakers": r["speakers"],
            "messages": r["messages"],
            "silent_ratio": r["silent_ratio"],
            "joins": r["joins"],
            "leaves": r["leaves"],
            "speakers_7d": r["speakers_7d"],
            "messages_7d": r["messages_7d"],
            "messages_prev_7d": r["messages_prev_7d"],
            "net_joins_7d": r["net_joins_7d"],
            "stage": r["stage"],
            "computed_at": iso(r["computed_at"]),
        }
