"""HTTP routes of commerce: orders (CSV import), commissions, promoters, coupons, paid
memberships; and the shop webhook, authenticated by its HMAC signature alone."""

from __future__ import annotations

from datetime import UTC
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, select

from shequn.commerce import chain_orders, distribution
from shequn.commerce import coupons as coupon_ops
from shequn.commerce.membership import public_membership
from shequn.commerce.models import paid_memberships
from shequn.commerce.orders import (
    MAX_WEBHOOK_BYTES,
    SIGNATURE_HEADER,
    do_create_shop,
    do_shop_webhook,
    list_orders,
    orders_from_csv,
)
from shequn.commerce.schemas import (
    ChainEntryOut,
    CommissionOut,
    CouponOut,
    CouponStatsOut,
    OrderOut,
    PaidMembershipOut,
    PaidOut,
    PromoterOut,
    ReceivedOut,
    ShopOut,
)
from shequn.commerce.texts import say
from shequn.community.service import access_workspace
from shequn.engine.ingest import IngestResult, caught_up
from shequn.engine.service import do_ingest_items
from shequn.events import BatchRejected, RequestInstant
from shequn.growth.livecode import check_key
from shequn.platform.db import transaction
from shequn.platform.errors import NotFound
from shequn.platform.schemas import RowId
from shequn.web.auth import EngineDep, Latest, Now, Workspace
from shequn.web.body import read_bounded
from shequn.web.problems import Problem, problem_responses, workspace_router

router = workspace_router("commerce")
public = APIRouter(tags=["public"], responses=problem_responses(401, 404, 413, 422))


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShopIn(_Body):
    name: str | None = Field(default=None, max_length=100)
    channel: str = Field(default="sandbox", max_length=32)


class IssueIn(_Body):
    template: str = Field(min_length=1, max_length=64)
    member: str = Field(min_length=1, max_length=128)
    channel: str = Field(default="sandbox", max_length=32)
    key: str | None = Field(default=None, max_length=200, description="Idempotency key.")


class RedeemIn(_Body):
    member: str | None = Field(default=None, max_length=128)
    at: RequestInstant | None = None


class PayIn(_Body):
    ids: list[RowId] | None = Field(default=None, max_length=10_000)
    promoter: str | None = Field(default=None, max_length=128)


class ChainIdsIn(_Body):
    ids: list[str] = Field(min_length=1, max_length=1000, description="Entry or chain ids.")


class ChainConfirmIn(ChainIdsIn):
    amount_fen: int | None = Field(default=None, ge=0, description="For one unpriced entry.")
    at: RequestInstant | None = Field(default=None, description="When it was paid (now).")


class PromoterIn(_Body):
    channel: str = Field(default="sandbox", max_length=32)
    tier: str | None = Field(default=None, max_length=32, description="Fixed tier (else by sales).")


class PromoterRef(_Body):
    channel: str = Field(default="sandbox", max_length=32)


