"""Live codes 活码 and acquisition sources 来源渠道: one stable QR / URL that sends each scan to the
first group of its pool that is not full, and makes the next group when all are full.

A scan holds the workspace's writer lock for its short transaction, the lock every ingest
takes anyway: admission, group creation and the `code.scanned` event are therefore decided
one at a time per workspace, from any number of processes, and no group is over-admitted.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, or_, select, update

from shequn.actions import ActionKind, Decision
from shequn.community.models import groups
from shequn.community.service import Conflict, NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import ingest_batch
from shequn.engine.outbox import OutboxWriter
from shequn.events import BatchRejected, Event, parse_event
from shequn.growth.models import code_scans, live_code_groups, live_codes
from shequn.growth.texts import say
from shequn.platform.db import insert_ignore, lock_workspace
from shequn.platform.errors import Invalid

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
SELF_MADE = ("sandbox",)
"""Chat platforms whose groups Shequn makes itself; elsewhere a new group is a staff task."""


KEY_NAMES = {"code": "活码", "campaign": "活动", "source": "来源渠道", "shop": "店铺"}


def check_key(value: str, what: str = "code") -> str:
    if not CODE.match(value):
        what_zh = KEY_NAMES.get(what, what)
        raise Invalid(say, "growth.bad_key", what=what, what_zh=what_zh, value=value)
    return value


# --- Acquisition sources -------------------------------------------------------------------


def do_upsert_source(
    conn: Connection,
    ws: WorkspaceInfo,
    key: str,
    name: str | None = None,
    kind: str = "other",
    cost_fen: int = 0,
) -> dict[str, Any]:
    """Create an acquisition source or update its name, kind and lump cost — in the
    workspace configuration (`analytics.sources`), the one place source costs live; its
    states, codes, per-member and dated costs are kept."""
    from shequn.community.service import do_apply_config, stored_config

    check_key(key, "source")
    if cost_fen < 0:
        raise Invalid(say, "growth.negative_cost")
    stored = stored_config(conn, ws.slug)  # renamed keys already under their new names
    section = dict(stored.get("analytics") or {})
    sources = [dict(c) for c in section.get("sources") or []]
    entry = next((c for c in sources if c.get("name") == key), None)
    if entry is None:
        entry = {"name": key}
        sources.append(entry)
    entry.update(label=name or entry.get("label") or key, kind=kind, cost_fen=cost_fen)
    section["sources"] = sources
    stored["analytics"] = section
    do_apply_config(conn, ws.slug, stored)
    return {"key": key, "name": entry["label"], "kind": kind, "cost_fen": cost_fen}


def code_sources(conn: Connection, ws: WorkspaceInfo) -> dict[str, str]:
    """Each live code made for an acquisition source (`--source`), with that source."""
    t = live_codes
    rows = conn.execute(
        select(t.c.code, t.c.source).where(and_(t.c.workspace_id == ws.id, t.c.source.is_not(None)))
    )
    return {str(code): str(source) for code, source in rows}


# --- Live codes ----------------------------------------------------------------------------


def do_create_code(
    conn: Connection,
    ws: WorkspaceInfo,
    code: str,
    *,
    name: str | None = None,
    channel: str = "sandbox",
    state: str | None = None,
    source: str | None = None,
    campaign: str | None = None,
    blueprint: str | None = None,
    base_name: str | None = None,
    groups_: list[str] | None = None,
    admissions_cap: int | None = None,
    group_capacity: int | None = None,
    at: datetime,
) -> dict[str, Any]:
    """A live code with a pool of existing groups (possibly none yet)."""
    check_key(code)
    if not CHANNEL.match(channel):
        raise Invalid(say, "growth.bad_channel", channel=channel)
    if source is not None:
        check_key(source, "source")
    defaults = ws.config.growth.live_codes
    cap = admissions_cap or defaults.admissions_per_group
    capacity = group_capacity or defaults.group_capacity
    if cap < 1 or capacity < 1:
        raise Invalid(say, "growth.bad_capacity")
    t = live_codes
    exists = conn.execute(
        select(t.c.id).where(and_(t.c.workspace_id == ws.id, t.c.code == code))
    ).first()
    if exists is not None:
        raise Conflict(say, "growth.code_exists", code=code)
    now = at
    token = secrets.token_urlsafe(9)
    code_id = conn.execute(
        t.insert().values(
            workspace_id=ws.id,
            code=code,
            token=token,
            name=name or code,
            channel=channel,
            state=state,
            source=source,
            campaign=campaign,
            blueprint=blueprint,
            base_name=base_name or blueprint or name or code,
            admissions_cap=cap,
            group_capacity=capacity,
            next_number=len(groups_ or []) + 1,
            status="active",
            created_at=now,
        )
    ).inserted_primary_key
    assert code_id is not None
    for group in groups_ or []:
        do_add_group(conn, ws, code, group, at=now)
    return access_code(conn, ws, code)


_CODE = select(live_codes).where(
    and_(live_codes.c.workspace_id == bindparam("ws"), live_codes.c.code == bindparam("code"))
)


def _code_row(conn: Connection, ws: WorkspaceInfo, code: str) -> Any:
    row = conn.execute(_CODE, {"ws": ws.id, "code": code}).mappings().first()
    if row is None:
        raise NotFound(say, "growth.no_code", code=code)
    return row


def do_set_code_active(conn: Connection, ws: WorkspaceInfo, code: str, active: bool) -> None:
    """Pause a live code (scans are refused, nothing is admitted) or resume it."""
    row = _code_row(conn, ws, code)
    conn.execute(
        update(live_codes)
        .where(and_(live_codes.c.workspace_id == ws.id, live_codes.c.id == row["id"]))
        .values(status="active" if active else "paused")
    )


def do_close_group(conn: Connection, ws: WorkspaceInfo, code: str, group: str) -> None:
    """Take a group out of a code's pool: later scans go to the others."""
    row = _code_row(conn, ws, code)
    p = live_code_groups
    done = conn.execute(
        update(p)
        .where(and_(p.c.code_id == row["id"], p.c.group_ext == group))
        .values(status="closed")
    )
    if done.rowcount == 0:
        raise NotFound(say, "growth.not_in_pool", group=group, code=code)


