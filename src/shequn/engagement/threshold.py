"""Entry thresholds 进群门槛: a newcomer to a group whose blueprint asks for approval, a task
or payment is pending until they qualify, and removed at the deadline if they do not."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from shequn.actions import ActionKind, Decision
from shequn.community.service import NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.config import WorkspaceConfig
from shequn.engine.ingest import Run
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import Event, MemberJoinedData
from shequn.i18n import Texts
from shequn.platform.db import lock_workspace

DEADLINE_JOB = "engagement.threshold_deadline"

_TEXTS = {
    "approval": {
        "zh-CN": "请审核新成员 {member} 加入群「{group}」（{hours} 小时内未通过将移出）",
        "en": "Please approve {member} in {group} (removed after {hours} h otherwise)",
    },
    "task": {
        "zh-CN": "@{nickname} 欢迎！请在 {hours} 小时内完成入群任务：{task}",
        "en": "@{nickname} welcome! Please complete the entry task within {hours} h: {task}",
    },
    "paid": {
        "zh-CN": "@{nickname} 本群为付费会员群，请在 {hours} 小时内开通会员",
        "en": "@{nickname} this group is for paying members; please join within {hours} h",
    },
    "pending": {"zh-CN": "入群门槛：{kind}", "en": "entry threshold: {kind}"},
    "rejected": {"zh-CN": "入群审核未通过", "en": "entry request rejected"},
    "removed": {
        "zh-CN": "未在期限内满足入群门槛（{kind}）",
        "en": "did not meet the entry threshold ({kind}) in time",
    },
    "engagement.not_waiting": {
        "zh-CN": "{member} 没有在群「{group}」等待审核",
        "en": "{member} is not waiting for approval in {group}",
    },
}


_say = Texts(_TEXTS)


def _slot(channel: str, group: str, member: str) -> str:
    return f"threshold:{channel}:{group}:{member}"


def threshold_of(ctx: Context, channel: str, group: str) -> Any:
    found = ctx.state.group(channel, group)
    override = ctx.config.groups.overrides.get(group)
    name = (override.blueprint if override else None) or (found.blueprint if found else None)
    plan = ctx.config.blueprints.get(name) if name else None
    return plan.threshold if plan is not None else None


@rule("engagement", "threshold", on=["member.joined"])
def hold_newcomer(event: Event, ctx: Context) -> Iterable[Decision]:
    assert isinstance(event.data, MemberJoinedData)
    if event.group is None or event.member is None:
        return ()
    threshold = threshold_of(ctx, event.channel, event.group)
    if threshold is None or threshold.kind == "none":
        return ()
    if ctx.config.roles.exempt(event.member) or event.data.scene == "approval":
        return ()  # staff, or already approved through the channel's own join request
    if threshold.kind == "paid" and _has_paid(ctx, event.channel, event.member):
        return ()
    ctx.schedule(
        DEADLINE_JOB,
        _slot(event.channel, event.group, event.member),
        event.at + timedelta(hours=threshold.deadline_hours),
        {"channel": event.channel, "group": event.group, "member": event.member,
         "kind": threshold.kind},
    )  # fmt: skip
    locale = ctx.workspace.locale
    hours = threshold.deadline_hours
    reason = _say("pending", locale, kind=threshold.kind)
    if threshold.kind == "approval":
        text = _say("approval", locale, member=event.member, group=event.group, hours=hours)
        return [Decision(ActionKind.STAFF_TASK, text, group=event.group, member=event.member)]
    text = _say(
        threshold.kind,
        locale,
        nickname=event.data.nickname,
        hours=hours,
        task=threshold.task or "",
    )
    return [
        Decision(
            ActionKind.MESSAGE_SEND,
            reason,
            group=event.group,
            member=event.member,
            data={"text": text, "mentions": [event.member]},
        )
    ]


def _has_paid(ctx: Context, channel: str, member: str) -> bool:
    found = ctx.state.member(channel, member)
    return found is not None and found.spent_fen > 0


def _asks_task_or_payment(config: WorkspaceConfig) -> bool:
    """Only a blueprint with a task or paid threshold makes a share or a payment matter
    (blueprints are the workspace's, whichever group's configuration this is)."""
    return any(
        plan.threshold is not None and plan.threshold.kind in _MET_BY.values()
        for plan in config.blueprints.values()
    )


_MET_BY = {"poster.shared": "task", "order.paid": "paid"}


def _pending_for(ctx: Context, members: set[tuple[str, str]]) -> list[Job]:
    """The pending deadlines of these (channel, member)s, from the run's pending jobs."""
    return [
        job
        for job in ctx.jobs.pending_of_kind(DEADLINE_JOB)
        if (job.payload["channel"], job.payload["member"]) in members
    ]


def _preload_memberships(events: Sequence[Event], ctx: Context) -> None:
    members = {(ev.channel, ev.member) for ev in events if ev.type in _MET_BY and ev.member}
    keys = [(j.payload["channel"], j.payload["group"], j.payload["member"]) for j in
            _pending_for(ctx, members)]  # fmt: skip
    ctx.state.load((), (), keys)


@rule(
    "engagement",
    "threshold_met",
    on=list(_MET_BY),
    when=_asks_task_or_payment,
    preload=_preload_memberships,
)
def qualify(event: Event, ctx: Context) -> Iterable[Decision]:
    """Sharing the poster completes a task threshold; paying meets a paid one, in every
    group where the member is pending (and still in the group). The pending deadlines and
    memberships are the run's, in memory: nothing is read per event."""
    if event.member is None:
        return ()
    wanted = _MET_BY[event.type]
    pending = _pending_for(ctx, {(event.channel, event.member)})
    for job in sorted(pending, key=lambda j: str(j.payload["group"])):
        ms = ctx.state.membership(event.channel, job.payload["group"], event.member)
        if ms is not None and ms.active and job.payload.get("kind") == wanted:
            ctx.cancel(job.slot)
    return ()


@job_handler("engagement", "threshold", kind=DEADLINE_JOB)
def remove_unqualified(job: Job, ctx: Context) -> Iterable[Decision]:
    p = job.payload
    ms = ctx.state.membership(p["channel"], p["group"], p["member"])
    if ms is None or not ms.active:
        return ()
    return [
        Decision(
            ActionKind.MEMBER_REMOVE,
            _say("removed", ctx.workspace.locale, kind=p["kind"]),
            group=p["group"],
            member=p["member"],
            channel=p["channel"],
        )
    ]


def do_decide_admission(
    conn: Connection,
    ws: WorkspaceInfo,
    *,
    channel: str,
    group: str,
    member: str,
    approve: bool,
    now: datetime,
) -> dict[str, Any]:
    """Staff approve or reject a newcomer waiting for approval; a rejection removes them."""
    lock_workspace(conn, ws.id)
    run = Run(conn, ws)
    ctx = Context(ws, run.state, run.jobs, run.books, now, f"admission:{group}:{member}")
    job = ctx.pending(_slot(channel, group, member))
    if job is None or job.payload.get("kind") != "approval":
        raise NotFound(_say, "engagement.not_waiting", member=member, group=group)
    ctx.cancel(_slot(channel, group, member))
    if not approve:
        run.outbox.add(
            "engagement.threshold",
            Decision(
                ActionKind.MEMBER_REMOVE,
                _say("rejected", ws.locale),
                group=group,
                member=member,
            ),
            channel=channel,
            caused_by=None,
            cause_key=f"admission:{channel}:{group}:{member}:{now.isoformat()}",
            at=now,
        )
    run.flush()
    return {"member": member, "group": group, "approved": approve}
