"""Flash groups 快闪群: a group made for one event (`group.created` with `ends_at`). Before the
end, the members who took part (by messages) are invited to a configured long-term group; at
the end the group is archived or dissolved — a farewell message, a staff task (no channel can
be told to archive or dismiss a group through the action vocabulary) and, when configured,
the removal of its members — and an end report is kept for export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, select

from shequn.actions import ActionKind, Decision
from shequn.community.workspace import WorkspaceInfo
from shequn.config.engagement import INVITE_VARIABLES, FlashSection
from shequn.engagement.robot import (
    LIVE,
    MarksBook,
    active_members,
    attendance,
    is_exempt,
    members_of,
    mentions_text,
)
from shequn.engagement.robot_models import flash_invites, flash_reports
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.engine.state import GroupState
from shequn.events import Event
from shequn.exports import iso, register_export, stream
from shequn.i18n import Texts, fill
from shequn.platform.db import insert_ignore

INVITE_JOB = "engagement.flash.invite"
END_JOB = "engagement.flash.end"
MENTIONS_PER_MESSAGE = 40
"""Chat apps cap @mentions per message; invitations go out in slices of this many."""

_TEXTS: dict[str, dict[str, str]] = {
    "invite": {
        "zh-CN": "{mentions} 感谢大家在「{group}」的热情参与！本群即将结束，欢迎加入长期交流群"
        "「{target}」继续交流：{link}",
        "en": "{mentions} thank you for taking part in {group}! This group ends soon; join "
        "{target} to stay in touch: {link}",
    },
    "invite.reason": {
        "zh-CN": "快闪群即将结束，邀请活跃成员（{count} 人）进入长期群",
        "en": "flash group ending: inviting {count} engaged member(s) to the long-term group",
    },
    "farewell": {
        "zh-CN": "「{group}」活动已结束，感谢大家的参与！本群将{action}。",
        "en": "{group} has ended, thank you all! This group will be {action}.",
    },
    "farewell.reason": {"zh-CN": "快闪群结束", "en": "flash group ended"},
    "action.archive": {"zh-CN": "归档", "en": "archived"},
    "action.dissolve": {"zh-CN": "解散", "en": "dissolved"},
    "task": {
        "zh-CN": "快闪群「{group}」已于 {end} 结束，请{action}该群。报告：成员 {members} 人，"
        "先后入群 {joined} 人，发言 {speakers} 人，消息 {messages} 条，活跃 {engaged} 人，"
        "邀请 {invited} 人，已进入长期群 {converted} 人。",
        "en": "Flash group {group} ended at {end}; please {action} it. Report: {members} "
        "members, {joined} joined over time, {speakers} spoke, {messages} messages, {engaged} "
        "engaged, {invited} invited, {converted} now in the long-term group.",
    },
    "task.archive": {"zh-CN": "归档", "en": "archive"},
    "task.dissolve": {"zh-CN": "解散", "en": "dissolve"},
    "remove.reason": {"zh-CN": "快闪群结束，解散", "en": "flash group dissolved"},
}
_say = Texts(_TEXTS)


def _of(ctx: Context, group: GroupState) -> FlashSection:
    """The group's view: a flash blueprint (or the group itself) may set its own."""
    return ctx.workspace.group_config(group.ext_id, group.blueprint).flash


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


@rule("engagement", "flash", on=["group.created"])
def plan_flash_group(event: Event, ctx: Context) -> Iterable[Decision]:
    """Schedule the invitation and the end of a group made with an end time."""
    assert event.group is not None
    group = ctx.state.group(event.channel, event.group)
    if group is None or group.ends_at is None:
        return ()
    ends = _utc(group.ends_at)
    eff = _of(ctx, group)
    if ends <= ctx.now or not eff.enabled:
        return ()
    # Once per end time: a re-announced group.created must not plan the end twice.
    if not ctx.book(MarksBook).mark(
        f"flash:{event.channel}:{event.group}:{ends.isoformat()}", ctx.now
    ):
        return ()
    payload = {
        "channel": event.channel,
        "group": event.group,
        "ends_at": ends.isoformat(),
        "caused_by": event.id,
    }
    suffix = f"{event.channel}:{event.group}:{ends.isoformat()}"
    invite_at = max(ctx.now, ends - timedelta(minutes=eff.invite_before_minutes))
    ctx.schedule(INVITE_JOB, f"flash:invite:{suffix}", invite_at, payload)
    ctx.schedule(END_JOB, f"flash:end:{suffix}", ends, payload)
    return ()