@router.put(
    "/shops/{key}",
    status_code=201,
    summary="Create a shop; answers its webhook secret once",
    response_model=ShopOut,
)
def put_shop(
    key: str, body: ShopIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    check_key(key, "shop")
    with transaction(engine) as conn:
        secret = do_create_shop(conn, workspace, key, body.name, body.channel, now)
    return {
        "shop": key,
        "secret": secret,
        "webhook": f"/shop/{workspace.slug}/{key}/webhook",
        "signature": f"{SIGNATURE_HEADER}: sha256=HMAC-SHA256(secret, body) in hex",
    }


@router.get(
    "/orders",
    summary="Orders with their attribution",
    response_model=list[OrderOut],
)
def get_orders(
    workspace: Workspace, engine: EngineDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return list_orders(conn, workspace, limit)


@router.post(
    "/orders/import",
    summary="Import orders from CSV (all lines checked first)",
    response_model=ReceivedOut,
)
async def post_orders_csv(
    request: Request, workspace: Workspace, engine: EngineDep, latest: Latest
) -> dict[str, Any]:
    body = await read_bounded(request, request.app.state.settings.max_body_bytes)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(400, "Malformed CSV", "the file must be UTF-8") from exc
    events, errors = orders_from_csv(text)
    if errors:
        raise BatchRejected(errors, unit="line")
    from starlette.concurrency import run_in_threadpool

    report = await run_in_threadpool(
        partial(do_ingest_items, engine, workspace, events, latest=latest)
    )
    return {
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "conflicts": report.conflicts,
    }


@router.get(
    "/chain-entries",
    summary="Order-chain 接龙 entries with their status",
    response_model=list[ChainEntryOut],
)
def get_chain_entries(
    workspace: Workspace,
    engine: EngineDep,
    status: str | None = None,
    group: str | None = None,
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return chain_orders.list_entries(conn, workspace, status, group)


@router.post(
    "/chain-entries/confirm",
    summary="Confirm chain entries as paid: real orders",
    response_model=list[ChainEntryOut],
)
def post_chain_confirm(
    body: ChainConfirmIn, workspace: Workspace, engine: EngineDep, now: Now
) -> list[dict[str, Any]]:
    with transaction(engine) as conn:
        return chain_orders.do_confirm_entries(
            conn, workspace, body.ids, (body.at or now).astimezone(UTC), body.amount_fen
        )


@router.post(
    "/chain-entries/cancel",
    summary="Cancel claimed chain entries",
    response_model=list[ChainEntryOut],
)
def post_chain_cancel(
    body: ChainIdsIn, workspace: Workspace, engine: EngineDep
) -> list[dict[str, Any]]:
    with transaction(engine) as conn:
        return chain_orders.do_cancel_entries(conn, workspace, body.ids)


@router.get(
    "/promoters",
    summary="Promoters 分销员 with tier, status and sales",
    response_model=list[PromoterOut],
)
def get_promoters(workspace: Workspace, engine: EngineDep) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return distribution.list_promoters(conn, workspace)


@router.put(
    "/promoters/{member}",
    summary="Enrol a member as a promoter (or re-activate)",
    response_model=PromoterOut,
)
def put_promoter(
    member: str, body: PromoterIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return distribution.do_enrol(conn, workspace, body.channel, member, now, body.tier)


@router.put(
    "/promoters/{member}/tier",
    summary="Fix a promoter's tier (null: follow sales)",
    response_model=PromoterOut,
)
def put_promoter_tier(
    member: str, body: PromoterIn, workspace: Workspace, engine: EngineDep
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return distribution.do_set_tier(conn, workspace, body.channel, member, body.tier)


@router.post(
    "/promoters/{member}/disable",
    summary="Disable a promoter: no new commissions",
    response_model=PromoterOut,
)
def post_promoter_disable(
    member: str, body: PromoterRef, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return distribution.do_disable(conn, workspace, body.channel, member, now)


@router.get(
    "/commissions",
    summary="Distribution commissions",
    response_model=list[CommissionOut],
)
def get_commissions(
    workspace: Workspace, engine: EngineDep, status: str | None = None
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return distribution.list_commissions(conn, workspace, status)


@router.post(
    "/commissions/paid",
    summary="Record confirmed commissions as paid",
    response_model=PaidOut,
)
def post_commissions_paid(
    body: PayIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, int]:
    with transaction(engine) as conn:
        return {"paid": distribution.do_pay(conn, workspace, now, body.ids, body.promoter)}


@router.post(
    "/coupons",
    status_code=201,
    summary="Issue a coupon from a template",
    response_model=CouponOut,
)
def post_coupon(body: IssueIn, workspace: Workspace, engine: EngineDep, now: Now) -> dict[str, Any]:
    with transaction(engine) as conn:
        return coupon_ops.issue_coupon(
            conn,
            workspace,
            template=body.template,
            channel=body.channel,
            member=body.member,
            key=body.key or f"api:{body.template}:{body.member}:{now.isoformat()}",
            reason="staff",
            at=now,
        )


@router.get(
    "/coupons/stats",
    summary="Issued, redeemed and redemption rate per template",
    response_model=list[CouponStatsOut],
)
def get_coupon_stats(workspace: Workspace, engine: EngineDep) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return coupon_ops.coupon_stats(conn, workspace)


@router.get(
    "/coupons/{code}",
    summary="A coupon",
    response_model=CouponOut,
)
def get_coupon(code: str, workspace: Workspace, engine: EngineDep) -> dict[str, Any]:
    with engine.connect() as conn:
        return coupon_ops.access_coupon(conn, workspace, code)


@router.post(
    "/coupons/{code}/redeem",
    summary="Redeem 核销 a coupon",
    response_model=CouponOut,
)
def post_redeem(
    code: str, body: RedeemIn, workspace: Workspace, engine: EngineDep, now: Now, latest: Latest
) -> dict[str, Any]:
    with engine.connect() as conn:
        coupon = coupon_ops.access_coupon(conn, workspace, code)
    member = body.member or coupon["member"]
    at = (body.at or now).isoformat()
    raw = {
        "id": f"coupon:{code}:redeem",
        "type": "coupon.redeemed",
        "channel": coupon["channel"],
        "member": member,
        "at": at,
        "data": {"coupon_id": code},
    }
    do_ingest_items(engine, workspace, [raw], latest=latest)
    with engine.connect() as conn:
        after = coupon_ops.access_coupon(conn, workspace, code)
    if after["status"] != "redeemed" or after["member"] != member:
        raise Problem(
            409, "Coupon not redeemed", f"coupon {code} is {after['status']}", coupon=after
        )
    return after


@router.get(
    "/paid-memberships",
    summary="Paid memberships",
    response_model=list[PaidMembershipOut],
)
def get_memberships(
    workspace: Workspace, engine: EngineDep, member: str | None = None
) -> list[dict[str, Any]]:
    t = paid_memberships
    stmt = select(t).where(t.c.workspace_id == workspace.id)
    if member is not None:
        stmt = stmt.where(and_(t.c.member_ext == member))
    with engine.connect() as conn:
        return [public_membership(r) for r in conn.execute(stmt.order_by(t.c.id)).mappings()]


@public.post(
    "/shop/{ws}/{shop}/webhook",
    summary="Shop webhook (HMAC-SHA256 signed)",
    response_model=ReceivedOut,
)
async def shop_webhook(
    ws: str, shop: str, request: Request, now: Now, latest: Latest
) -> dict[str, Any]:
    """Orders, refunds and coupon redemptions from a shop. The signature is checked over the
    raw body before anything in it is read; the same delivery twice is one order."""
    engine = request.app.state.engine
    body = await read_bounded(request, MAX_WEBHOOK_BYTES)
    signature = request.headers.get(SIGNATURE_HEADER)

    def run() -> dict[str, Any]:
        with engine.connect() as conn:
            try:
                workspace = access_workspace(conn, ws)
            except NotFound:
                # The same answer as for an unknown shop: a stranger learns nothing.
                raise NotFound(say, "commerce.no_webhook") from None

        def deliver() -> IngestResult:
            with transaction(engine) as conn:
                return do_shop_webhook(
                    conn, workspace, shop, body, signature, now=now, latest=latest
                )

        result = caught_up(engine, workspace, deliver)
        return {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "conflicts": result.conflicts,
        }

    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(run)
