"""Group SOPs 群SOP: content from the library posted on a calendar (days of the week or dates at
a local time, to all groups or some) and along each newcomer's first days (day 0, 1, 3, 7 …),
never inside quiet hours. A channel that cannot post gets a staff task from the outbox.

A calendar schedule is a chain of jobs: the first is armed by a rule when the workspace has
traffic, and each occurrence schedules the next. A schedule whose timing changes gets a new
chain (its slot carries a fingerprint); the old one finds itself stale and stops.

Calendars are the workspace's; a blueprint or a group (`groups.overrides.<g>.settings.sop`)
may switch SOPs off, set its own quiet hours, library and journeys.

A schedule or journey may name a CRM segment: a calendar post then goes only to the groups
where members of the segment are, @mentioning them; a journey step only to a newcomer who is in
the segment when the step is due. Segments are evaluated at the job's due time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from shequn.actions import ActionKind, Decision
from shequn.community.workspace import WorkspaceInfo
from shequn.config.engagement import (
    CalendarSchedule,
    ContentItem,
    Journey,
    JourneyStep,
    SegmentRef,
    SopSection,
    at_local,
)
from shequn.engagement.content import render
from shequn.engagement.robot import (
    is_exempt,
    live_groups,
    mentions_text,
)
from shequn.engagement.robot import nickname as member_name
from shequn.engagement.segments import in_segment, present_by_group, segment_members
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import Event
from shequn.exports import register_export
from shequn.i18n import Texts

CALENDAR_JOB = "engagement.sop.calendar"
SEND_JOB = "engagement.sop.send"
JOURNEY_JOB = "engagement.sop.journey"

_TEXTS: dict[str, dict[str, str]] = {
    "calendar.reason": {
        "zh-CN": "群SOP「{name}」定时推送（{theme}）",
        "en": "SOP {name}: scheduled post ({theme})",
    },
    "journey.reason": {
        "zh-CN": "群SOP「{name}」入群第 {day} 天推送",
        "en": "SOP {name}: day {day} after joining",
    },
    "segment.gone": {
        "zh-CN": "群SOP「{name}」的目标人群「{segment}」已不存在，本次未推送，请修改配置",
        "en": "SOP {name}: segment {segment} no longer exists, nothing was posted; please fix "
        "the configuration",
    },
}
_say = Texts(_TEXTS)


def _sop(ctx: Context) -> SopSection:
    return ctx.config.sop


def _sop_of(ctx: Context, group: str, blueprint: str | None) -> SopSection:
    """The group's view: enabled, quiet hours, library and journeys may differ per group."""
    return ctx.workspace.group_config(group, blueprint).sop


def _targets(spec: CalendarSchedule | Journey, group: str, blueprint: str | None) -> bool:
    if spec.groups and group not in spec.groups:
        return False
    return not spec.blueprints or blueprint in spec.blueprints


# --- Calendar ---------------------------------------------------------------------------------


def _calendar_slot(s: CalendarSchedule) -> str:
    return f"sop:calendar:{s.name}:{s.timing()}"


def _arm(ctx: Context, s: CalendarSchedule, after: datetime, n: int) -> None:
    due = s.next_after(after, ctx.workspace.tz)
    if due is not None:
        payload = {"name": s.name, "timing": s.timing(), "n": n}
        ctx.schedule(CALENDAR_JOB, _calendar_slot(s), due, payload)


@rule(
    "engagement",
    "sop_calendar",
    on=["message.posted", "member.joined", "group.created"],
    once_per_channel=True,
)
def arm_calendar(event: Event, ctx: Context) -> Iterable[Decision]:
    """Keep the next occurrence of every calendar schedule pending while there is traffic."""
    cfg = _sop(ctx)
    if not cfg.enabled or not cfg.calendar:
        return ()
    for s in cfg.calendar:
        if s.enabled and ctx.jobs.pending_in_slot(_calendar_slot(s)) is None:
            _arm(ctx, s, ctx.now, 0)
    return ()


