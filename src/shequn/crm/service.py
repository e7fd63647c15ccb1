"""CRM operations: profiles, custom fields, notes, tags, segments and a member's timeline.

Services never commit: the request or the command owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, tuple_, update

from shequn.community.models import members
from shequn.community.service import NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.crm.models import (
    custom_fields,
    member_tags,
    notes,
    profiles,
    segments,
    tag_groups,
    tags,
)
from shequn.crm.schemas import (
    PROFILE_FIELDS,
    CustomFieldIn,
    NoteIn,
    ProfileIn,
)
from shequn.crm.segments import base_query, check_filter, compile_filter, dump_filter
from shequn.crm.texts import say
from shequn.engine.models import actions, events
from shequn.platform.errors import Invalid


def _checkin_keywords(ws: WorkspaceInfo) -> list[str]:
    return list(ws.config.checkin.keywords)


# --- custom fields ---------------------------------------------------------------------------


def list_custom_fields(conn: Connection, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    t = custom_fields
    stmt = select(t.c.key, t.c.label, t.c.type, t.c.choices).where(t.c.workspace_id == ws.id)
    return [dict(r) for r in conn.execute(stmt.order_by(t.c.key)).mappings()]


def do_define_custom_field(
    conn: Connection, ws: WorkspaceInfo, spec: CustomFieldIn, *, now: datetime
) -> dict[str, Any]:
    if spec.type == "choice" and not spec.choices:
        raise Invalid(say, "crm.choices_needed", key=spec.key)
    t = custom_fields
    exists = conn.execute(
        select(t.c.id).where(t.c.workspace_id == ws.id, t.c.key == spec.key)
    ).first()
    values = {"label": spec.label, "type": spec.type, "choices": list(spec.choices)}
    if exists is None:
        conn.execute(t.insert().values(workspace_id=ws.id, key=spec.key, created_at=now, **values))
    else:
        conn.execute(update(t).where(t.c.id == exists[0]).values(**values))
    return {"key": spec.key, **values}


def check_custom_value(field: dict[str, Any], value: Any) -> Any:
    """A custom field's value in its stored form; ValueError when it does not fit the type."""
    if value is None or value == "":
        return None
    kind = field["type"]
    if kind == "number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
        return int(number) if number.is_integer() else number
    if kind == "bool":
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "y", "是", "true()"):
            return True
        if text in ("0", "false", "no", "n", "否"):
            return False
        raise ValueError(f"{value!r} is not yes/no (是/否)")
    if kind == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    text = str(value).strip()
    if kind == "choice" and text not in field["choices"]:
        raise ValueError(f"{value!r} is not one of: {', '.join(field['choices'])}")
    if len(text) > 500:
        raise ValueError("longer than 500 characters")
    return text


def check_custom(conn: Connection, ws: WorkspaceInfo, values: dict[str, Any]) -> dict[str, Any]:
    defined = {f["key"]: f for f in list_custom_fields(conn, ws)}
    out = {}
    for key, value in values.items():
        if key not in defined:
            raise Invalid(say, "crm.no_field", key=key)
        try:
            out[key] = check_custom_value(defined[key], value)
        except ValueError as exc:
            raise Invalid(say, "crm.bad_custom", key=key, reason=exc) from None
    return out


# --- profiles --------------------------------------------------------------------------------


def _profile_row(conn: Connection, ws: WorkspaceInfo, channel: str, member: str) -> Any:
    t = profiles
    return (
        conn.execute(
            select(t).where(
                t.c.workspace_id == ws.id, t.c.channel == channel, t.c.member_ext == member
            )
        )
        .mappings()
        .first()
    )