def access_code(conn: Connection, ws: WorkspaceInfo, code: str) -> dict[str, Any]:
    """The code with its pool, each group's admissions and members."""
    row = _code_row(conn, ws, code)
    p, g = live_code_groups, groups
    pool = conn.execute(
        select(
            p.c.position,
            p.c.group_ext,
            p.c.name,
            p.c.join_url,
            p.c.admissions,
            p.c.status,
            g.c.member_count,
            g.c.status.label("group_status"),
        )
        .select_from(
            p.outerjoin(
                g,
                and_(
                    g.c.workspace_id == p.c.workspace_id,
                    g.c.channel == row["channel"],
                    g.c.ext_id == p.c.group_ext,
                ),
            )
        )
        .where(p.c.code_id == row["id"])
        .order_by(p.c.position)
    ).mappings()
    return {
        "code": row["code"],
        "token": row["token"],
        "url": f"/l/{row['token']}",
        "name": row["name"],
        "channel": row["channel"],
        "state": row["state"],
        "source": row["source"],
        "campaign": row["campaign"],
        "blueprint": row["blueprint"],
        "base_name": row["base_name"],
        "admissions_cap": row["admissions_cap"],
        "group_capacity": row["group_capacity"],
        "pool": [
            {
                "position": r["position"],
                "group": r["group_ext"],
                "name": r["name"],
                "join_url": r["join_url"],
                "admissions": r["admissions"],
                "status": r["status"],
                "members": r["member_count"] or 0,
            }
            for r in pool
        ],
    }


