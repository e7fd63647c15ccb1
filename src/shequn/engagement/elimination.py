"""Elimination and revival 淘汰机制 / 复活机制: at the end of each period, members of the chosen
groups who earned fewer points than the threshold in it are removed (a staff task where the
channel cannot remove); an eliminated member who completes the revival task (share the poster,
place an order, or send a keyword anywhere in the workspace) within the window is brought back
by staff.

A period's points are the member's cumulative points now minus a baseline kept at the end of
the previous period, so the first period after switching it on only takes the baselines.
Off by default: removing members is a choice an operator makes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, select, update

from shequn.actions import ActionKind, Decision
from shequn.community.workspace import WorkspaceInfo
from shequn.config.engagement import EliminationSection
from shequn.engagement.points import PointsBook
from shequn.engagement.robot import (
    MemberRow,
    active_members,
    is_exempt,
    live_groups,
    mentions_text,
)
from shequn.engagement.robot_models import elimination_baselines, eliminations
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import Event, MessagePostedData
from shequn.exports import iso, register_export, stream
from shequn.i18n import Texts
from shequn.platform.db import chunks, db_datetime, insert_ignore

PERIOD_JOB = "engagement.elimination.period"

_TEXTS: dict[str, dict[str, str]] = {
    "reason": {
        "zh-CN": "淘汰：本期积分 {points}，低于 {threshold}",
        "en": "eliminated: {points} points this period, below {threshold}",
    },
    "announce": {
        "zh-CN": "本期淘汰名单：{names}（本期积分低于 {threshold}）。{revival}",
        "en": "Eliminated this period: {names} (fewer than {threshold} points). {revival}",
    },
    "announce.reason": {"zh-CN": "公布本期淘汰名单", "en": "elimination list"},
    "revival.poster": {
        "zh-CN": "{hours} 小时内分享活动海报即可复活～",
        "en": "Share the poster within {hours} hours to come back.",
    },
    "revival.order": {
        "zh-CN": "{hours} 小时内下单即可复活～",
        "en": "Place an order within {hours} hours to come back.",
    },
    "revival.keyword": {
        "zh-CN": "{hours} 小时内在任意群发送「{keyword}」即可复活～",
        "en": "Send “{keyword}” in any group within {hours} hours to come back.",
    },
    "revive": {
        "zh-CN": "请将成员 {member} 重新拉入群「{group}」：已在复活期内完成复活任务（{task}）",
        "en": "Please add {member} back to group {group}: the revival task ({task}) is done",
    },
    "task.poster": {"zh-CN": "分享海报", "en": "shared the poster"},
    "task.order": {"zh-CN": "下单", "en": "placed an order"},
    "task.keyword": {"zh-CN": "发送复活口令", "en": "sent the revival keyword"},
}
_say = Texts(_TEXTS)


def _cfg(ctx: Context) -> EliminationSection:
    return ctx.config.elimination


def _slot(cfg: EliminationSection, channel: str) -> str:
    return f"elimination:{channel}:{cfg.schedule.timing()}"


def _arm(ctx: Context, cfg: EliminationSection, channel: str, after: datetime) -> None:
    due = cfg.schedule.next_after(after, ctx.workspace.tz)
    if due is not None:
        ctx.schedule(PERIOD_JOB, _slot(cfg, channel), due, {"channel": channel})


# --- Baselines ----------------------------------------------------------------------------------


def _baselines(conn: Connection, ws: int, channel: str, ids: Sequence[str]) -> dict[str, int]:
    t = elimination_baselines
    found: dict[str, int] = {}
    for part in chunks(sorted(set(ids)), 500):
        stmt = select(t.c.member_ext, t.c.earned).where(
            and_(t.c.workspace_id == ws, t.c.channel == channel, t.c.member_ext.in_(part))
        )
        found.update((str(m), int(e)) for m, e in conn.execute(stmt))
    return found


def _set_baselines(
    conn: Connection, ws: int, channel: str, earned: dict[str, int], at: datetime
) -> None:
    """Replace the baselines of these members (an upsert, the same on SQLite and PostgreSQL)."""
    if not earned:
        return
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    sql = (
        'INSERT INTO "elimination_baselines" ("workspace_id", "channel", "member_ext", '
        f'"earned", "since") VALUES ({mark}, {mark}, {mark}, {mark}, {mark}) '
        'ON CONFLICT ("workspace_id", "channel", "member_ext") DO UPDATE SET '
        '"earned" = excluded."earned", "since" = excluded."since"'
    )
    stamp = db_datetime(conn)(at)
    conn.exec_driver_sql(sql, [(ws, channel, m, e, stamp) for m, e in sorted(earned.items())])


# --- The period's end ----------------------------------------------------------------------------


@rule("engagement", "elimination", on=["message.posted", "member.joined"], once_per_channel=True)
def keep_period_pending(event: Event, ctx: Context) -> Iterable[Decision]:
    """Keep the end of the current period pending per channel while there is traffic."""
    cfg = _cfg(ctx)
    if cfg.enabled and ctx.jobs.pending_in_slot(_slot(cfg, event.channel)) is None:
        _arm(ctx, cfg, event.channel, ctx.now)
    return ()


def _revival_hint(cfg: EliminationSection, locale: str) -> str:
    if not cfg.revival.enabled:
        return ""
    r = cfg.revival
    return _say(f"revival.{r.task}", locale, hours=r.window_hours, keyword=r.keyword)


@job_handler("engagement", "elimination", kind=PERIOD_JOB)
def end_period(job: Job, ctx: Context) -> Iterable[Decision]:
    cfg = _cfg(ctx)
    channel = str(job.payload["channel"])
    if not cfg.enabled or job.slot != _slot(cfg, channel):
        return ()  # switched off or re-timed: the new slot has its own chain
    _arm(ctx, cfg, channel, job.due_at)
    now, locale = job.due_at, ctx.workspace.locale
    period = ctx.local_date(now).isoformat()
    # A blueprint or a group may switch it off or set its own threshold.
    chosen = [g for g in live_groups(ctx, channel) if not cfg.groups or g.group in cfg.groups]
    scoped = {g.group: ctx.workspace.group_config(g.group, g.blueprint).elimination for g in chosen}
    targets = [g for g in chosen if scoped[g.group].enabled]
    rosters: dict[str, list[MemberRow]] = {
        g.group: active_members(ctx, channel, g.group) for g in targets
    }
    everyone = sorted({m.member for roster in rosters.values() for m in roster})
    points = ctx.book(PointsBook)
    points.standings.load(points.conn, points.workspace_id, [(channel, x) for x in everyone])
    earned: dict[str, int] = {}
    balance: dict[str, int] = {}
    for member in everyone:
        standing = points.standings.get((channel, member))
        earned[member] = standing.earned if standing is not None else 0
        balance[member] = standing.balance if standing is not None else 0
    conn, ws = ctx.state.conn, ctx.workspace.id
    baselines = _baselines(conn, ws, channel, everyone)
    grace_start = now - timedelta(days=cfg.grace_days)
    revive_until = now + timedelta(hours=cfg.revival.window_hours) if cfg.revival.enabled else None
    decisions: list[Decision] = []
    log: list[dict[str, Any]] = []
    for g in targets:
        threshold = scoped[g.group].threshold
        below: list[tuple[int, MemberRow]] = []
        for m in rosters[g.group]:
            if is_exempt(ctx, m.member, g.owner) or (m.joined_at and m.joined_at > grace_start):
                continue
            if cfg.metric == "balance":
                value = balance[m.member]
            elif m.member in baselines:
                value = earned[m.member] - baselines[m.member]
            else:
                continue  # no baseline yet: this period only takes one
            if value < threshold:
                below.append((value, m))
        below.sort(key=lambda pair: (pair[0], pair[1].member))
        out = below[: cfg.max_per_run]
        for value, m in out:
            reason = _say("reason", locale, points=value, threshold=threshold)
            decisions.append(
                Decision(
                    ActionKind.MEMBER_REMOVE,
                    reason,
                    group=g.group,
                    member=m.member,
                    data={"period": period, "points": value, "threshold": threshold},
                    key=f"elimination:{channel}:{g.group}:{m.member}:{period}",
                    channel=channel,
                )
            )
            log.append(
                {
                    "workspace_id": ws,
                    "channel": channel,
                    "group_ext": g.group,
                    "member_ext": m.member,
                    "period": period,
                    "points": value,
                    "threshold": threshold,
                    "eliminated_at": now,
                    "revive_until": revive_until,
                    "revived_at": None,
                    "revived_by": None,
                }
            )
        if out and cfg.announce:
            text = _say(
                "announce",
                locale,
                names=mentions_text(m.name for _, m in out),
                threshold=threshold,
                revival=_revival_hint(cfg, locale),
            ).strip()
            decisions.append(
                Decision(
                    ActionKind.MESSAGE_SEND,
                    _say("announce.reason", locale),
                    group=g.group,
                    data={"text": text, "mentions": [m.member for _, m in out]},
                    key=f"elimination:{channel}:{g.group}:announce:{period}",
                    channel=channel,
                )
            )
    insert_ignore(conn, eliminations, log)
    _set_baselines(conn, ws, channel, earned, now)
    return decisions


# --- Revival -------------------------------------------------------------------------------------


def _task_done(cfg: EliminationSection, event: Event) -> bool:
    task = cfg.revival.task
    if task == "keyword":
        data = event.data
        return isinstance(data, MessagePostedData) and (data.text or "").strip().startswith(
            cfg.revival.keyword
        )
    return event.type == ("poster.shared" if task == "poster" else "order.paid")


@rule("engagement", "revival", on=["message.posted", "poster.shared", "order.paid"])
def revive(event: Event, ctx: Context) -> Iterable[Decision]:
    """An eliminated member who completes the task in time is brought back by staff."""
    cfg = _cfg(ctx)
    if not cfg.enabled or not cfg.revival.enabled or event.member is None:
        return ()
    if not _task_done(cfg, event):
        return ()
    t = eliminations
    conn, ws = ctx.state.conn, ctx.workspace.id
    open_ = list(
        conn.execute(
            select(t.c.id, t.c.group_ext, t.c.period)
            .where(
                and_(
                    t.c.workspace_id == ws,
                    t.c.channel == event.channel,
                    t.c.member_ext == event.member,
                    t.c.revived_at.is_(None),
                    t.c.revive_until >= event.at,
                )
            )
            .order_by(t.c.id)
        )
    )
    if not open_:
        return ()
    conn.execute(
        update(t)
        .where(t.c.id.in_([r.id for r in open_]))
        .values(revived_at=event.at, revived_by=event.id)
    )
    # The next period counts from the revival, not from the elimination.
    points = ctx.book(PointsBook)
    points.standings.load(points.conn, points.workspace_id, [(event.channel, event.member)])
    standing = points.standings.get((event.channel, event.member))
    _set_baselines(
        conn, ws, event.channel, {event.member: standing.earned if standing else 0}, event.at
    )
    locale = ctx.workspace.locale
    task = _say(f"task.{cfg.revival.task}", locale)
    decisions = []
    for r in open_:
        group = ctx.state.group(event.channel, r.group_ext)
        reason = _say(
            "revive",
            locale,
            member=event.member,
            group=group.name if group is not None else r.group_ext,
            task=task,
        )
        decisions.append(
            Decision(
                ActionKind.STAFF_TASK,
                reason,
                group=r.group_ext,
                member=event.member,
                data={"period": r.period, "text": reason},
                key=f"revival:{event.channel}:{r.group_ext}:{event.member}:{r.period}",
            )
        )
    return decisions


@register_export(
    "eliminations",
    (
        "channel",
        "group",
        "member",
        "period",
        "points",
        "threshold",
        "eliminated_at",
        "revive_until",
        "revived_at",
        "revived_by",
    ),
)
def _export(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = eliminations
    stmt = (
        select(t)
        .where(t.c.workspace_id == ws.id)
        .order_by(t.c.eliminated_at, t.c.channel, t.c.group_ext, t.c.member_ext)
    )
    for r in stream(conn, stmt):
        yield {
            "channel": r["channel"],
            "group": r["group_ext"],
            "member": r["member_ext"],
            "period": r["period"],
            "points": r["points"],
            "threshold": r["threshold"],
            "eliminated_at": iso(r["eliminated_at"]),
            "revive_until": iso(r["revive_until"]),
            "revived_at": iso(r["revived_at"]),
            "revived_by": r["revived_by"],
        }
