"""Orders and refunds: from the shop webhook (HMAC-signed, verified before parsing), from CSV
files, and from order chains; each becomes an `order.paid` / `order.refunded` event, so
re-delivery is one order and the engine credits member, group, campaign and promoter."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from datetime import datetime
from typing import Any, ClassVar

import orjson
from sqlalchemy import Connection, and_, or_, select

from shequn.commerce.models import orders, shops
from shequn.commerce.texts import say
from shequn.community.service import Conflict, NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import IngestResult, ingest_batch
from shequn.events import BatchRejected, EventError, parse_event
from shequn.platform.errors import Unauthorized

SIGNATURE_HEADER = "X-Shequn-Signature"
MAX_WEBHOOK_BYTES = 64 * 1024


class BadSignature(Unauthorized):
    """The delivery is not signed with the shop's secret: nothing was read from it."""

    title: ClassVar[dict[str, str]] = {"zh-CN": "签名不符", "en": "Bad signature"}


# --- Shops ----------------------------------------------------------------------------------


def do_create_shop(
    conn: Connection, ws: WorkspaceInfo, key: str, name: str | None, channel: str, at: datetime
) -> str:
    """A shop and its webhook secret; the secret is shown once, here."""
    t = shops
    if conn.execute(select(t.c.id).where(and_(t.c.workspace_id == ws.id, t.c.key == key))).first():
        raise Conflict(say, "commerce.shop_exists", key=key)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        t.insert().values(
            workspace_id=ws.id,
            key=key,
            name=name or key,
            channel=channel,
            secret=secret,
            created_at=at,
        )
    )
    return secret