def list_codes(conn: Connection, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    t = live_codes
    names = conn.execute(
        select(t.c.code).where(t.c.workspace_id == ws.id).order_by(t.c.code)
    ).scalars()
    return [access_code(conn, ws, c) for c in names]


def do_add_group(
    conn: Connection,
    ws: WorkspaceInfo,
    code: str,
    group: str,
    *,
    name: str | None = None,
    join_url: str | None = None,
    at: datetime,
) -> None:
    """Put an existing group at the end of a code's pool."""
    row = _code_row(conn, ws, code)
    p = live_code_groups
    if conn.execute(
        select(p.c.id).where(and_(p.c.code_id == row["id"], p.c.group_ext == group))
    ).first():
        raise Conflict(say, "growth.in_pool", group=group, code=code)
    position = (
        conn.execute(
            select(func.coalesce(func.max(p.c.position), 0)).where(p.c.code_id == row["id"])
        ).scalar_one()
        + 1
    )
    conn.execute(
        p.insert().values(
            code_id=row["id"],
            workspace_id=ws.id,
            position=position,
            group_ext=group,
            name=name or group,
            join_url=join_url,
            admissions=0,
            status="open",
            created_at=at,
        )
    )


def do_set_group_url(conn: Connection, ws: WorkspaceInfo, code: str, group: str, url: str) -> None:
    """Record a group's join link / QR content; a pending group opens with it."""
    row = _code_row(conn, ws, code)
    p = live_code_groups
    done = conn.execute(
        update(p)
        .where(and_(p.c.code_id == row["id"], p.c.group_ext == group))
        .values(join_url=url, status="open")
    ).rowcount
    if not done:
        raise NotFound(say, "growth.not_in_pool", group=group, code=code)


def code_by_token(conn: Connection, token: str) -> tuple[int, str] | None:
    """(workspace id, code) of a public token."""
    t = live_codes
    row = conn.execute(select(t.c.workspace_id, t.c.code).where(t.c.token == token)).first()
    return None if row is None else (int(row[0]), str(row[1]))


# --- Scanning -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanAnswer:
    scan: str
    """The id of the `code.scanned` event (a ticket for the sandbox's join)."""
    status: str
    """ok, or preparing while staff still make the next group."""
    group: str | None
    name: str | None
    join_url: str | None
    created_group: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "scan": self.scan,
            "status": self.status,
            "group": self.group,
            "name": self.name,
            "join_url": self.join_url,
        }


def network_hash(address: str | None) -> str | None:
    """A short hash of the client's /24 (IPv4) or /48 (IPv6): enough to compare, not to find."""
    if not address:
        return None
    if ":" in address:
        prefix = ":".join(address.split(":")[:3])
    else:
        prefix = ".".join(address.split(".")[:3])
    return hashlib.blake2b(prefix.encode(), digest_size=8).hexdigest()


# Built once with bound parameters: a scan is a hot path and building SQL per call showed up
# as half of its cost.
_p, _g = live_code_groups, groups
_CANDIDATES = (
    select(_p.c.id, _p.c.group_ext, _p.c.name, _p.c.join_url)
    .select_from(
        _p.outerjoin(
            _g,
            and_(
                _g.c.workspace_id == bindparam("ws"),
                _g.c.channel == bindparam("channel"),
                _g.c.ext_id == _p.c.group_ext,
            ),
        )
    )
    .where(
        and_(
            _p.c.code_id == bindparam("code_id"),
            _p.c.status == "open",
            _p.c.admissions < bindparam("cap"),
            or_(
                _g.c.id.is_(None),
                and_(_g.c.status == "active", _g.c.member_count < bindparam("capacity")),
            ),
        )
    )
    .order_by(_p.c.position)
)
# Conditional: even without the writer lock no group could pass its cap.
_TAKE = (
    update(_p)
    .where(
        and_(_p.c.id == bindparam("gid"), _p.c.status == "open", _p.c.admissions < bindparam("cap"))
    )
    .values(admissions=_p.c.admissions + 1)
)


