"""Engine rules of the engagement domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from shequn.actions import ActionKind, Decision
from shequn.engagement.config import WELCOME_VARIABLES
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import Event, MemberJoinedData
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
    cfg = ctx.config.welcome
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
    text_template = ctx.config.welcome.template or template("welcome.default", locale)
    mentions = " ".join(f"@{m['nickname']}" for m in present)
    text = fill(
        text_template,
        WELCOME_VARIABLES,
        mentions=mentions,
        nickname=present[0]["nickname"],
        group=group.name,
        rules=group.notice or "",
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
