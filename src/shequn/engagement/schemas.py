"""API models of engagement: the leaderboard and spending points."""

from __future__ import annotations

from pydantic import Field

from shequn.platform.schemas import Answer


class LeaderOut(Answer):
    rank: int
    channel: str
    member: str
    level: str
    points: int = Field(description="The balance.")
    earned: int
    checkins: int
    streak: int


class SpentOut(Answer):
    member: str
    spent: int = Field(description="Points taken now: 0 for a repeated key.")
    balance: int
    duplicate: bool = Field(description="The key was spent before; nothing changed.")
