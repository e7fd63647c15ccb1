"""HTTP routes of engagement: leaderboards and spending points."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from shequn.engagement.schemas import LeaderOut, SpentOut
from shequn.engagement.service import Board, do_spend_points, leaderboard
from shequn.platform.db import transaction
from shequn.web.auth import EngineDep, Now, Workspace
from shequn.web.problems import workspace_router

router = workspace_router("engagement", "/engagement")


@router.get(
    "/leaderboard",
    summary="Top members by points, earned, check-ins or streak",
    response_model=list[LeaderOut],
)
def get_leaderboard(
    workspace: Workspace,
    engine: EngineDep,
    by: Annotated[Board, Query()] = "points",
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return leaderboard(conn, workspace, by, limit)


class SpendBody(BaseModel):
    channel: str = Field(default="sandbox", max_length=32)
    member: str = Field(min_length=1, max_length=128)
    amount: int = Field(gt=0, le=10_000_000)
    reason: str = Field(min_length=1, max_length=200)
    key: str = Field(min_length=1, max_length=200, description="Idempotency key.")


@router.post(
    "/points/spend",
    summary="Spend a member's points (a redemption)",
    response_model=SpentOut,
)
def spend(body: SpendBody, workspace: Workspace, engine: EngineDep, now: Now) -> dict[str, Any]:
    with transaction(engine) as conn:
        return do_spend_points(
            conn,
            workspace,
            channel=body.channel,
            member=body.member,
            amount=body.amount,
            reason=body.reason,
            key=body.key,
            now=now,
        )