def _post(
    ctx: Context,
    item: ContentItem,
    *,
    channel: str,
    group: str,
    group_name: str,
    reason: str,
    key: str,
    member: str | None = None,
    nickname: str | None = None,
    mentions: list[str] | None = None,
) -> Decision:
    data = render(item, ctx.workspace.locale, nickname=nickname or "", group=group_name)
    if member is not None:
        data["mentions"] = [member]
    elif mentions:
        # A segment's members in this group: named in the text too, as a person would.
        names = [member_name(ctx, channel, group, m) for m in mentions]
        data["text"] = f"{mentions_text(names)} {data['text']}"
        data["mentions"] = mentions
    return Decision(
        ActionKind.MESSAGE_SEND,
        reason,
        group=group,
        member=member,
        data=data,
        key=key,
        channel=channel,
    )


@job_handler("engagement", "sop_calendar", kind=CALENDAR_JOB)
def run_calendar(job: Job, ctx: Context) -> Iterable[Decision]:
    """One occurrence: post to each target group now, or at the end of its quiet hours."""
    cfg = _sop(ctx)
    p: dict[str, Any] = job.payload
    s = cfg.schedule(p["name"])
    if not cfg.enabled or s is None or not s.enabled or s.timing() != p["timing"]:
        return ()  # removed, switched off or re-timed: a new chain took over
    n = int(p["n"])
    _arm(ctx, s, job.due_at, n + 1)
    found = [cfg.item(c) for c in s.content] if s.content else cfg.themed(s.theme or "")
    items = [i for i in found if i is not None]
    if not items:
        return ()
    item = items[n % len(items)]  # in turn: occurrence n posts the n-th item
    occurrence = job.due_at.isoformat()
    tz = ctx.workspace.tz
    decisions: list[Decision] = []
    audience: dict[tuple[str, str], list[str]] | None = None
    if s.segment is not None:
        people = segment_members(ctx, s.segment)
        if people is None:
            return [_segment_gone(ctx, s.name, s.segment, occurrence)]
        audience = present_by_group(ctx, people)
    for g in live_groups(ctx):
        if not _targets(s, g.group, g.blueprint):
            continue
        mentions = None
        if audience is not None:
            mentions = audience.get((g.channel, g.group))
            if not mentions:
                continue  # none of the segment is in this group
        eff = _sop_of(ctx, g.group, g.blueprint)
        if not eff.enabled:
            continue
        key = f"sop:calendar:{s.name}:{g.channel}:{g.group}:{occurrence}"
        due = eff.quiet_hours.shift(job.due_at, tz)
        if due > job.due_at:
            ctx.schedule(
                SEND_JOB,
                key,
                due,
                {
                    "channel": g.channel,
                    "group": g.group,
                    "name": s.name,
                    "content": item.id,
                    "key": key,
                    "mentions": mentions,
                },
            )
            continue
        reason = _say("calendar.reason", ctx.workspace.locale, name=s.name, theme=item.theme)
        decisions.append(
            _post(
                ctx,
                item,
                channel=g.channel,
                group=g.group,
                group_name=g.name,
                reason=reason,
                key=key,
                mentions=mentions,
            )
        )
    return decisions


def _segment_gone(ctx: Context, name: str, segment: SegmentRef, occurrence: str) -> Decision:
    return Decision(
        ActionKind.STAFF_TASK,
        _say("segment.gone", ctx.workspace.locale, name=name, segment=segment),
        data={"sop": name, "segment": segment},
        key=f"sop:calendar:{name}:segment-gone:{occurrence}",
    )


@job_handler("engagement", "sop_calendar", kind=SEND_JOB)
def send_after_quiet_hours(job: Job, ctx: Context) -> Iterable[Decision]:
    p: dict[str, Any] = job.payload
    group = ctx.state.group(p["channel"], p["group"])
    if group is None or group.status not in ("active", "full"):
        return ()
    cfg = _sop_of(ctx, p["group"], group.blueprint)
    item = cfg.item(p["content"])
    if not cfg.enabled or item is None:
        return ()
    reason = _say("calendar.reason", ctx.workspace.locale, name=p["name"], theme=item.theme)
    return [
        _post(
            ctx,
            item,
            channel=p["channel"],
            group=p["group"],
            group_name=group.name,
            reason=reason,
            key=p["key"],
            mentions=p.get("mentions"),
        )
    ]


