"""CRM segments as robot targets: who is in a segment at a job's or an event's time, where
those members are, and the check that every segment a configuration names exists.

A segment is evaluated at `ctx.now` (the job's due time or the event's time), after the
transaction's projections and tags are written out, so the answer depends only on what the
log held by then — not on batch boundaries or the wall clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, select

from shequn.community.config import ConfigError
from shequn.community.models import memberships
from shequn.community.workspace import WorkspaceInfo
from shequn.config.engagement import SegmentRef
from shequn.crm.rules import TagBook
from shequn.crm.service import filter_members, find_segment
from shequn.engine.rules import Context
from shequn.platform.db import chunks


def _written_out(ctx: Context) -> Connection:
    # The segment query reads members, memberships and tags from the database.
    ctx.state.flush()
    ctx.book(TagBook).flush()
    return ctx.state.conn


def segment_members(ctx: Context, ref: SegmentRef) -> set[tuple[str, str]] | None:
    """(channel, member) of everyone in the segment now; None if the segment is gone."""
    conn = _written_out(ctx)
    found = find_segment(conn, ctx.workspace, ref)
    if found is None:
        return None
    return set(filter_members(conn, ctx.workspace, found["filter"], now=ctx.now))


def in_segment(ctx: Context, ref: SegmentRef, channel: str, member: str) -> bool | None:
    """Whether one member is in the segment now; None if the segment is gone."""
    conn = _written_out(ctx)
    found = find_segment(conn, ctx.workspace, ref)
    if found is None:
        return None
    among = [(channel, member)]
    return bool(filter_members(conn, ctx.workspace, found["filter"], now=ctx.now, among=among))


def present_by_group(
    ctx: Context, people: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[str]]:
    """(channel, group) -> the given members active there, sorted."""
    by_channel: dict[str, list[str]] = defaultdict(list)
    for channel, member in sorted(set(people)):
        by_channel[channel].append(member)
    conn = _written_out(ctx)
    t = memberships
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for channel, ids in by_channel.items():
        for part in chunks(ids, 500):
            rows = conn.execute(
                select(t.c.group_ext, t.c.member_ext)
                .where(t.c.workspace_id == ctx.workspace.id)
                .where(t.c.channel == channel)
                .where(t.c.active.is_(True))
                .where(t.c.member_ext.in_(part))
            )
            for group, member in rows:
                found[(channel, group)].append(member)
    return {key: sorted(members) for key, members in found.items()}


# --- The apply-time check ----------------------------------------------------------------------


def _segment_refs(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(path, reference) of every `segment` the robot's sections name, in every layer."""
    layers: list[tuple[str, Any]] = [("", document)]
    for name, plan in (document.get("blueprints") or {}).items():
        layers.append((f"blueprints.{name}.settings.", (plan or {}).get("settings")))
    overrides = (document.get("groups") or {}).get("overrides") or {}
    for group, override in overrides.items():
        layers.append((f"groups.overrides.{group}.settings.", (override or {}).get("settings")))
    lists = (("sop", "calendar"), ("sop", "journeys"), ("activities", "items"))
    for prefix, layer in layers:
        if not isinstance(layer, dict):
            continue
        for section, key in lists:
            for i, item in enumerate((layer.get(section) or {}).get(key) or []):
                if isinstance(item, dict) and item.get("segment") is not None:
                    yield f"{prefix}{section}.{key}.{i}.segment", item["segment"]


def check_segments_exist(
    conn: Connection, ws: WorkspaceInfo, document: dict[str, Any]
) -> list[ConfigError]:
    return [
        ConfigError(path, f"no CRM segment {ref!r} in this workspace")
        for path, ref in _segment_refs(document)
        if find_segment(conn, ws, ref) is None
    ]