def _admit(conn: Connection, ws: WorkspaceInfo, code: Any) -> Any:
    """Count one admission in the first open group with room; None when all are full."""
    candidates = conn.execute(
        _CANDIDATES,
        {
            "ws": ws.id,
            "channel": code["channel"],
            "code_id": code["id"],
            "cap": code["admissions_cap"],
            "capacity": code["group_capacity"],
        },
    ).all()
    for cand in candidates:
        if conn.execute(_TAKE, {"gid": cand.id, "cap": code["admissions_cap"]}).rowcount:
            return cand
    return None


def _ingest_one(conn: Connection, ws: WorkspaceInfo, raw: dict[str, Any]) -> Event:
    parsed = parse_event(raw, 0)
    if isinstance(parsed, list):
        raise BatchRejected(parsed, unit="field")
    ingest_batch(conn, ws, [parsed])
    return parsed


def _next_group(conn: Connection, ws: WorkspaceInfo, code: Any, at: datetime) -> Any:
    """Make the next group of the pool from the blueprint (base name + number)."""
    t, p = live_codes, live_code_groups
    fresh = conn.execute(select(t.c.next_number).where(t.c.id == code["id"])).scalar_one()
    number = int(fresh)
    group_ext = f"{code['code']}-{number}"
    name = f"{code['base_name']}{number}"
    position = (
        conn.execute(
            select(func.coalesce(func.max(p.c.position), 0)).where(p.c.code_id == code["id"])
        ).scalar_one()
        + 1
    )
    self_made = code["channel"] in SELF_MADE
    conn.execute(
        p.insert().values(
            code_id=code["id"],
            workspace_id=ws.id,
            position=position,
            group_ext=group_ext,
            name=name,
            join_url=None,
            admissions=0,
            status="open" if self_made else "pending",
            created_at=at,
        )
    )
    conn.execute(update(t).where(t.c.id == code["id"]).values(next_number=number + 1))
    if self_made:
        data: dict[str, Any] = {"name": name, "capacity": code["group_capacity"]}
        if code["blueprint"]:
            data["blueprint"] = code["blueprint"]
        _ingest_one(
            conn,
            ws,
            {
                "id": f"livecode:{code['code']}:{number}",
                "type": "group.created",
                "channel": code["channel"],
                "group": group_ext,
                "at": at.isoformat(),
                "data": data,
            },
        )
    else:
        text = say(
            "livecode.new_group_task",
            ws.locale,
            code=code["code"],
            blueprint=code["blueprint"] or code["base_name"],
            name=name,
            group=group_ext,
        )
        _staff_task(
            conn,
            ws,
            code,
            text,
            {"code": code["code"], "name": name},
            f"new_group:{code['code']}:{number}",
            at,
            group=group_ext,
        )
    return group_ext


def _staff_task(
    conn: Connection,
    ws: WorkspaceInfo,
    code: Any,
    text: str,
    data: dict[str, Any],
    what: str,
    at: datetime,
    group: str | None = None,
) -> None:
    """A staff task about a live code, once for each `what` (its idempotency key)."""
    writer = OutboxWriter(ws.id, ws.locale)
    writer.add(
        "growth.livecode",
        Decision(
            kind=ActionKind.STAFF_TASK,
            reason=text,
            group=group,
            data=data,
            key=f"growth.livecode:{what}",
        ),
        channel=code["channel"],
        caused_by=None,
        cause_key=f"livecode:{what}",
        at=at,
    )
    writer.flush(conn)


def _may_make_group(conn: Connection, ws: WorkspaceInfo, code: Any, at: datetime) -> bool:
    """Whether the pool may make another group now: at most `new_groups_per_hour` in the hour
    before `at`. At the cap, staff get one task per hour to look at the code."""
    cap = int(ws.config.growth.live_codes.new_groups_per_hour)
    p = live_code_groups
    recent = conn.execute(
        select(p.c.group_ext).where(
            p.c.code_id == code["id"],
            p.c.created_at > at - timedelta(hours=1),
            p.c.group_ext.startswith(f"{code['code']}-", autoescape=True),
        )
    ).scalars()
    made = sum(1 for g in recent if g[len(code["code"]) + 1 :].isdigit())  # `_next_group`'s
    if made < cap:
        return True
    hour = at.astimezone(UTC).strftime("%Y%m%d%H")
    text = say("livecode.cap_task", ws.locale, code=code["code"], count=made)
    data = {"code": code["code"], "made": made}
    _staff_task(conn, ws, code, text, data, f"cap:{code['code']}:{hour}", at)
    return False