def do_upsert_profile(
    conn: Connection,
    ws: WorkspaceInfo,
    channel: str,
    member: str,
    change: ProfileIn,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Apply a change: fields given are set (null clears), others are kept."""
    values = change.model_dump(exclude_unset=True, mode="json")
    if "custom" in values:
        values["custom"] = check_custom(conn, ws, values["custom"] or {})
    upsert_profile_values(conn, ws, channel, member, values, now)
    return access_profile(conn, ws, channel, member)


def upsert_profile_values(
    conn: Connection,
    ws: WorkspaceInfo,
    channel: str,
    member: str,
    values: dict[str, Any],
    now: datetime,
) -> None:
    """Store already-checked values (custom values merge into the stored ones)."""
    t = profiles
    row = _profile_row(conn, ws, channel, member)
    if row is None:
        base: dict[str, Any] = {f: None for f in PROFILE_FIELDS}
        base.update(pains=[], custom={})
        base.update(values)
        base["pains"] = base["pains"] or []
        base["custom"] = {k: v for k, v in (base["custom"] or {}).items() if v is not None}
        conn.execute(
            t.insert().values(
                workspace_id=ws.id, channel=channel, member_ext=member, updated_at=now, **base
            )
        )
    else:
        if "custom" in values:
            merged = dict(row["custom"] or {})
            merged.update(values["custom"] or {})
            values["custom"] = {k: v for k, v in merged.items() if v is not None}
        if "pains" in values and values["pains"] is None:
            values["pains"] = []
        conn.execute(update(t).where(t.c.id == row["id"]).values(updated_at=now, **values))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def access_profile(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str
) -> dict[str, Any]:
    """The member's profile with what the community knows: first touch, activity, tags."""
    row = _profile_row(conn, ws, channel, member)
    m = (
        conn.execute(
            select(members).where(
                members.c.workspace_id == ws.id,
                members.c.channel == channel,
                members.c.ext_id == member,
            )
        )
        .mappings()
        .first()
    )
    if row is None and m is None:
        raise NotFound(say, "crm.no_member", member=member, channel=channel)
    out: dict[str, Any] = {"channel": channel, "member": member}
    for f in PROFILE_FIELDS:
        out[f] = row[f] if row is not None else ([] if f == "pains" else None)
    out["custom"] = dict(row["custom"]) if row is not None else {}
    out["nickname"] = m["nickname"] if m else None
    out["first_touch"] = (
        {
            "joined_at": _plain(m["first_joined_at"]),
            "group": m["first_group"],
            "scene": m["first_scene"],
            "code": m["first_code"],
            "state": m["first_state"],
            "inviter": m["first_inviter"],
        }
        if m
        else None
    )
    out["message_count"] = m["message_count"] if m else 0
    out["last_spoke_at"] = _plain(m["last_spoke_at"]) if m else None
    out["blacklisted"] = bool(m["blacklisted"]) if m else False
    out["tags"] = [t["tag"] for t in member_tag_list(conn, ws, channel, member)]
    return out


def iter_profiles(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    """Every profile with its tags, in a stable order (for exports and the persona report)."""
    tagged: dict[tuple[str, str], list[str]] = {}
    mt = member_tags
    for ch, mem, tag in conn.execute(
        select(mt.c.channel, mt.c.member_ext, mt.c.tag)
        .where(mt.c.workspace_id == ws.id)
        .order_by(mt.c.tag)
    ):
        tagged.setdefault((ch, mem), []).append(tag)
    t = profiles
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.channel, t.c.member_ext)
    for r in conn.execute(stmt).mappings():
        row = {"channel": r["channel"], "member": r["member_ext"]}
        row.update({f: r[f] for f in PROFILE_FIELDS})
        row["custom"] = dict(r["custom"] or {})
        row["tags"] = tagged.get((r["channel"], r["member_ext"]), [])
        yield row


# --- notes -----------------------------------------------------------------------------------


def do_add_note(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str, note: NoteIn, *, now: datetime
) -> dict[str, Any]:
    at = (note.at or now).astimezone(UTC)
    new_id = conn.execute(
        notes.insert().values(
            workspace_id=ws.id,
            channel=channel,
            member_ext=member,
            author=note.author,
            text=note.text,
            at=at,
        )
    ).inserted_primary_key
    assert new_id is not None
    return {"id": int(new_id[0]), "author": note.author, "text": note.text, "at": at.isoformat()}


def list_notes(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str
) -> list[dict[str, Any]]:
    t = notes
    stmt = (
        select(t.c.id, t.c.author, t.c.text, t.c.at)
        .where(t.c.workspace_id == ws.id, t.c.channel == channel, t.c.member_ext == member)
        .order_by(t.c.at, t.c.id)
    )
    return [
        {"id": r["id"], "author": r["author"], "text": r["text"], "at": r["at"].isoformat()}
        for r in conn.execute(stmt).mappings()
    ]


# --- tags ------------------------------------------------------------------------------------


def do_create_tag(
    conn: Connection, ws: WorkspaceInfo, name: str, group: str | None = None, kind: str = "manual"
) -> dict[str, Any]:
    """A tag (and its group, if new); an existing tag of that name is returned as is."""
    if group is not None:
        g = tag_groups
        if (
            conn.execute(select(g.c.id).where(g.c.workspace_id == ws.id, g.c.name == group)).first()
            is None
        ):
            conn.execute(g.insert().values(workspace_id=ws.id, name=group))
    t = tags
    found = conn.execute(
        select(t.c.name, t.c.group_name, t.c.kind).where(
            t.c.workspace_id == ws.id, t.c.name == name
        )
    ).first()
    if found is not None:
        return {"name": found[0], "group": found[1], "kind": found[2]}
    conn.execute(t.insert().values(workspace_id=ws.id, name=name, group_name=group, kind=kind))
    return {"name": name, "group": group, "kind": kind}


def list_tags(conn: Connection, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    """Every tag with its group, kind and how many members carry it."""
    t, mt = tags, member_tags
    counts: dict[str, int] = dict(
        conn.execute(
            select(mt.c.tag, func.count()).where(mt.c.workspace_id == ws.id).group_by(mt.c.tag)
        ).all()
    )
    rows = conn.execute(
        select(t.c.name, t.c.group_name, t.c.kind)
        .where(t.c.workspace_id == ws.id)
        .order_by(t.c.group_name, t.c.name)
    ).all()
    known = {r[0] for r in rows}
    out = [
        {"name": r[0], "group": r[1], "kind": r[2], "members": int(counts.get(r[0], 0))}
        for r in rows
    ]
    # Auto-tags attached by rules before anyone defined them are still listed.
    out += [
        {"name": n, "group": None, "kind": "rule", "members": int(c)}
        for n, c in sorted(counts.items())
        if n not in known
    ]
    return out


def member_tag_list(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str
) -> list[dict[str, Any]]:
    mt = member_tags
    stmt = (
        select(mt.c.tag, mt.c.source, mt.c.at)
        .where(mt.c.workspace_id == ws.id, mt.c.channel == channel, mt.c.member_ext == member)
        .order_by(mt.c.tag)
    )
    return [
        {"tag": r["tag"], "source": r["source"], "at": r["at"].isoformat()}
        for r in conn.execute(stmt).mappings()
    ]


def do_tag_member(
    conn: Connection,
    ws: WorkspaceInfo,
    channel: str,
    member: str,
    tag: str,
    source: str = "manual",
    *,
    now: datetime,
) -> bool:
    """Attach a tag; False if the member already had it."""
    do_create_tag(conn, ws, tag)
    mt = member_tags
    exists = conn.execute(
        select(mt.c.id).where(
            mt.c.workspace_id == ws.id,
            mt.c.channel == channel,
            mt.c.member_ext == member,
            mt.c.tag == tag,
        )
    ).first()
    if exists is not None:
        return False
    conn.execute(
        mt.insert().values(
            workspace_id=ws.id,
            channel=channel,
            member_ext=member,
            tag=tag,
            source=source,
            at=now,
        )
    )
    return True


def do_untag_member(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str, tag: str
) -> bool:
    mt = member_tags
    result = conn.execute(
        delete(mt).where(
            mt.c.workspace_id == ws.id,
            mt.c.channel == channel,
            mt.c.member_ext == member,
            mt.c.tag == tag,
        )
    )
    return bool(result.rowcount)


# --- segments --------------------------------------------------------------------------------


def count_filter(conn: Connection, ws: WorkspaceInfo, document: Any, *, now: datetime) -> int:
    """The live count of a filter tree (validated first)."""
    node = check_filter(document)
    query, u = base_query(ws.id, func.count())
    clause = compile_filter(node, ws.id, u, now, _checkin_keywords(ws))
    return int(conn.execute(query.where(clause)).scalar_one())


def filter_members(
    conn: Connection,
    ws: WorkspaceInfo,
    document: Any,
    *,
    now: datetime,
    among: Sequence[tuple[str, str]] | None = None,
) -> list[tuple[str, str]]:
    """(channel, member) of everyone a filter tree selects, in a stable order; with `among`,
    only those of these members (one newcomer, say) are looked at."""
    node = check_filter(document)
    query, u = base_query(ws.id)
    query = query.add_columns(u.c.channel, u.c.member)
    clause = compile_filter(node, ws.id, u, now, _checkin_keywords(ws))
    stmt = query.where(clause).order_by(u.c.channel, u.c.member)
    if among is not None:
        if not among:
            return []
        stmt = stmt.where(tuple_(u.c.channel, u.c.member).in_(list(among)))
    return [(str(r[0]), str(r[1])) for r in conn.execute(stmt)]


def do_save_segment(
    conn: Connection,
    ws: WorkspaceInfo,
    name: str,
    document: Any,
    description: str | None = None,
    *,
    now: datetime,
) -> dict[str, Any]:
    if not name or len(name) > 64:
        raise Invalid(say, "crm.bad_segment_name")
    node = check_filter(document)
    stored = dump_filter(node)
    t = segments
    exists = conn.execute(select(t.c.id).where(t.c.workspace_id == ws.id, t.c.name == name)).first()
    if exists is None:
        conn.execute(
            t.insert().values(
                workspace_id=ws.id,
                name=name,
                description=description,
                filter=stored,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        conn.execute(
            update(t)
            .where(t.c.id == exists[0])
            .values(filter=stored, description=description, updated_at=now)
        )
    return {"name": name, "description": description, "filter": stored}


def access_segment(conn: Connection, ws: WorkspaceInfo, name: str) -> dict[str, Any]:
    t = segments
    row = conn.execute(
        select(t.c.name, t.c.description, t.c.filter).where(
            t.c.workspace_id == ws.id, t.c.name == name
        )
    ).first()
    if row is None:
        raise NotFound(say, "crm.no_segment", name=name)
    return {"name": row[0], "description": row[1], "filter": row[2]}


def list_segments(conn: Connection, ws: WorkspaceInfo, *, now: datetime) -> list[dict[str, Any]]:
    """Saved segments with their live counts."""
    t = segments
    rows = conn.execute(
        select(t.c.name, t.c.description, t.c.filter)
        .where(t.c.workspace_id == ws.id)
        .order_by(t.c.name)
    ).all()
    return [
        {
            "name": r[0],
            "description": r[1],
            "filter": r[2],
            "count": count_filter(conn, ws, r[2], now=now),
        }
        for r in rows
    ]


def segment_members(
    conn: Connection, ws: WorkspaceInfo, name: str, *, now: datetime
) -> list[tuple[str, str]]:
    """The members of a saved segment at `now`: what pushes, SOPs and campaigns target."""
    return filter_members(conn, ws, access_segment(conn, ws, name)["filter"], now=now)


def find_segment(conn: Connection, ws: WorkspaceInfo, ref: str | int) -> dict[str, Any] | None:
    """A saved segment by name, or by id when `ref` is a number; None if there is none."""
    t = segments
    by = t.c.id == ref if isinstance(ref, int) else t.c.name == ref
    row = conn.execute(
        select(t.c.id, t.c.name, t.c.filter).where(t.c.workspace_id == ws.id, by)
    ).first()
    return None if row is None else {"id": row[0], "name": row[1], "filter": row[2]}


def do_delete_segment(conn: Connection, ws: WorkspaceInfo, name: str) -> None:
    t = segments
    result = conn.execute(delete(t).where(t.c.workspace_id == ws.id, t.c.name == name))
    if not result.rowcount:
        raise NotFound(say, "crm.no_segment", name=name)


# --- timeline --------------------------------------------------------------------------------


def timeline(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str, limit: int = 200
) -> list[dict[str, Any]]:
    """The member's events, the actions decided about them, notes and tags, newest first."""
    e, a = events, actions
    items: list[dict[str, Any]] = []
    for r in conn.execute(
        select(e.c.ext_id, e.c.type, e.c.group_ext, e.c.at, e.c.data)
        .where(e.c.workspace_id == ws.id, e.c.channel == channel, e.c.member_ext == member)
        .order_by(e.c.at.desc(), e.c.seq.desc())
        .limit(limit)
    ).mappings():
        items.append(
            {
                "at": r["at"],
                "what": "event",
                "type": r["type"],
                "group": r["group_ext"],
                "id": r["ext_id"],
                "data": r["data"],
            }
        )
    for r in conn.execute(
        select(a.c.id, a.c.kind, a.c.group_ext, a.c.decided_at, a.c.rule, a.c.reason, a.c.status)
        .where(a.c.workspace_id == ws.id, a.c.channel == channel, a.c.member_ext == member)
        .order_by(a.c.decided_at.desc())
        .limit(limit)
    ).mappings():
        items.append(
            {
                "at": r["decided_at"],
                "what": "action",
                "type": r["kind"],
                "group": r["group_ext"],
                "id": r["id"],
                "data": {"rule": r["rule"], "reason": r["reason"], "status": r["status"]},
            }
        )
    for n in list_notes(conn, ws, channel, member):
        items.append(
            {
                "at": datetime.fromisoformat(n["at"]),
                "what": "note",
                "type": "note",
                "group": None,
                "id": str(n["id"]),
                "data": {"author": n["author"], "text": n["text"]},
            }
        )
    for tg in member_tag_list(conn, ws, channel, member):
        items.append(
            {
                "at": datetime.fromisoformat(tg["at"]),
                "what": "tag",
                "type": "tag",
                "group": None,
                "id": tg["tag"],
                "data": {"tag": tg["tag"], "source": tg["source"]},
            }
        )
    items.sort(key=lambda item: item["at"], reverse=True)
    return [{**item, "at": item["at"].isoformat()} for item in items[:limit]]


def known_members(
    conn: Connection, ws: WorkspaceInfo, keys: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these member keys have a profile already."""
    t = profiles
    found: set[tuple[str, str]] = set()
    by_channel: dict[str, list[str]] = {}
    for ch, m in keys:
        by_channel.setdefault(ch, []).append(m)
    for ch, ms in by_channel.items():
        for start in range(0, len(ms), 500):
            part = ms[start : start + 500]
            found.update(
                (str(r[0]), str(r[1]))
                for r in conn.execute(
                    select(t.c.channel, t.c.member_ext).where(
                        and_(t.c.workspace_id == ws.id, t.c.channel == ch, t.c.member_ext.in_(part))
                    )
                )
            )
    return found
