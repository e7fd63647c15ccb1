"""Folds one event into the community projections (groups, members, memberships)."""

from __future__ import annotations

from shequn.engine.state import BatchState, GroupState, MembershipState, MemberState
from shequn.events import (
    STAFF_EVENT_TYPES,
    Event,
    GroupCreatedData,
    GroupUpdatedData,
    MemberJoinedData,
    MemberLeftData,
    MemberRenamedData,
    OrderPaidData,
    OrderRefundedData,
)


def ensure_group(state: BatchState, event: Event, default_capacity: int) -> GroupState:
    """The event's group, made on first sight: channels do not always announce new groups."""
    assert event.group is not None
    key = (event.channel, event.group)
    group = state.groups.get(key)
    if group is None:
        group = state.groups.add(
            key,
            GroupState(
                channel=event.channel,
                ext_id=event.group,
                name=event.group,
                status="active",
                capacity=default_capacity,
                member_count=0,
                created_at=event.at,
            ),
        )
    return group  # type: ignore[no-any-return]


def ensure_member(state: BatchState, event: Event, ext_id: str) -> MemberState:
    key = (event.channel, ext_id)
    member = state.members.get(key)
    if member is None:
        member = state.members.add(
            key,
            MemberState(
                channel=event.channel,
                ext_id=ext_id,
                first_seen_at=event.at,
                last_seen_at=event.at,
            ),
        )
    else:
        if event.at > member.last_seen_at:
            member.last_seen_at = event.at
        state.members.touch(key)
    return member  # type: ignore[no-any-return]


def _ensure_membership(state: BatchState, event: Event) -> MembershipState:
    assert event.group is not None and event.member is not None
    key = (event.channel, event.group, event.member)
    ms = state.memberships.get(key)
    if ms is None:
        ms = state.memberships.add(key, MembershipState(event.channel, event.group, event.member))
    else:
        state.memberships.touch(key)
    return ms  # type: ignore[no-any-return]


def _refresh_status(group: GroupState) -> None:
    if group.status in ("active", "full"):
        group.status = "full" if group.member_count >= group.capacity else "active"


def project(state: BatchState, event: Event, default_capacity: int) -> None:
    """Apply one event to the projections. Pure state change: no decisions here."""
    etype = event.type
    if etype == "message.posted":
        group = ensure_group(state, event, default_capacity)
        assert event.member is not None
        member = ensure_member(state, event, event.member)
        ms = _ensure_membership(state, event)
        if not ms.active and ms.joins == 0:
            # Speaking proves presence even when the join predates our history.
            _join(group, member, ms, event, None)
            state.groups.touch((event.channel, group.ext_id))
        ms.message_count += 1
        ms.last_spoke_at = event.at
        member.message_count += 1
        member.last_spoke_at = event.at
        return
    if etype == "member.joined":
        group = ensure_group(state, event, default_capacity)
        assert event.member is not None and isinstance(event.data, MemberJoinedData)
        member = ensure_member(state, event, event.member)
        ms = _ensure_membership(state, event)
        _join(group, member, ms, event, event.data)
        if event.data.inviter:
            ensure_member(state, event, event.data.inviter)
        state.groups.touch((event.channel, group.ext_id))
        return
    if etype == "member.left":
        group = ensure_group(state, event, default_capacity)
        assert event.member is not None and isinstance(event.data, MemberLeftData)
        member = ensure_member(state, event, event.member)
        ms = _ensure_membership(state, event)
        if ms.active:
            ms.active = False
            group.member_count = max(0, group.member_count - 1)
            member.groups_in = max(0, member.groups_in - 1)
            _refresh_status(group)
            state.groups.touch((event.channel, group.ext_id))
        ms.left_at = event.at
        ms.left_reason = event.data.reason
        ms.left_by = event.data.by
        return
    if etype == "member.renamed":
        ensure_group(state, event, default_capacity)
        assert event.member is not None and isinstance(event.data, MemberRenamedData)
        member = ensure_member(state, event, event.member)
        ms = _ensure_membership(state, event)
        ms.nickname = event.data.nickname
        member.nickname = event.data.nickname
        return
    if etype == "group.created":
        assert isinstance(event.data, GroupCreatedData)
        data = event.data
        group = ensure_group(state, event, data.capacity or default_capacity)
        group.name = data.name
        group.blueprint = data.blueprint
        group.capacity = data.capacity or group.capacity
        group.owner = data.owner
        group.ends_at = data.ends_at
        _refresh_status(group)
        state.groups.touch((event.channel, group.ext_id))
        return
    if etype == "group.updated":
        assert isinstance(event.data, GroupUpdatedData)
        group = ensure_group(state, event, default_capacity)
        if event.data.name is not None:
            group.name = event.data.name
        if event.data.notice is not None:
            group.notice = event.data.notice
        if event.data.owner is not None:
            group.owner = event.data.owner
        state.groups.touch((event.channel, group.ext_id))
        return
    if etype == "group.dismissed":
        group = ensure_group(state, event, default_capacity)
        group.status = "dismissed"
        group.dismissed_at = event.at
        state.groups.touch((event.channel, group.ext_id))
        return
    if etype in STAFF_EVENT_TYPES:
        return  # what staff did is not the member's activity: their rules apply it
    if event.member is not None:
        member = ensure_member(state, event, event.member)
        if isinstance(event.data, OrderPaidData):
            member.orders += 1
            member.spent_fen += event.data.amount_fen
        elif isinstance(event.data, OrderRefundedData):
            member.spent_fen = max(0, member.spent_fen - event.data.amount_fen)


def _join(
    group: GroupState,
    member: MemberState,
    ms: MembershipState,
    event: Event,
    data: MemberJoinedData | None,
) -> None:
    if not ms.active:
        ms.active = True
        group.member_count += 1
        member.groups_in += 1
        _refresh_status(group)
    ms.joins += 1
    ms.joined_at = event.at
    ms.left_at = ms.left_reason = ms.left_by = None
    if data is not None:
        ms.nickname = data.nickname
        ms.join_scene = data.scene
        ms.inviter = data.inviter
        ms.code = data.code
        ms.state = data.state
        member.nickname = data.nickname
    if member.first_joined_at is None:
        # First touch is kept for good: later joins never rewrite attribution.
        member.first_joined_at = event.at
        member.first_group = group.ext_id
        if data is not None:
            member.first_scene = data.scene
            member.first_code = data.code
            member.first_state = data.state
            member.first_inviter = data.inviter