def do_scan(
    conn: Connection,
    ws: WorkspaceInfo,
    code: str,
    *,
    at: datetime,
    scanner: str | None = None,
    inviter: str | None = None,
    address: str | None = None,
    device: str | None = None,
) -> ScanAnswer:
    """Answer one scan with a group, record it as `code.scanned`, and grow the pool if full."""
    lock_workspace(conn, ws.id)
    row = _code_row(conn, ws, code)
    if row["status"] != "active":
        raise NotFound(say, "growth.code_inactive", code=code)
    created: str | None = None
    admitted = _admit(conn, ws, row)
    if admitted is None:
        pending = conn.execute(
            select(live_code_groups.c.id).where(
                and_(
                    live_code_groups.c.code_id == row["id"],
                    live_code_groups.c.status == "pending",
                )
            )
        ).first()
        if pending is None and _may_make_group(conn, ws, row, at):
            created = _next_group(conn, ws, row, at)
            admitted = _admit(conn, ws, row)
    scan_id = f"scan-{uuid.uuid4().hex}"
    group = admitted.group_ext if admitted is not None else None
    insert_ignore(
        conn,
        code_scans,
        [
            {
                "workspace_id": ws.id,
                "channel": row["channel"],
                "event_ext": scan_id,
                "code": row["code"],
                "state": row["state"],
                "scanner": scanner,
                "inviter": inviter,
                "group_ext": group,
                "network": network_hash(address),
                "device": device,
                "at": at,
            }
        ],
    )
    if inviter and row["campaign"]:
        # Someone scanned a personal code: its owner has shared their poster.
        from shequn.growth.referrals import ReferralBook, mark_shared

        book = ReferralBook(conn, ws.id)
        mark_shared(book, row["campaign"], row["channel"], inviter, at)
        book.flush()
    data: dict[str, Any] = {"code": row["code"]}
    if row["state"]:
        data["state"] = row["state"]
    if scanner:
        data["scanner"] = scanner
    _ingest_one(
        conn,
        ws,
        {
            "id": scan_id,
            "type": "code.scanned",
            "channel": row["channel"],
            "group": group,
            "at": at.isoformat(),
            "data": data,
        },
    )
    if admitted is None:
        return ScanAnswer(scan_id, "preparing", None, None, None, created)
    return ScanAnswer(scan_id, "ok", group, admitted.name, admitted.join_url, created)


def do_sandbox_join(
    conn: Connection,
    ws: WorkspaceInfo,
    scan: str,
    member: str,
    nickname: str,
    at: datetime,
) -> str:
    """On the sandbox, the scanner joins the group their scan was sent to."""
    s, t = code_scans, live_codes
    row = (
        conn.execute(
            select(s.c.channel, s.c.code, s.c.state, s.c.group_ext, s.c.inviter).where(
                and_(s.c.workspace_id == ws.id, s.c.event_ext == scan)
            )
        )
        .mappings()
        .first()
    )
    if row is None or row["group_ext"] is None:
        raise NotFound(say, "growth.no_scan", scan=scan)
    if row["channel"] != "sandbox":
        raise Conflict(say, "growth.sandbox_only")
    exists = conn.execute(
        select(t.c.id).where(and_(t.c.workspace_id == ws.id, t.c.code == row["code"]))
    ).first()
    assert exists is not None
    data: dict[str, Any] = {"nickname": nickname, "scene": "qr", "code": row["code"]}
    if row["state"]:
        data["state"] = row["state"]
    if row["inviter"] and row["inviter"] != member:
        data["inviter"] = row["inviter"]
    _ingest_one(
        conn,
        ws,
        {
            "id": f"{scan}-join",
            "type": "member.joined",
            "channel": "sandbox",
            "group": row["group_ext"],
            "member": member,
            "at": at.isoformat(),
            "data": data,
        },
    )
    return str(row["group_ext"])