def _still_planned(ctx: Context, job: Job) -> GroupState | None:
    p = job.payload
    group = ctx.state.group(p["channel"], p["group"])
    if group is None or group.status not in LIVE or group.ends_at is None:
        return None  # gone or dismissed already
    if _utc(group.ends_at) != datetime.fromisoformat(p["ends_at"]):
        return None  # re-planned with another end
    return group


@job_handler("engagement", "flash", kind=INVITE_JOB)
def invite_the_engaged(job: Job, ctx: Context) -> Iterable[Decision]:
    group = _still_planned(ctx, job)
    if group is None:
        return ()
    eff = _of(ctx, group)
    if not eff.enabled or not (eff.long_term_group or eff.invite_link):
        return ()  # nowhere to invite them to
    channel = group.channel
    engaged = [
        m
        for m in active_members(ctx, channel, group.ext_id)
        if m.message_count >= eff.min_messages and not is_exempt(ctx, m.member, group.owner)
    ]
    target = eff.long_term_group
    if target:
        inside = members_of(ctx, channel, target, [m.member for m in engaged])
        engaged = [m for m in engaged if m.member not in inside]
    if not engaged:
        return ()
    target_group = ctx.state.group(channel, target) if target else None
    target_name = target_group.name if target_group is not None else (target or "")
    insert_ignore(
        ctx.state.conn,
        flash_invites,
        [
            {
                "workspace_id": ctx.workspace.id,
                "channel": channel,
                "group_ext": group.ext_id,
                "member_ext": m.member,
                "target_group": target,
                "messages": m.message_count,
                "invited_at": job.due_at,
            }
            for m in engaged
        ],
    )
    locale = ctx.workspace.locale
    template = eff.invite_template or _say.raw("invite", locale)
    decisions = []
    for start in range(0, len(engaged), MENTIONS_PER_MESSAGE):
        part = engaged[start : start + MENTIONS_PER_MESSAGE]
        text = fill(
            template,
            INVITE_VARIABLES,
            mentions=mentions_text(m.name for m in part),
            group=group.name,
            target=target_name,
            link=eff.invite_link or "",
        ).strip()
        decisions.append(
            Decision(
                ActionKind.MESSAGE_SEND,
                _say("invite.reason", locale, count=len(part)),
                group=group.ext_id,
                data={
                    "text": text,
                    "mentions": [m.member for m in part],
                    "target_group": target,
                    "link": eff.invite_link,
                },
                key=f"flash:invite:{channel}:{group.ext_id}:{start // MENTIONS_PER_MESSAGE}",
                channel=channel,
            )
        )
    return decisions


def _invited(ctx: Context, channel: str, group: str) -> list[str]:
    t = flash_invites
    stmt = (
        select(t.c.member_ext)
        .where(
            and_(
                t.c.workspace_id == ctx.workspace.id, t.c.channel == channel, t.c.group_ext == group
            )
        )
        .order_by(t.c.member_ext)
    )
    return [str(r[0]) for r in ctx.state.conn.execute(stmt)]


