"""Staff settle order chains 接龙: a claimed entry is confirmed as paid — it then goes through
the engine as an `order.paid` event, the path every shop order takes (attribution,
commissions, coupons, memberships, spend) — or cancelled.

Entries are named by their order id (`chain:<chain>:<number>`); the chain id alone
(`chain:<chain>`) names every entry of that chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, select, update

from shequn.commerce.models import chain_entries, orders
from shequn.commerce.texts import say
from shequn.community.service import Conflict, NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import ingest_batch
from shequn.events import BatchRejected, Event, parse_event
from shequn.platform.errors import Invalid

OPEN = "claimed"
CANCELLED = "cancelled"


def chain_id(order_id: str) -> str:
    """`chain:<digest>` of an entry's order id `chain:<digest>:<number>`."""
    return order_id.rsplit(":", 1)[0]


def _select(ws: WorkspaceInfo) -> Select[Any]:
    """Entries with their order's status and amounts (the order row is the entry's state)."""
    c, o = chain_entries, orders
    return (
        select(c, o.c.status, o.c.amount_fen.label("order_fen"), o.c.refunded_fen)
        .select_from(
            c.join(o, and_(o.c.workspace_id == c.c.workspace_id, o.c.order_id == c.c.order_id))
        )
        .where(c.c.workspace_id == ws.id)
        .order_by(c.c.at, c.c.group_ext, c.c.number)
    )


def _entries(conn: Connection, ws: WorkspaceInfo, ids: list[str]) -> list[dict[str, Any]]:
    """Entries for entry ids and chain ids; an unknown id refuses the call."""
    if not ids:
        raise Invalid(say, "commerce.no_ids")
    c, stmt = chain_entries, _select(ws)
    found: dict[str, dict[str, Any]] = {}
    for wanted in dict.fromkeys(ids):
        if wanted.count(":") == 1:
            cond = c.c.order_id.startswith(wanted + ":", autoescape=True)
        else:
            cond = c.c.order_id == wanted
        rows = [dict(r) for r in conn.execute(stmt.where(cond)).mappings()]
        if not rows:
            raise NotFound(say, "commerce.no_entry", wanted=wanted)
        found.update((r["order_id"], r) for r in rows)
    return list(found.values())


def public_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_id": row["order_id"],
        "chain_id": chain_id(row["order_id"]),
        "channel": row["channel"],
        "group": row["group_ext"],
        "chain": row["chain"],
        "number": row["number"],
        "member": row["member_ext"],
        "name": row["name"],
        "text": row["text"],
        "items": row["items"],
        "amount_fen": row["order_fen"],
        "status": row["status"],
        "refunded_fen": row["refunded_fen"],
        "at": row["at"].isoformat().replace("+00:00", "Z"),
    }


def list_entries(
    conn: Connection,
    ws: WorkspaceInfo,
    status: str | None = None,
    group: str | None = None,
) -> list[dict[str, Any]]:
    c, o = chain_entries, orders
    stmt = _select(ws)
    if status is not None:
        stmt = stmt.where(o.c.status == status)
    if group is not None:
        stmt = stmt.where(c.c.group_ext == group)
    return [public_entry(dict(r)) for r in conn.execute(stmt).mappings()]


def _paid_event(entry: dict[str, Any], amount_fen: int, at: datetime) -> Event:
    raw = {
        # One id per entry: confirming again is a duplicate of the same event.
        "id": f"{entry['order_id']}:paid",
        "type": "order.paid",
        "channel": entry["channel"],
        "group": entry["group_ext"],
        "member": entry["member_ext"],
        "at": at.isoformat(),
        "data": {"order_id": entry["order_id"], "amount_fen": amount_fen, "items": entry["items"]},
    }
    parsed = parse_event(raw, 0)
    if isinstance(parsed, list):
        raise BatchRejected(parsed, unit="field")
    return parsed


def do_confirm_entries(
    conn: Connection,
    ws: WorkspaceInfo,
    ids: list[str],
    at: datetime,
    amount_fen: int | None = None,
) -> list[dict[str, Any]]:
    """Confirm claimed entries as paid, each as an `order.paid` event through the engine.
    Entries already paid, and cancelled ones of a named chain, are left as they are; an
    entry named and cancelled, or one without a price (and no `amount_fen` given), refuses
    the whole call. Answers the entries after."""
    entries = _entries(conn, ws, ids)
    if amount_fen is not None:
        if amount_fen < 0:
            raise Invalid(say, "commerce.negative_amount")
        if len(entries) != 1:
            raise Invalid(say, "commerce.amount_for_one")
    events = []
    for entry in entries:
        if entry["status"] == CANCELLED and entry["order_id"] in ids:
            raise Conflict(say, "commerce.entry_cancelled", entry=entry["order_id"])
        if entry["status"] != OPEN:
            continue  # paid already: confirming twice is one order
        amount = entry["order_fen"] if amount_fen is None else amount_fen
        if amount <= 0:
            raise Invalid(say, "commerce.no_price", entry=entry["order_id"])
        events.append(_paid_event(entry, amount, at))
    if events:
        ingest_batch(conn, ws, events)
    return [public_entry(e) for e in _entries(conn, ws, [e["order_id"] for e in entries])]


def do_cancel_entries(conn: Connection, ws: WorkspaceInfo, ids: list[str]) -> list[dict[str, Any]]:
    """Cancel claimed entries (nobody paid). A paid entry is refunded instead, as any order."""
    entries = _entries(conn, ws, ids)
    paid = [e["order_id"] for e in entries if e["status"] not in (OPEN, CANCELLED)]
    if paid:
        raise Conflict(say, "commerce.already_paid", entries=", ".join(paid))
    o = orders
    conn.execute(
        update(o)
        .where(
            and_(
                o.c.workspace_id == ws.id,
                o.c.order_id.in_([e["order_id"] for e in entries]),
                o.c.status == OPEN,
            )
        )
        .values(status=CANCELLED)
    )
    return [public_entry(e) for e in _entries(conn, ws, [e["order_id"] for e in entries])]
