"""KOL discovery 挖掘KOL: members scored on answering others, replies and mentions they receive,
consistency (days active) and tenure; a weekly board; helpers suggested to staff.

Score = Σ weight × value / (the largest value on the board) for answers and received, so the
best in each scores its full weight; consistency (active days / window) and tenure (days since
the first join, full at `tenure_days`) are shares already. The default weights add up to 100.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from shequn.actions import ActionKind, Decision
from shequn.community.workspace import WorkspaceInfo
from shequn.config.engagement import KolSection
from shequn.engagement.counters import REPLY_WINDOW, CountersBook
from shequn.engagement.robot import MarksBook, nickname
from shequn.engagement.robot_models import kol_scores, member_day_activity
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import Event
from shequn.exports import register_export, stream
from shequn.i18n import Texts
from shequn.platform.db import insert_ignore

WEEKLY_JOB = "engagement.kol.weekly"

_TEXTS: dict[str, dict[str, str]] = {
    "suggest": {
        "zh-CN": "建议邀请 {nickname}（{member}）担任群「{group}」的群助手：KOL 分 {score}，"
        "近 {window} 天解答他人 {answers} 次，被回复/提及 {received} 次，活跃 {days} 天，"
        "入群 {tenure} 天。",
        "en": "Consider making {nickname} ({member}) a helper of group {group}: KOL score "
        "{score}; in {window} days {answers} answers to others, {received} replies and "
        "mentions received, active on {days} days, member for {tenure} days.",
    },
}
_say = Texts(_TEXTS)


@dataclass(slots=True)
class Candidate:
    member: str
    group: str = ""
    group_messages: int = -1
    messages: int = 0
    answers: int = 0
    received: int = 0
    active_days: int = 0
    tenure_days: int = 0
    score: float = 0.0


def score(cfg: KolSection, people: list[Candidate]) -> list[Candidate]:
    """Scores, best first (ties by member id, so the board is stable)."""
    top_answers = max((c.answers for c in people), default=0) or 1
    top_received = max((c.received for c in people), default=0) or 1
    w = cfg.weights
    for c in people:
        c.score = round(
            w.answers * c.answers / top_answers
            + w.received * c.received / top_received
            + w.consistency * min(c.active_days / cfg.window_days, 1.0)
            + w.tenure * min(c.tenure_days / cfg.tenure_days, 1.0),
            1,
        )
    return sorted(people, key=lambda c: (-c.score, c.member))


def _cfg(ctx: Context) -> KolSection:
    return ctx.config.kol


def _slot(cfg: KolSection, channel: str) -> str:
    return f"kol:weekly:{channel}:{cfg.schedule.timing()}"


def _schedule_next(ctx: Context, cfg: KolSection, channel: str, after: datetime) -> None:
    due = cfg.schedule.next_after(after, ctx.workspace.tz)
    if due is not None:
        ctx.schedule(WEEKLY_JOB, _slot(cfg, channel), due, {"channel": channel})


@rule("engagement", "kol_schedule", on=["message.posted"], once_per_channel=True)
def keep_weekly_run(event: Event, ctx: Context) -> Iterable[Decision]:
    """Keep the next board run pending per channel while it has traffic."""
    cfg = _cfg(ctx)
    if cfg.enabled and ctx.jobs.pending_in_slot(_slot(cfg, event.channel)) is None:
        _schedule_next(ctx, cfg, event.channel, ctx.now)
    return ()


def _candidates(ctx: Context, channel: str, first: date, last: date) -> list[Candidate]:
    conn, ws = ctx.state.conn, ctx.workspace.id
    a = member_day_activity
    window = and_(a.c.workspace_id == ws, a.c.channel == channel, a.c.day >= first, a.c.day <= last)
    people: dict[str, Candidate] = {}
    per_group = (
        select(
            a.c.member_ext,
            a.c.group_ext,
            func.sum(a.c.messages),
            func.sum(a.c.answers),
            func.sum(a.c.replies_received + a.c.mentions_received),
        )
        .where(window)
        .group_by(a.c.member_ext, a.c.group_ext)
    )
    for member, group, messages, answers, received in conn.execute(per_group):
        c = people.setdefault(member, Candidate(member))
        c.messages += int(messages)
        c.answers += int(answers)
        c.received += int(received)
        # The group where they speak most is where they would help.
        n = int(messages)
        if n > c.group_messages or (n == c.group_messages and group < c.group):
            c.group, c.group_messages = group, n
    active = (
        select(a.c.member_ext, func.count(func.distinct(a.c.day)))
        .where(window, a.c.messages > 0)
        .group_by(a.c.member_ext)
    )
    for member, days in conn.execute(active):
        people[member].active_days = int(days)
    excluded = set(ctx.config.roles.staff) | set(ctx.config.roles.bots) | {"shequn-bot"}
    speakers = [c for c in people.values() if c.messages > 0 and c.member not in excluded]
    state = ctx.state
    state.members.load(conn, ws, [(channel, c.member) for c in speakers])
    for c in speakers:
        m = state.members.get((channel, c.member))
        joined = (m.first_joined_at or m.first_seen_at) if m is not None else None
        c.tenure_days = max(0, (last - ctx.local_date(joined)).days) if joined else 0
    return speakers


@job_handler("engagement", "kol", kind=WEEKLY_JOB)
def make_board(job: Job, ctx: Context) -> Iterable[Decision]:
    """Score the channel's members over the window, keep the board, suggest new helpers."""
    cfg = _cfg(ctx)
    channel = str(job.payload["channel"])
    if not cfg.enabled or job.slot != _slot(cfg, channel):
        return ()  # switched off or re-timed: the new slot has its own chain
    _schedule_next(ctx, cfg, channel, job.due_at)
    counters = ctx.book(CountersBook)
    counters.flush()
    # Authors older than the reply window can no longer be credited: drop them.
    counters.prune_authors(job.due_at - REPLY_WINDOW)
    ctx.state.flush()
    last = ctx.local_date(job.due_at) - timedelta(days=1)
    first = last - timedelta(days=cfg.window_days - 1)
    board = score(cfg, _candidates(ctx, channel, first, last))[: cfg.board_size]
    insert_ignore(
        ctx.state.conn,
        kol_scores,
        [
            {
                "workspace_id": ctx.workspace.id,
                "channel": channel,
                "day": last,
                "rank": rank,
                "member_ext": c.member,
                "group_ext": c.group,
                "score": c.score,
                "answers": c.answers,
                "received": c.received,
                "messages": c.messages,
                "active_days": c.active_days,
                "tenure_days": c.tenure_days,
            }
            for rank, c in enumerate(board, start=1)
        ],
    )
    if not cfg.suggest:
        return ()
    helpers = set(ctx.config.roles.helpers)
    marks = ctx.book(MarksBook)
    decisions: list[Decision] = []
    for c in board:
        if len(decisions) >= cfg.suggest_top:
            break
        good = (
            c.score >= cfg.suggest_min_score
            and c.answers >= cfg.min_answers
            and c.active_days >= cfg.min_active_days
        )
        if not good or c.member in helpers:
            continue
        if not marks.mark(f"kol:suggested:{channel}:{c.member}", job.due_at):
            continue  # suggested once already: staff decide, the robot does not nag
        group = ctx.state.group(channel, c.group)
        text = _say(
            "suggest",
            ctx.workspace.locale,
            nickname=nickname(ctx, channel, c.group, c.member),
            member=c.member,
            group=group.name if group is not None else c.group,
            score=c.score,
            window=cfg.window_days,
            answers=c.answers,
            received=c.received,
            days=c.active_days,
            tenure=c.tenure_days,
        )
        decisions.append(
            Decision(
                ActionKind.STAFF_TASK,
                text,
                group=c.group,
                member=c.member,
                data={"score": c.score, "text": text},
                key=f"kol:suggest:{channel}:{c.member}",
                channel=channel,
            )
        )
    return decisions


@register_export(
    "kol_board",
    (
        "channel",
        "day",
        "rank",
        "member",
        "group",
        "score",
        "answers",
        "received",
        "messages",
        "active_days",
        "tenure_days",
    ),
)
def _export(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = kol_scores
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.channel, t.c.day, t.c.rank)
    for r in stream(conn, stmt):
        yield {
            "channel": r["channel"],
            "day": r["day"].isoformat(),
            "rank": r["rank"],
            "member": r["member_ext"],
            "group": r["group_ext"],
            "score": r["score"],
            "answers": r["answers"],
            "received": r["received"],
            "messages": r["messages"],
            "active_days": r["active_days"],
            "tenure_days": r["tenure_days"],
        }
