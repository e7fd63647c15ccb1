"""Distribution 分销: commissions on referred sales, one level or two (never more), by
promoter tier; pending → confirmed after the refund window → paid; a refund within the
window reverses them. One commission per order and level (a unique key), so re-delivered
orders never pay twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from shequn.commerce.models import commissions, promoters
from shequn.commerce.texts import say
from shequn.community.service import NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.config.commerce import DistributionSection, Tier
from shequn.platform.db import insert_ignore
from shequn.platform.errors import Invalid


def promoter(
    conn: Connection, workspace_id: int, channel: str, member: str, at: datetime, enrol: bool
) -> dict[str, Any] | None:
    t = promoters
    row = (
        conn.execute(
            select(t).where(
                and_(
                    t.c.workspace_id == workspace_id,
                    t.c.channel == channel,
                    t.c.member_ext == member,
                )
            )
        )
        .mappings()
        .first()
    )
    if row is not None:
        return dict(row)
    if not enrol:
        return None
    values = {
        "workspace_id": workspace_id,
        "channel": channel,
        "member_ext": member,
        "tier": "",
        "sales_fen": 0,
        "orders": 0,
        "joined_at": at,
        "status": "active",
        "tier_fixed": False,
        "disabled_at": None,
    }
    inserted = conn.execute(t.insert().values(**values)).inserted_primary_key
    assert inserted is not None
    return {**values, "id": int(inserted[0])}


def _promoter_row(conn: Connection, ws: WorkspaceInfo, channel: str, member: str) -> Any:
    t = promoters
    return (
        conn.execute(
            select(t).where(
                and_(t.c.workspace_id == ws.id, t.c.channel == channel, t.c.member_ext == member)
            )
        )
        .mappings()
        .first()
    )


def access_promoter(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str
) -> dict[str, Any]:
    row = _promoter_row(conn, ws, channel, member)
    if row is None:
        raise NotFound(say, "commerce.not_promoter", member=member)
    return public_promoter(row)


def check_tier(cfg: DistributionSection, name: str) -> Tier:
    for tier in cfg.tiers:
        if tier.name == name:
            return tier
    tiers = ", ".join(t.name for t in cfg.tiers)
    raise Invalid(say, "commerce.unknown_tier", name=name, tiers=tiers)


def _check_member(conn: Connection, ws: WorkspaceInfo, channel: str, member: str) -> None:
    from shequn.community.models import members

    m = members
    found = conn.execute(
        select(m.c.ext_id).where(
            and_(m.c.workspace_id == ws.id, m.c.channel == channel, m.c.ext_id == member)
        )
    ).first()
    if found is None:
        raise NotFound(say, "commerce.no_member", member=member, channel=channel)


def _current_tier(cfg: DistributionSection, row: Any) -> Tier:
    """The tier staff fixed (while it still exists), else the one sales and orders reach."""
    if row["tier_fixed"]:
        for tier in cfg.tiers:
            if tier.name == row["tier"]:
                return tier
    return cfg.tier_for(int(row["sales_fen"]), int(row["orders"]))


def do_enrol(
    conn: Connection,
    ws: WorkspaceInfo,
    channel: str,
    member: str,
    at: datetime,
    tier: str | None = None,
) -> dict[str, Any]:
    """Enrol a member as a promoter by hand (or re-activate a disabled one); `tier` fixes
    their tier, otherwise it follows their sales."""
    cfg: DistributionSection = ws.config.distribution
    if tier is not None:
        check_tier(cfg, tier)
    _check_member(conn, ws, channel, member)
    row = promoter(conn, ws.id, channel, member, at, enrol=True)
    assert row is not None
    values: dict[str, Any] = {"status": "active", "disabled_at": None}
    if tier is not None:
        values.update(tier=tier, tier_fixed=True)
    elif not row["tier_fixed"]:
        values["tier"] = cfg.tier_for(int(row["sales_fen"]), int(row["orders"])).name
    conn.execute(update(promoters).where(promoters.c.id == row["id"]).values(**values))
    return access_promoter(conn, ws, channel, member)


def do_set_tier(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str, tier: str | None
) -> dict[str, Any]:
    """Fix a promoter's tier, or (None) let it follow their sales and orders again."""
    cfg: DistributionSection = ws.config.distribution
    if tier is not None:
        check_tier(cfg, tier)
    row = _promoter_row(conn, ws, channel, member)
    if row is None:
        raise NotFound(say, "commerce.not_promoter", member=member)
    if tier is None:
        values: dict[str, Any] = {
            "tier": cfg.tier_for(int(row["sales_fen"]), int(row["orders"])).name,
            "tier_fixed": False,
        }
    else:
        values = {"tier": tier, "tier_fixed": True}
    conn.execute(update(promoters).where(promoters.c.id == row["id"]).values(**values))
    return access_promoter(conn, ws, channel, member)