# --- Figures -------------------------------------------------------------------------------


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def code_stats(conn: Connection, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    """Scans, unique scanners, joins, new members and join rate of every code seen."""
    from shequn.community.models import members, memberships

    s, ms, m, t = code_scans, memberships, members, live_codes
    figures: dict[str, dict[str, Any]] = {}

    def entry(code: str) -> dict[str, Any]:
        return figures.setdefault(
            code,
            {
                "code": code,
                "state": None,
                "source": None,
                "scans": 0,
                "scanners": 0,
                "joins": 0,
                "new": 0,
            },
        )

    for code, state, source in conn.execute(
        select(t.c.code, t.c.state, t.c.source).where(t.c.workspace_id == ws.id)
    ):
        entry(code).update(state=state, source=source)
    # A scan without a scanner id cannot be matched to another: each counts as one person.
    anonymous = func.sum(case((s.c.scanner.is_(None), 1), else_=0))
    for code, scans, named, anon in conn.execute(
        select(s.c.code, func.count(), func.count(s.c.scanner.distinct()), anonymous)
        .where(s.c.workspace_id == ws.id)
        .group_by(s.c.code)
    ):
        e = entry(code)
        e["scans"] = int(scans)
        e["scanners"] = int(named) + int(anon or 0)
    for code, joins in conn.execute(
        select(ms.c.code, func.count(ms.c.member_ext.distinct()))
        .where(and_(ms.c.workspace_id == ws.id, ms.c.code.is_not(None)))
        .group_by(ms.c.code)
    ):
        entry(code)["joins"] = int(joins)
    for code, new in conn.execute(
        select(m.c.first_code, func.count())
        .where(and_(m.c.workspace_id == ws.id, m.c.first_code.is_not(None)))
        .group_by(m.c.first_code)
    ):
        entry(code)["new"] = int(new)
    out = []
    for code in sorted(figures):
        e = figures[code]
        e["join_rate"] = _ratio(e["joins"], e["scanners"])
        out.append(e)
    return out


def source_stats(conn: Connection, ws: WorkspaceInfo, *, now: datetime) -> list[dict[str, Any]]:
    """Every acquisition source over all history to date: its codes' scans, scanners and
    joins, and from the ROI figures (`shequn report roi`, the one definition) its new members,
    cost, revenue, cost per new member and ROI = (revenue − cost) ÷ cost."""
    from shequn.analytics.service import source_roi

    _, figures = source_roi(conn, ws, now=now)
    configured = {c.name: c for c in ws.config.analytics.sources}
    sums: dict[str, dict[str, Any]] = {}

    def blank(key: str) -> dict[str, Any]:
        zero = dict.fromkeys(("codes", "scans", "scanners", "joins"), 0)
        return {"source": key, **zero}

    # A code counts where first touch credits its joins: its source, else its state or code.
    rule = ws.config.analytics.code_source
    for e in code_stats(conn, ws):
        key = rule(e["code"], e["state"], e["source"]) or e["state"] or e["code"]
        agg = sums.setdefault(key, blank(key))
        agg["codes"] += 1
        for k in ("scans", "scanners", "joins"):
            agg[k] += e[k]
    money = {r["source"]: r for r in figures}
    out = []
    for key in sorted(set(sums) | set(money)):
        agg = sums.get(key) or blank(key)
        r = money.get(key, {})
        spec = configured.get(key)
        agg["name"] = (spec.label if spec else None) or key
        agg["kind"] = spec.kind if spec else None
        agg["new"] = r.get("members", 0)
        agg["paying"] = r.get("paying", 0)
        agg["cost_fen"] = r.get("cost_fen", 0)
        agg["revenue_fen"] = r.get("revenue_fen", 0)
        agg["join_rate"] = _ratio(agg["joins"], agg["scanners"])
        agg["cost_per_new_fen"] = r.get("cost_per_member_fen")
        agg["roi"] = r.get("roi")
        out.append(agg)
    return out
