"""HTTP routes of the sandbox channel: post as a member, read a group's history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from shequn.channels.sandbox.schemas import HistoryMessage, PostedOut
from shequn.channels.sandbox.service import do_post_message, group_history
from shequn.engine.ingest import IngestResult, caught_up
from shequn.events import MessageKind, RequestInstant
from shequn.platform.db import transaction
from shequn.web.auth import EngineDep, Latest, Now, Workspace
from shequn.web.problems import workspace_router

router = workspace_router("sandbox", "/sandbox")


class PostMessage(BaseModel):
    group: str = Field(min_length=1, max_length=128)
    member: str = Field(min_length=1, max_length=128)
    text: str | None = Field(default=None, max_length=20_000)
    kind: MessageKind = "text"
    url: str | None = Field(default=None, max_length=2048)
    qr: str | None = Field(default=None, max_length=2048)
    mentions: list[str] | None = Field(default=None, max_length=500)
    message_id: str | None = Field(default=None, max_length=128)
    at: RequestInstant | None = None


@router.post(
    "/messages", summary="Post as a member; answers the actions decided", response_model=PostedOut
)
def post_message(
    body: PostMessage, workspace: Workspace, engine: EngineDep, now: Now, latest: Latest
) -> dict[str, Any]:
    extra = {
        k: v for k, v in (("url", body.url), ("qr", body.qr), ("mentions", body.mentions)) if v
    }

    def post() -> IngestResult:
        with transaction(engine) as conn:
            return do_post_message(
                conn,
                workspace,
                body.group,
                body.member,
                body.text,
                kind=body.kind,
                extra=extra,
                at=body.at or now,
                message_id=body.message_id,
                latest=latest,
            )

    result = caught_up(engine, workspace, post)
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "actions": [a.public() for a in result.actions],
    }


@router.get(
    "/groups/{group}/messages",
    summary="A sandbox group's history",
    response_model=list[HistoryMessage],
    response_model_exclude_unset=True,
)
def get_history(
    group: str,
    workspace: Workspace,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = group_history(conn, workspace, group, limit)
    for row in rows:
        at: datetime = row["at"]
        row["at"] = at.isoformat().replace("+00:00", "Z")
    return rows