def _shop(conn: Connection, ws: WorkspaceInfo, key: str) -> Any:
    t = shops
    row = (
        conn.execute(select(t).where(and_(t.c.workspace_id == ws.id, t.c.key == key)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(say, "commerce.no_shop", key=key)
    return row


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(secret: str, body: bytes, header: str | None) -> None:
    """Raise BadSignature unless `header` is the body's HMAC-SHA256 under the secret."""
    if not header or not hmac.compare_digest(sign(secret, body), header.strip()):
        raise BadSignature(say, "commerce.bad_signature")


# --- Webhook ---------------------------------------------------------------------------------


def _event_id(shop: str, payload: dict[str, Any]) -> str:
    kind = payload.get("type")
    if kind == "order.paid":
        return f"shop:{shop}:paid:{payload.get('order_id')}"
    if kind == "order.refunded":
        return f"shop:{shop}:refund:{payload.get('order_id')}:{payload.get('refund_id', 'all')}"
    return f"shop:{shop}:coupon:{payload.get('coupon_id')}"


def webhook_event(shop: Any, payload: Any, received_at: datetime) -> dict[str, Any]:
    """The contract event of one webhook delivery (validated by the caller); a delivery that
    does not say when it happened happened when it was received."""
    if not isinstance(payload, dict):
        raise BatchRejected([EventError(0, "(body)", "expected a JSON object")], unit="field")
    kind = payload.get("type")
    if kind not in ("order.paid", "order.refunded", "coupon.redeemed"):
        raise BatchRejected(
            [EventError(0, "type", "expected order.paid, order.refunded or coupon.redeemed")],
            unit="field",
        )
    keys = {
        "order.paid": ("order_id", "amount_fen", "items", "coupon", "promoter"),
        "order.refunded": ("order_id", "amount_fen"),
        "coupon.redeemed": ("coupon_id",),
    }[kind]
    data = {k: payload[k] for k in keys if payload.get(k) is not None}
    return {
        "id": payload.get("id") or _event_id(shop["key"], payload),
        "type": kind,
        "channel": payload.get("channel") or shop["channel"],
        "group": payload.get("group"),
        "member": payload.get("member"),
        "at": payload.get("at") or received_at.isoformat(),
        "data": data,
    }


def do_shop_webhook(
    conn: Connection,
    ws: WorkspaceInfo,
    shop_key: str,
    body: bytes,
    signature: str | None,
    *,
    now: datetime,
    latest: datetime | None,
) -> IngestResult:
    """Verify the signature, then parse and ingest the delivery (idempotent by its id)."""
    try:
        shop = _shop(conn, ws, shop_key)
    except NotFound:
        raise NotFound(say, "commerce.no_webhook") from None
    check_signature(str(shop["secret"]), body, signature)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BatchRejected(
            [EventError(0, "(json)", f"not valid JSON: {exc}")], unit="field"
        ) from exc
    parsed = parse_event(webhook_event(shop, payload, now), 0, latest)
    if isinstance(parsed, list):
        raise BatchRejected(parsed, unit="field")
    # Bounded: `engine.ingest.caught_up` catches the scheduler up and delivers again.
    return ingest_batch(conn, ws, [parsed], bounded=True)


# --- CSV import -------------------------------------------------------------------------------

CSV_COLUMNS = ("order_id", "member", "amount_fen", "paid_at")
"""Required columns; optional: channel, group, promoter, coupon, refunded_fen, refunded_at, sku."""


def _fen(value: str) -> int:
    value = value.strip()
    if not value.lstrip("-").isdigit():
        raise ValueError(f"{value!r} is not a whole number of fen")
    return int(value)


def orders_from_csv(
    text: str, default_channel: str = "sandbox"
) -> tuple[list[dict[str, Any]], list[EventError]]:
    """Events of a CSV file (order.paid, and order.refunded where refunded_fen is set), and
    every error by line number (the header is line 1)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [EventError(1, c, "missing column") for c in missing]
    events: list[dict[str, Any]] = []
    lines: list[int] = []
    errors: list[EventError] = []
    for line, row in enumerate(reader, start=2):
        try:
            amount = _fen(row["amount_fen"])
            refunded = _fen(row["refunded_fen"]) if (row.get("refunded_fen") or "").strip() else 0
        except ValueError as exc:
            errors.append(EventError(line, "amount_fen", str(exc)))
            continue
        order_id = (row.get("order_id") or "").strip()
        channel = (row.get("channel") or "").strip() or default_channel
        data: dict[str, Any] = {"order_id": order_id, "amount_fen": amount}
        for opt in ("promoter", "coupon"):
            if (row.get(opt) or "").strip():
                data[opt] = row[opt].strip()
        if (row.get("sku") or "").strip():
            data["items"] = [{"sku": row["sku"].strip(), "qty": 1}]
        base = {
            "channel": channel,
            "group": (row.get("group") or "").strip() or None,
            "member": (row.get("member") or "").strip() or None,
        }
        events.append(
            {
                "id": f"csv:paid:{order_id}",
                "type": "order.paid",
                "at": row["paid_at"],
                "data": data,
                **base,
            }
        )
        lines.append(line)
        if refunded:
            events.append(
                {
                    "id": f"csv:refund:{order_id}",
                    "type": "order.refunded",
                    "at": (row.get("refunded_at") or "").strip() or row["paid_at"],
                    "data": {"order_id": order_id, "amount_fen": refunded},
                    **base,
                }
            )
            lines.append(line)
    for raw, line in zip(events, lines, strict=True):
        result = parse_event(raw, line)
        if isinstance(result, list):
            errors.extend(result)
    errors.sort(key=lambda e: e.position)
    return events, errors


# --- Reading -----------------------------------------------------------------------------------


def public_order(row: Any) -> dict[str, Any]:
    def iso(v: Any) -> Any:
        return v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v

    return {
        "order_id": row["order_id"],
        "channel": row["channel"],
        "member": row["member_ext"],
        "group": row["group_ext"],
        "campaign": row["campaign"],
        "promoter": row["promoter"],
        "source": row["source"],
        "amount_fen": row["amount_fen"],
        "refunded_fen": row["refunded_fen"],
        "coupon": row["coupon"],
        "items": row["items"],
        "status": row["status"],
        "paid_at": iso(row["paid_at"]),
        "refunded_at": iso(row["refunded_at"]),
        "caused_by": row["caused_by"],
    }


def order_rank(conn: Connection, workspace_id: int, order: dict[str, Any]) -> int:
    """1 for the buyer's first paid order, 2 for the next … (`order` as the orders table
    holds it: id, channel, member_ext, paid_at)."""
    o = orders
    earlier = conn.execute(
        select(o.c.id).where(
            and_(
                o.c.workspace_id == workspace_id,
                o.c.channel == order["channel"],
                o.c.member_ext == order["member_ext"],
                o.c.status != "claimed",
                or_(
                    o.c.paid_at < order["paid_at"],
                    and_(o.c.paid_at == order["paid_at"], o.c.id < order["id"]),
                ),
            )
        )
    ).all()
    return len(earlier) + 1


def list_orders(conn: Connection, ws: WorkspaceInfo, limit: int = 1000) -> list[dict[str, Any]]:
    t = orders
    rows = conn.execute(
        select(t).where(t.c.workspace_id == ws.id).order_by(t.c.paid_at, t.c.id).limit(limit)
    ).mappings()
    return [public_order(r) for r in rows]
