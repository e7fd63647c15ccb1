"""Campaigns that target a CRM segment: only its members take part and are rewarded.

Membership is judged at the time of the act (the event's time inside the engine, the
operation's `at` outside it), with the CRM's own segment functions, so replays agree. A
segment deleted since the configuration was applied admits no one. A campaign without a
segment costs nothing here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from shequn.community.workspace import WorkspaceInfo
from shequn.config.growth import AnyCampaign
from shequn.crm.service import filter_members, find_segment
from shequn.engine.rules import Context


def admitted(ctx: Context, spec: AnyCampaign | None, channel: str, member: str) -> bool:
    """Inside the engine: whether the member is in the campaign's segment now."""
    if spec is None or spec.segment is None:
        return True
    from shequn.engagement.segments import in_segment

    return in_segment(ctx, spec.segment, channel, member) is True


def admitted_at(
    conn: Connection,
    ws: WorkspaceInfo,
    spec: AnyCampaign | None,
    channel: str,
    member: str,
    at: datetime,
) -> bool:
    """Outside the engine (the log is written): whether the member is in the segment at `at`."""
    if spec is None or spec.segment is None:
        return True
    found = find_segment(conn, ws, spec.segment)
    if found is None:
        return False
    return bool(filter_members(conn, ws, found["filter"], now=at, among=[(channel, member)]))