def do_disable(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str, at: datetime
) -> dict[str, Any]:
    """A disabled promoter earns no new commissions; those already made are kept."""
    row = _promoter_row(conn, ws, channel, member)
    if row is None:
        raise NotFound(say, "commerce.not_promoter", member=member)
    if row["status"] != "disabled":
        conn.execute(
            update(promoters)
            .where(promoters.c.id == row["id"])
            .values(status="disabled", disabled_at=at)
        )
    return access_promoter(conn, ws, channel, member)


def public_promoter(row: Any) -> dict[str, Any]:
    def iso(v: Any) -> Any:
        return v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v

    return {
        "channel": row["channel"],
        "member": row["member_ext"],
        "tier": row["tier"],
        "tier_fixed": bool(row["tier_fixed"]),
        "status": row["status"],
        "sales_fen": row["sales_fen"],
        "orders": row["orders"],
        "joined_at": iso(row["joined_at"]),
        "disabled_at": iso(row["disabled_at"]),
    }


def list_promoters(conn: Connection, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    t = promoters
    rows = conn.execute(
        select(t).where(t.c.workspace_id == ws.id).order_by(t.c.channel, t.c.member_ext)
    ).mappings()
    return [public_promoter(r) for r in rows]


def add_commissions(
    conn: Connection,
    ws: WorkspaceInfo,
    *,
    order_id: str,
    channel: str,
    buyer: str,
    base_fen: int,
    chain: list[str],
    campaign: str | None,
    at: datetime,
) -> list[dict[str, Any]]:
    """Commissions of one order for its promoter chain (level 1 first); answers those made."""
    cfg: DistributionSection = ws.config.distribution
    made: list[dict[str, Any]] = []
    confirm_after = at + timedelta(days=cfg.refund_window_days)
    seen = {buyer}
    for level, who in enumerate(chain[: cfg.levels], start=1):
        if who in seen:
            break  # nobody earns on their own purchase, nor twice on one order
        seen.add(who)
        row = promoter(conn, ws.id, channel, who, at, enrol=cfg.auto_enrol)
        if row is None or row["status"] == "disabled":
            break  # a disabled promoter counts as none: nobody earns through them
        tier = _current_tier(cfg, row)
        percent = tier.level1_percent if level == 1 else tier.level2_percent
        rate_bps = round(percent * 100)
        values = {
            "workspace_id": ws.id,
            "key": f"order:{order_id}:L{level}",
            "order_id": order_id,
            "channel": channel,
            "promoter": who,
            "buyer": buyer,
            "campaign": campaign,
            "level": level,
            "tier": tier.name,
            "rate_bps": rate_bps,
            "base_fen": base_fen,
            "amount_fen": base_fen * rate_bps // 10_000,
            "status": "pending",
            "created_at": at,
            "confirm_after": confirm_after,
        }
        insert_ignore(conn, commissions, [values])
        made.append(values)
        if level == 1:
            conn.execute(
                update(promoters)
                .where(promoters.c.id == row["id"])
                .values(
                    sales_fen=int(row["sales_fen"]) + base_fen,
                    orders=int(row["orders"]) + 1,
                    tier=_current_tier(
                        cfg,
                        {
                            **row,
                            "sales_fen": int(row["sales_fen"]) + base_fen,
                            "orders": int(row["orders"]) + 1,
                        },
                    ).name,
                )
            )
    return made


def on_refund(
    conn: Connection,
    workspace_id: int,
    order_id: str,
    paid_fen: int,
    refunded_fen: int,
    at: datetime,
) -> None:
    """A refund within the window reverses the pending commissions (in part for a partial
    refund); confirmed or paid ones are left as they are, with a note."""
    t = commissions
    rows = conn.execute(
        select(t).where(and_(t.c.workspace_id == workspace_id, t.c.order_id == order_id))
    ).mappings()
    for row in list(rows):
        if row["status"] == "pending":
            remaining = max(paid_fen - refunded_fen, 0)
            if remaining == 0:
                values: dict[str, Any] = {"status": "reversed", "reversed_at": at, "amount_fen": 0}
            else:
                values = {"amount_fen": remaining * int(row["rate_bps"]) // 10_000}
            values["note"] = f"refund {refunded_fen} of {paid_fen}"
            conn.execute(update(t).where(t.c.id == row["id"]).values(**values))
        elif row["status"] in ("confirmed", "paid"):
            conn.execute(
                update(t)
                .where(t.c.id == row["id"])
                .values(note=f"refund after the window: {refunded_fen}")
            )
        if row["level"] == 1 and row["status"] != "reversed":
            p = promoters
            conn.execute(
                update(p)
                .where(
                    and_(
                        p.c.workspace_id == workspace_id,
                        p.c.channel == row["channel"],
                        p.c.member_ext == row["promoter"],
                    )
                )
                .values(sales_fen=p.c.sales_fen - min(refunded_fen, int(row["base_fen"])))
            )


def confirm_due(conn: Connection, workspace_id: int, order_id: str, at: datetime) -> int:
    t = commissions
    return int(
        conn.execute(
            update(t)
            .where(
                and_(
                    t.c.workspace_id == workspace_id,
                    t.c.order_id == order_id,
                    t.c.status == "pending",
                    t.c.confirm_after <= at,
                )
            )
            .values(status="confirmed", confirmed_at=at)
        ).rowcount
    )


def do_pay(
    conn: Connection,
    ws: WorkspaceInfo,
    at: datetime,
    ids: list[int] | None = None,
    promoter_: str | None = None,
) -> int:
    """Record confirmed commissions as paid (the money moves outside Shequn)."""
    t = commissions
    cond = [t.c.workspace_id == ws.id, t.c.status == "confirmed"]
    if ids is not None:
        cond.append(t.c.id.in_(ids))
    if promoter_ is not None:
        cond.append(t.c.promoter == promoter_)
    return int(
        conn.execute(update(t).where(and_(*cond)).values(status="paid", paid_at=at)).rowcount
    )


def campaign_commissions_fen(conn: Connection, workspace_id: int, campaign: str) -> int:
    """What a campaign's sales owe their promoters (everything but what refunds reversed)."""
    t = commissions
    total = conn.execute(
        select(func.coalesce(func.sum(t.c.amount_fen), 0)).where(
            and_(
                t.c.workspace_id == workspace_id, t.c.campaign == campaign, t.c.status != "reversed"
            )
        )
    ).scalar_one()
    return int(total)


def public_commission(row: Any) -> dict[str, Any]:
    def iso(v: Any) -> Any:
        return v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v

    return {
        "id": row["id"],
        "order_id": row["order_id"],
        "channel": row["channel"],
        "promoter": row["promoter"],
        "buyer": row["buyer"],
        "campaign": row["campaign"],
        "level": row["level"],
        "tier": row["tier"],
        "rate_bps": row["rate_bps"],
        "base_fen": row["base_fen"],
        "amount_fen": row["amount_fen"],
        "status": row["status"],
        "created_at": iso(row["created_at"]),
        "confirm_after": iso(row["confirm_after"]),
        "confirmed_at": iso(row["confirmed_at"]),
        "paid_at": iso(row["paid_at"]),
        "reversed_at": iso(row["reversed_at"]),
        "note": row["note"],
    }


def list_commissions(
    conn: Connection, ws: WorkspaceInfo, status: str | None = None
) -> list[dict[str, Any]]:
    t = commissions
    stmt = select(t).where(t.c.workspace_id == ws.id)
    if status is not None:
        stmt = stmt.where(t.c.status == status)
    return [public_commission(r) for r in conn.execute(stmt.order_by(t.c.id)).mappings()]
