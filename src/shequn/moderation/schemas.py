"""API models of moderation: violations with their evidence, staff operations, the ban list."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shequn.config.moderation import Mode
from shequn.moderation.findings import Action, Category, Severity
from shequn.platform.schemas import Answer, Timestamp


class FindingOut(Answer):
    detector: str
    category: Category
    evidence: str = Field(description="Quoted from the original message.")
    severity: Severity
    value: str | None = Field(description="The normalised thing that matched.")


class ViolationOut(Answer):
    id: str
    channel: str
    group: str
    member: str
    message_id: str | None
    detector: str
    category: Category
    findings: list[FindingOut]
    text: str | None
    mode: Mode
    offence: int
    actions: list[Action]
    caused_by: str
    at: Timestamp
    reverted_at: Timestamp | None
    reverted_by: str | None


class RevertOut(Answer):
    violation: str
    refunded_points: int
    restore_task: bool = Field(description="Whether staff were asked to bring the member back.")


class SampleOut(Answer):
    id: int
    label: Literal["spam", "clean"]


class BanOut(Answer):
    channel: str
    member: str
    reason: str
    by: str | None
    at: Timestamp
    lifted_at: Timestamp | None


class BannedOut(Answer):
    banned: str


class LiftedOut(Answer):
    lifted: str


class ReportOut(Answer):
    reports: int = Field(description="Reports of this message so far.")
    action: Literal["recorded", "notified", "acted"]