# --- Relative to join --------------------------------------------------------------------------


def _step_due(joined_at: datetime, step: JourneyStep, ctx: Context) -> datetime:
    if step.time is None:
        return joined_at + timedelta(days=step.day, minutes=step.delay_minutes)
    at = at_local(ctx.local_date(joined_at) + timedelta(days=step.day), step.time, ctx.workspace.tz)
    # Day 0 at a time already past: right after the join instead of never.
    return at if at > joined_at else joined_at + timedelta(minutes=step.delay_minutes)


@rule("engagement", "sop_journey", on=["member.joined"])
def start_journey(event: Event, ctx: Context) -> Iterable[Decision]:
    """Schedule each journey step for the newcomer; steps check they are still there."""
    assert event.group is not None and event.member is not None
    group = ctx.state.group(event.channel, event.group)
    if group is None:
        return ()
    # A blueprint or a group may have journeys of its own.
    eff = _sop_of(ctx, event.group, group.blueprint)
    if not eff.enabled or not eff.journeys or is_exempt(ctx, event.member, group.owner):
        return ()
    joined = event.at.isoformat()
    for j in eff.journeys:
        if not j.enabled or not _targets(j, event.group, group.blueprint):
            continue
        for index, step in enumerate(j.steps):
            due = eff.quiet_hours.shift(_step_due(event.at, step, ctx), ctx.workspace.tz)
            slot = f"sop:journey:{j.name}:{index}:{event.channel}:{event.group}:{event.member}"
            ctx.schedule(
                JOURNEY_JOB,
                f"{slot}:{joined}",
                due,
                {
                    "channel": event.channel,
                    "group": event.group,
                    "member": event.member,
                    "name": j.name,
                    "step": index,
                    "day": step.day,
                    "content": step.content,
                    "joined_at": joined,
                    "caused_by": event.id,
                },
            )
    return ()


@job_handler("engagement", "sop_journey", kind=JOURNEY_JOB)
def run_journey_step(job: Job, ctx: Context) -> Iterable[Decision]:
    p: dict[str, Any] = job.payload
    channel, group_id, member = p["channel"], p["group"], p["member"]
    group = ctx.state.group(channel, group_id)
    if group is None:
        return ()
    cfg = _sop_of(ctx, group_id, group.blueprint)
    j = cfg.journey(p["name"])
    item = cfg.item(p["content"])
    ms = ctx.state.membership(channel, group_id, member)
    if not cfg.enabled or j is None or not j.enabled or item is None:
        return ()
    # Gone, or left and came back (the new join has its own journey).
    if ms is None or not ms.active or ms.joined_at != datetime.fromisoformat(p["joined_at"]):
        return ()
    if j.segment is not None and not in_segment(ctx, j.segment, channel, member):
        return ()  # not in the segment (or it is gone) when the step is due
    reason = _say("journey.reason", ctx.workspace.locale, name=j.name, day=p["day"])
    return [
        _post(
            ctx,
            item,
            channel=channel,
            group=group_id,
            group_name=group.name,
            reason=reason,
            key=f"sop:journey:{j.name}:{p['step']}:{channel}:{group_id}:{member}:{p['joined_at']}",
            member=member,
            nickname=ms.nickname or member,
        )
    ]


# --- Export -----------------------------------------------------------------------------------


@register_export(
    "content", ("id", "kind", "theme", "title", "text", "url", "appid", "path", "used_by")
)
def _content(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    """The library as configured, with the schedules and journeys that use each item."""
    cfg = ws.config.sop
    for item in sorted(cfg.library, key=lambda i: i.id):
        used = [
            f"calendar:{s.name}"
            for s in cfg.calendar
            if item.id in s.content or (s.theme is not None and s.theme == item.theme)
        ] + [
            f"journey:{j.name}"
            for j in cfg.journeys
            if any(st.content == item.id for st in j.steps)
        ]
        yield {
            "id": item.id,
            "kind": item.kind,
            "theme": item.theme,
            "title": item.title,
            "text": item.text,
            "url": item.url,
            "appid": item.appid,
            "path": item.path,
            "used_by": used,
        }