@job_handler("engagement", "flash", kind=END_JOB)
def end_flash_group(job: Job, ctx: Context) -> Iterable[Decision]:
    """Say goodbye, ask staff to archive or dissolve, optionally remove members, report."""
    group = _still_planned(ctx, job)
    if group is None:
        return ()
    eff = _of(ctx, group)
    if not eff.enabled:
        return ()
    channel, locale = group.channel, ctx.workspace.locale
    came = attendance(ctx, channel, group.ext_id, eff.min_messages)
    invited = _invited(ctx, channel, group.ext_id)
    target = eff.long_term_group
    converted = len(members_of(ctx, channel, target, invited)) if target and invited else 0
    report = {
        "members": group.member_count,
        "joined": came.joined,
        "speakers": came.speakers,
        "messages": came.messages,
        "engaged": came.engaged,
        "invited": len(invited),
        "converted": converted,
    }
    insert_ignore(
        ctx.state.conn,
        flash_reports,
        [
            {
                "workspace_id": ctx.workspace.id,
                "channel": channel,
                "group_ext": group.ext_id,
                "name": group.name,
                "created_at": group.created_at,
                "ends_at": group.ends_at,
                "members_end": group.member_count,
                "joined": came.joined,
                "speakers": came.speakers,
                "messages": came.messages,
                "engaged": came.engaged,
                "invited": len(invited),
                "converted": converted,
                "target_group": target,
                "end_action": eff.end_action,
                "reported_at": job.due_at,
            }
        ],
    )
    decisions: list[Decision] = []
    key = f"flash:end:{channel}:{group.ext_id}"
    if eff.farewell:
        action = _say(f"action.{eff.end_action}", locale)
        decisions.append(
            Decision(
                ActionKind.MESSAGE_SEND,
                _say("farewell.reason", locale),
                group=group.ext_id,
                data={"text": _say("farewell", locale, group=group.name, action=action)},
                key=f"{key}:farewell",
                channel=channel,
            )
        )
    end = job.due_at.astimezone(ctx.workspace.tz).strftime("%Y-%m-%d %H:%M")
    task = _say(
        "task",
        locale,
        group=group.name,
        end=end,
        action=_say(f"task.{eff.end_action}", locale),
        **report,
    )
    decisions.append(
        Decision(
            ActionKind.STAFF_TASK,
            task,
            group=group.ext_id,
            data={"end_action": eff.end_action, "report": report, "text": task},
            key=f"{key}:task",
            channel=channel,
        )
    )
    if eff.end_action == "dissolve" and eff.remove_members:
        decisions += [
            Decision(
                ActionKind.MEMBER_REMOVE,
                _say("remove.reason", locale),
                group=group.ext_id,
                member=m.member,
                key=f"{key}:remove:{m.member}",
                channel=channel,
            )
            for m in active_members(ctx, channel, group.ext_id)
            if not is_exempt(ctx, m.member, group.owner)
        ]
    return decisions


# --- Exports -----------------------------------------------------------------------------------

_REPORT_COLUMNS = (
    "channel",
    "group",
    "name",
    "created_at",
    "ends_at",
    "members_end",
    "joined",
    "speakers",
    "messages",
    "engaged",
    "invited",
    "converted",
    "target_group",
    "end_action",
    "reported_at",
)


@register_export("flash_reports", _REPORT_COLUMNS)
def _reports(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = flash_reports
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.ends_at, t.c.group_ext)
    for r in stream(conn, stmt):
        row = {"channel": r["channel"], "group": r["group_ext"]}
        for col in _REPORT_COLUMNS[2:]:
            value = r[col]
            row[col] = iso(value) if isinstance(value, datetime) else value
        yield row


@register_export(
    "flash_invites", ("channel", "group", "member", "target_group", "messages", "invited_at")
)
def _invites(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = flash_invites
    stmt = (
        select(t)
        .where(t.c.workspace_id == ws.id)
        .order_by(t.c.invited_at, t.c.group_ext, t.c.member_ext)
    )
    for r in stream(conn, stmt):
        yield {
            "channel": r["channel"],
            "group": r["group_ext"],
            "member": r["member_ext"],
            "target_group": r["target_group"],
            "messages": r["messages"],
            "invited_at": iso(r["invited_at"]),
        }
