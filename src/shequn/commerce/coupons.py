"""Coupons 优惠券: issued from templates (on joining, as rewards, by staff), redeemed 核销
through the API, the shop webhook or an order, expired by the scheduler, and voided when the
reward that issued them is reversed."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from shequn.commerce.models import coupons
from shequn.commerce.texts import say
from shequn.community.service import NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.jobs import JobBook

EXPIRY_JOB = "commerce.coupon_expiry"


_WRITTEN = "shequn.commerce.coupons_written"
"""Codes whose rows were written on this database connection since `forget_written`: a
batch that read coupons ahead (`CommerceBook`) reads these again."""


def _wrote(conn: Connection, code: str) -> None:
    conn.info.setdefault(_WRITTEN, set()).add(code)


def written(conn: Connection) -> set[str]:
    found: set[str] = conn.info.get(_WRITTEN, set())
    return found


def forget_written(conn: Connection) -> None:
    conn.info[_WRITTEN] = set()


def coupon_code(workspace_id: int, key: str) -> str:
    """A short code derived from the issuing reason: a replay gives the same code."""
    digest = hashlib.blake2b(f"{workspace_id}|{key}".encode(), digest_size=10).digest()
    return base64.b32encode(digest).decode()[:12]


def issue_coupon(
    conn: Connection,
    ws: WorkspaceInfo,
    *,
    template: str,
    channel: str,
    member: str,
    key: str,
    reason: str,
    at: datetime,
    jobs: JobBook | None = None,
) -> dict[str, Any]:
    """Issue one coupon per key; answers the coupon (the existing one for a used key)."""
    spec = ws.config.coupons.templates.get(template)
    if spec is None:
        raise NotFound(say, "commerce.no_template", template=template)
    t = coupons
    existing = (
        conn.execute(select(t).where(and_(t.c.workspace_id == ws.id, t.c.key == key)))
        .mappings()
        .first()
    )
    if existing is not None:
        return public_coupon(existing)
    code = coupon_code(ws.id, key)
    expires = at + timedelta(days=spec.valid_days)
    values = {
        "workspace_id": ws.id,
        "code": code,
        "key": key,
        "template": template,
        "channel": channel,
        "member_ext": member,
        "kind": spec.kind,
        "amount_fen": spec.amount_fen,
        "percent": spec.percent,
        "threshold_fen": spec.threshold_fen,
        "status": "issued",
        "reason": reason,
        "issued_at": at,
        "expires_at": expires,
        "redeemed_at": None,
        "order_id": None,
    }
    conn.execute(t.insert().values(**values))
    _wrote(conn, code)
    book = jobs or JobBook(conn, ws.id)
    book.schedule(EXPIRY_JOB, f"commerce.coupon:{code}", expires, {"code": code}, None)
    if jobs is None:
        book.flush()
    return public_coupon(values)


def redeem(
    conn: Connection,
    workspace_id: int,
    code: str,
    *,
    member: str | None,
    at: datetime,
    order_id: str | None = None,
) -> str:
    """Mark a coupon redeemed; answers what happened (redeemed, expired, used, unknown,
    not_theirs). Only an issued, unexpired coupon of that member is redeemed."""
    return redeem_found(conn, find_coupon(conn, workspace_id, code), member, at, order_id)


def find_coupon(conn: Connection, workspace_id: int, code: str) -> dict[str, Any] | None:
    t = coupons
    row = (
        conn.execute(select(t).where(and_(t.c.workspace_id == workspace_id, t.c.code == code)))
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def redeem_found(
    conn: Connection,
    row: dict[str, Any] | None,
    member: str | None,
    at: datetime,
    order_id: str | None,
) -> str:
    """`redeem` with the coupon's row already read (None: no such coupon)."""
    t = coupons
    if row is None:
        return "unknown"
    if member is not None and row["member_ext"] != member:
        return "not_theirs"
    if row["status"] == "redeemed":
        return "used"
    if row["status"] == "voided":
        return "voided"
    if row["status"] == "expired" or at >= row["expires_at"]:
        return "expired"
    conn.execute(
        update(t)
        .where(and_(t.c.id == row["id"], t.c.status == "issued"))
        .values(status="redeemed", redeemed_at=at, order_id=order_id)
    )
    _wrote(conn, str(row["code"]))
    return "redeemed"


def void_coupon(conn: Connection, workspace_id: int, code: str) -> str:
    """Void a coupon not yet used (its reward was reversed); answers its status after:
    voided, or redeemed / expired when it was too late, unknown when there is none."""
    t = coupons
    _wrote(conn, code)
    voided = conn.execute(
        update(t)
        .where(and_(t.c.workspace_id == workspace_id, t.c.code == code, t.c.status == "issued"))
        .values(status="voided")
    ).rowcount
    if voided:
        return "voided"
    found = conn.execute(
        select(t.c.status).where(and_(t.c.workspace_id == workspace_id, t.c.code == code))
    ).scalar_one_or_none()
    return "unknown" if found is None else str(found)


def expire(conn: Connection, workspace_id: int, code: str, at: datetime) -> None:
    t = coupons
    _wrote(conn, code)
    conn.execute(
        update(t)
        .where(
            and_(
                t.c.workspace_id == workspace_id,
                t.c.code == code,
                t.c.status == "issued",
                t.c.expires_at <= at,
            )
        )
        .values(status="expired")
    )


def access_coupon(conn: Connection, ws: WorkspaceInfo, code: str) -> dict[str, Any]:
    t = coupons
    row = (
        conn.execute(select(t).where(and_(t.c.workspace_id == ws.id, t.c.code == code)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(say, "commerce.no_coupon", code=code)
    return public_coupon(row)


def public_coupon(row: Any) -> dict[str, Any]:
    def iso(v: Any) -> Any:
        return v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v

    return {
        "code": row["code"],
        "template": row["template"],
        "channel": row["channel"],
        "member": row["member_ext"],
        "kind": row["kind"],
        "amount_fen": row["amount_fen"],
        "percent": row["percent"],
        "threshold_fen": row["threshold_fen"],
        "status": row["status"],
        "reason": row["reason"],
        "issued_at": iso(row["issued_at"]),
        "expires_at": iso(row["expires_at"]),
        "redeemed_at": iso(row["redeemed_at"]),
        "order_id": row["order_id"],
    }


def coupon_stats(conn: Connection, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    """Issued, redeemed, expired and the redemption rate per template."""
    t = coupons
    out: dict[str, dict[str, Any]] = {}
    for template, status, n in conn.execute(
        select(t.c.template, t.c.status, func.count())
        .where(t.c.workspace_id == ws.id)
        .group_by(t.c.template, t.c.status)
    ):
        entry = out.setdefault(
            template, {"template": template, "issued": 0, "redeemed": 0, "expired": 0}
        )
        entry["issued"] += int(n)
        if status in ("redeemed", "expired"):
            entry[status] += int(n)
    for entry in out.values():
        entry["redemption_rate"] = (
            round(entry["redeemed"] / entry["issued"], 4) if entry["issued"] else None
        )
    return [out[k] for k in sorted(out)]
