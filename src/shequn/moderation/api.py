"""HTTP routes of moderation: violations, revert, spam samples, ban list, reports, words."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from shequn.exports import EXPORTS, page
from shequn.moderation import service
from shequn.moderation.schemas import (
    BannedOut,
    BanOut,
    LiftedOut,
    ReportOut,
    RevertOut,
    SampleOut,
    ViolationOut,
)
from shequn.platform.db import transaction
from shequn.web.auth import Actor, EngineDep, Now, Workspace
from shequn.web.paging import Offset
from shequn.web.problems import workspace_router

router = workspace_router("moderation", "/moderation")


@router.get(
    "/violations",
    summary="The violations log, oldest first",
    response_model=list[ViolationOut],
)
def list_violations(
    workspace: Workspace,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return page(EXPORTS["violations"].rows(conn, workspace), offset, limit)


class StaffBody(BaseModel):
    by: str = Field(default="staff", min_length=1, max_length=128)


@router.post(
    "/violations/{violation_id}/revert",
    summary="Revert a false positive",
    response_model=RevertOut,
)
def revert(
    violation_id: str,
    body: StaffBody,
    workspace: Workspace,
    engine: EngineDep,
    now: Now,
    actor: Actor,
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return service.do_revert_violation(conn, workspace, violation_id, actor or body.by, now=now)


class SampleBody(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    label: str = Field(default="spam", pattern="^(spam|clean)$")
    by: str = Field(default="staff", max_length=128)


@router.post(
    "/samples",
    summary="Mark a message as spam (or clean) to learn from",
    response_model=SampleOut,
)
def add_sample(
    body: SampleBody, workspace: Workspace, engine: EngineDep, now: Now, actor: Actor
) -> dict[str, Any]:
    with transaction(engine) as conn:
        sample_id = service.do_add_sample(
            conn, workspace, body.text, body.label, by=actor or body.by, now=now
        )
    return {"id": sample_id, "label": body.label}


class BanBody(BaseModel):
    channel: str = Field(default="sandbox", max_length=32)
    member: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=500)
    by: str = Field(default="staff", max_length=128)


@router.get("/banlist", summary="The workspace's ban list", response_model=list[BanOut])
def list_bans(workspace: Workspace, engine: EngineDep) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return list(EXPORTS["banlist"].rows(conn, workspace))


@router.post(
    "/banlist",
    summary="Ban a member from every group of the workspace",
    response_model=BannedOut,
)
def ban(
    body: BanBody, workspace: Workspace, engine: EngineDep, now: Now, actor: Actor
) -> dict[str, Any]:
    with transaction(engine) as conn:
        service.do_ban(
            conn, workspace, body.channel, body.member, body.reason, actor or body.by, now=now
        )
    return {"banned": body.member}


@router.delete("/banlist/{channel}/{member}", summary="Lift a ban", response_model=LiftedOut)
def lift(
    channel: str, member: str, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        service.do_lift_ban(conn, workspace, channel, member, now=now)
    return {"lifted": member}


class ReportBody(BaseModel):
    channel: str = Field(default="sandbox", max_length=32)
    group: str = Field(min_length=1, max_length=128)
    message_id: str = Field(min_length=1, max_length=128)
    author: str = Field(min_length=1, max_length=128)
    reporter: str = Field(min_length=1, max_length=128)
    text: str | None = Field(default=None, max_length=2000)


@router.post("/reports", summary="A member reports a message", response_model=ReportOut)
def report(body: ReportBody, workspace: Workspace, engine: EngineDep, now: Now) -> dict[str, Any]:
    with transaction(engine) as conn:
        outcome = service.do_report_message(
            conn,
            workspace,
            channel=body.channel,
            group=body.group,
            message_id=body.message_id,
            author=body.author,
            reporter=body.reporter,
            text=body.text,
            now=now,
        )
    return {"reports": outcome.reports, "action": outcome.action}


@router.get(
    "/words/{category}", summary="A word list as plain text", response_class=PlainTextResponse
)
def get_words(category: str, workspace: Workspace) -> str:
    return service.export_words(workspace, category)
