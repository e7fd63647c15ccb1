"""Engine rules of commerce: orders and refunds with their attribution and commissions,
coupons (on joining, redeemed, expired), paid membership (purchases, reminders, gated groups,
expiry) and order chains."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select, update

from shequn.actions import ActionKind, Decision
from shequn.commerce import coupons as coupon_ops
from shequn.commerce import distribution, membership
from shequn.commerce.chain import parse_chain
from shequn.commerce.models import chain_entries, orders
from shequn.commerce.texts import say
from shequn.community.service import NotFound
from shequn.engine.books import Book, register_book
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import (
    CouponRedeemedData,
    Event,
    MemberJoinedData,
    MessagePostedData,
    OrderPaidData,
    OrderRefundedData,
)
from shequn.growth.attribution import attribution_in_run
from shequn.growth.refunds import reverse_for_refund
from shequn.platform.db import insert_ignore

CONFIRM_JOB = "commerce.confirm_commissions"


@register_book
class CommerceBook(Book):
    """Commerce writes its rows at once within the run's transaction (orders are few)."""

    def order(self, order_id: str) -> dict[str, Any] | None:
        t = orders
        row = (
            self.conn.execute(
                select(t).where(
                    and_(t.c.workspace_id == self.workspace_id, t.c.order_id == order_id)
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row is not None else None


def _source(event: Event) -> str:
    for prefix in ("shop", "csv", "chain"):
        if event.id.startswith(f"{prefix}:"):
            return prefix
    return "event"


@rule("commerce", "orders", on=["order.paid"])
def order_paid(event: Event, ctx: Context) -> Iterable[Decision]:
    """Record the order once, credit it, redeem its coupon, add commissions and memberships."""
    assert isinstance(event.data, OrderPaidData) and event.member is not None
    data = event.data
    book = ctx.book(CommerceBook)
    known = book.order(data.order_id)
    if known is not None and known["status"] != "claimed":
        return ()  # the same order under another delivery id: first one wins
    attr = attribution_in_run(ctx, event.channel, event.member)
    promoter = data.promoter or attr.inviter
    conn = book.conn
    values = {
        "channel": event.channel,
        "member_ext": event.member,
        "group_ext": event.group or attr.group,
        "campaign": attr.campaign,
        "promoter": promoter,
        "source": _source(event),
        "amount_fen": data.amount_fen,
        "refunded_fen": 0,
        "coupon": data.coupon,
        "items": list(data.items or []),
        "status": "paid",
        "paid_at": event.at,
        "caused_by": event.id,
    }
    if known is None:
        conn.execute(
            orders.insert().values(workspace_id=ctx.workspace.id, order_id=data.order_id, **values)
        )
    else:  # a chain entry staff confirmed as paid: from now on an order like any other
        conn.execute(update(orders).where(orders.c.id == known["id"]).values(**values))
    if data.coupon:
        coupon_ops.redeem(
            conn,
            ctx.workspace.id,
            data.coupon,
            member=event.member,
            at=event.at,
            order_id=data.order_id,
        )
    cfg = ctx.config.distribution
    if cfg.enabled and promoter is not None:
        chain = [promoter]
        if cfg.levels == 2:
            upline = attribution_in_run(ctx, event.channel, promoter).inviter
            if upline is not None:
                chain.append(upline)
        made = distribution.add_commissions(
            conn,
            ctx.workspace,
            order_id=data.order_id,
            channel=event.channel,
            buyer=event.member,
            base_fen=data.amount_fen,
            chain=chain,
            campaign=attr.campaign,
            at=event.at,
        )
        if made:
            ctx.schedule(
                CONFIRM_JOB,
                slot=f"commerce.confirm:{data.order_id}",
                due_at=made[0]["confirm_after"],
                payload={
                    "order_id": data.order_id,
                    "channel": event.channel,
                    "caused_by": event.id,
                },
            )
    return _memberships_bought(ctx, event, data)


def _memberships_bought(ctx: Context, event: Event, data: OrderPaidData) -> list[Decision]:
    plans = ctx.config.membership.plans
    if not plans or not data.items:
        return []
    assert event.member is not None
    items = data.items
    bought = {
        key: qty
        for key, plan in plans.items()
        if (qty := sum(int(i.get("qty", 1)) for i in items if i.get("sku") == plan.sku)) > 0
    }
    if not bought:
        return []
    underpaid = _underpaid(ctx, event, data, bought)
    if underpaid is not None:
        return [underpaid]
    for key, qty in bought.items():
        plan = plans[key]
        expires = membership.extend(
            ctx.book(CommerceBook).conn,
            ctx.workspace.id,
            channel=event.channel,
            member=event.member,
            plan_key=key,
            plan=plan,
            periods=qty,
            order_id=data.order_id,
            at=event.at,
        )
        stamp = expires.isoformat()
        base = {"channel": event.channel, "member": event.member, "plan": key, "expires_at": stamp}
        for days in plan.remind_days:
            due = expires - timedelta(days=days)
            if due > event.at:
                ctx.schedule(
                    membership.REMIND_JOB,
                    slot=f"commerce.remind:{event.channel}:{event.member}:{key}:{stamp}:{days}",
                    due_at=due,
                    payload={**base, "days": days},
                )
        ctx.schedule(
            membership.EXPIRY_JOB,
            slot=f"commerce.expiry:{event.channel}:{event.member}:{key}:{stamp}",
            due_at=expires,
            payload=base,
        )
    return []


def _underpaid(
    ctx: Context, event: Event, data: OrderPaidData, bought: dict[str, int]
) -> Decision | None:
    """A staff task when the order paid less than the plans' fees and its coupon does not
    explain the difference; the membership is then not granted. With priced items, what the
    plan items' share of the order paid is compared, not the other items' money too."""
    plans = ctx.config.membership.plans
    fee = sum(plans[key].fee_fen * qty for key, qty in bought.items())
    skus = {plans[key].sku for key in bought}
    paid = membership.paid_for_plans_fen(data.items or [], skus, data.amount_fen)
    coupon = None
    if data.coupon:
        try:
            coupon = coupon_ops.access_coupon(
                ctx.book(CommerceBook).conn, ctx.workspace, data.coupon
            )
        except NotFound:
            coupon = None
    off = membership.coupon_discount_fen(coupon, data.order_id, fee)
    if paid + off >= fee:
        return None
    text = say(
        "membership.underpaid",
        ctx.workspace.locale,
        plan=say("list.separator", ctx.workspace.locale).join(plans[key].name for key in bought),
        order=data.order_id,
        paid=f"{paid / 100:.2f}",
        coupon=f"{off / 100:.2f}",
        fee=f"{fee / 100:.2f}",
    )
    return Decision(
        kind=ActionKind.STAFF_TASK,
        reason=text,
        group=event.group,
        member=event.member,
        data={
            "text": text,
            "order_id": data.order_id,
            "plans": sorted(bought),
            "paid_fen": paid,
            "order_fen": data.amount_fen,
            "coupon_fen": off,
            "fee_fen": fee,
        },
        key=f"commerce.underpaid:{data.order_id}",
    )


@rule("commerce", "refunds", on=["order.refunded"])
def order_refunded(event: Event, ctx: Context) -> Iterable[Decision]:
    assert isinstance(event.data, OrderRefundedData)
    book = ctx.book(CommerceBook)
    order = book.order(event.data.order_id)
    if order is None:
        return ()
    paid = int(order["amount_fen"])
    refunded = min(int(order["refunded_fen"]) + event.data.amount_fen, paid)
    book.conn.execute(
        update(orders)
        .where(orders.c.id == order["id"])
        .values(
            refunded_fen=refunded,
            status="refunded" if refunded >= paid else "partly_refunded",
            refunded_at=event.at,
        )
    )
    distribution.on_refund(book.conn, ctx.workspace.id, order["order_id"], paid, refunded, event.at)
    if refunded >= paid:
        membership.revoke_for_refund(book.conn, ctx.workspace.id, order["order_id"], event.at)
        return reverse_for_refund(ctx, order, event)
    return ()


@job_handler("commerce", "confirm_commissions", kind=CONFIRM_JOB)
def confirm_commissions(job: Job, ctx: Context) -> Iterable[Decision]:
    """The refund window has passed: pending commissions of the order are confirmed."""
    distribution.confirm_due(
        ctx.book(CommerceBook).conn, ctx.workspace.id, job.payload["order_id"], ctx.now
    )
    return ()


# --- Coupons ------------------------------------------------------------------------------


@rule("commerce", "join_coupon", on=["member.joined"])
def join_coupon(event: Event, ctx: Context) -> Iterable[Decision]:
    """进群领券: a coupon for a member's first join in the workspace."""
    template = ctx.config.coupons.on_join
    if template is None:
        return ()
    assert event.member is not None
    person = ctx.state.member(event.channel, event.member)
    if person is None or person.first_joined_at != event.at:
        return ()
    coupon_ops.issue_coupon(
        ctx.book(CommerceBook).conn,
        ctx.workspace,
        template=template,
        channel=event.channel,
        member=event.member,
        key=f"join:{event.channel}:{event.member}",
        reason="join",
        at=event.at,
        jobs=ctx.jobs,
    )
    return ()


@rule("commerce", "coupon_redeemed", on=["coupon.redeemed"])
def coupon_redeemed(event: Event, ctx: Context) -> Iterable[Decision]:
    assert isinstance(event.data, CouponRedeemedData)
    coupon_ops.redeem(
        ctx.book(CommerceBook).conn,
        ctx.workspace.id,
        event.data.coupon_id,
        member=event.member,
        at=event.at,
    )
    return ()


@job_handler("commerce", "coupon_expiry", kind=coupon_ops.EXPIRY_JOB)
def coupon_expiry(job: Job, ctx: Context) -> Iterable[Decision]:
    coupon_ops.expire(ctx.book(CommerceBook).conn, ctx.workspace.id, job.payload["code"], ctx.now)
    return ()


# --- Paid membership ----------------------------------------------------------------------


@rule("commerce", "gate", on=["member.joined"])
def gated_group(event: Event, ctx: Context) -> Iterable[Decision]:
    """A paid group admits only members with an active membership; others are removed."""
    assert isinstance(event.data, MemberJoinedData) and event.group and event.member
    plans = ctx.config.membership.plans
    keys = membership.plans_gating(plans, event.group)
    if not keys:
        return ()
    group = ctx.state.group(event.channel, event.group)
    if group is not None and group.owner == event.member:
        return ()
    conn = ctx.book(CommerceBook).conn
    if membership.has_access(conn, ctx.workspace.id, event.channel, event.member, keys, event.at):
        return ()
    return [
        Decision(
            kind=ActionKind.MEMBER_REMOVE,
            reason=say("membership.gate_reason", ctx.workspace.locale, plan=plans[keys[0]].name),
            group=event.group,
            member=event.member,
        )
    ]


@job_handler("commerce", "renewal_reminder", kind=membership.REMIND_JOB)
def renewal_reminder(job: Job, ctx: Context) -> Iterable[Decision]:
    p = job.payload
    conn = ctx.book(CommerceBook).conn
    row = membership.current(conn, ctx.workspace.id, p["channel"], p["member"], p["plan"])
    plan = ctx.config.membership.plans.get(p["plan"])
    if row is None or plan is None or row["expires_at"].isoformat() != p["expires_at"]:
        return ()  # renewed or revoked since: this reminder is stale
    locale = ctx.workspace.locale
    person = ctx.state.member(p["channel"], p["member"])
    nickname = (person.nickname if person else None) or p["member"]
    where = next(
        (
            g
            for g in plan.groups
            if (ms := ctx.state.membership(p["channel"], g, p["member"])) is not None and ms.active
        ),
        None,
    )
    local = row["expires_at"].astimezone(ctx.workspace.tz).date().isoformat()
    text = say("membership.remind", locale, nickname=nickname, plan=plan.name, date=local)
    return [
        Decision(
            kind=ActionKind.MESSAGE_SEND if where else ActionKind.STAFF_TASK,
            reason=say("membership.remind_reason", locale, days=p["days"]),
            group=where,
            member=p["member"],
            data={"text": text, "mentions": [p["member"]]},
            key=f"commerce.remind:{job.slot}",
        )
    ]


@job_handler("commerce", "membership_expiry", kind=membership.EXPIRY_JOB)
def membership_expiry(job: Job, ctx: Context) -> Iterable[Decision]:
    """An ended membership leaves the gated groups (unless another plan still covers them)."""
    p = job.payload
    conn = ctx.book(CommerceBook).conn
    row = membership.current(conn, ctx.workspace.id, p["channel"], p["member"], p["plan"])
    plans = ctx.config.membership.plans
    plan = plans.get(p["plan"])
    if row is None or plan is None or row["expires_at"] > ctx.now:
        return ()
    out = []
    for group in plan.groups:
        ms = ctx.state.membership(p["channel"], group, p["member"])
        if ms is None or not ms.active:
            continue
        keys = membership.plans_gating(plans, group)
        if membership.has_access(conn, ctx.workspace.id, p["channel"], p["member"], keys, ctx.now):
            continue
        out.append(
            Decision(
                kind=ActionKind.MEMBER_REMOVE,
                reason=say("membership.expired_reason", ctx.workspace.locale, plan=plan.name),
                group=group,
                member=p["member"],
                key=f"commerce.expiry:{job.slot}:{group}",
            )
        )
    return out


# --- Order chains ----------------------------------------------------------------------------


@rule("commerce", "order_chain", on=["message.posted"])
def order_chain(event: Event, ctx: Context) -> Iterable[Decision]:
    """A chain message: each line not seen before becomes an order claimed by the poster."""
    cfg = ctx.config.order_chain
    assert isinstance(event.data, MessagePostedData) and event.group and event.member
    if not cfg.enabled or not event.data.text:
        return ()
    chain = parse_chain(event.data.text, cfg.markers, cfg.prices)
    if chain is None:
        return ()
    book = ctx.book(CommerceBook)
    c = chain_entries
    known = set(
        book.conn.execute(
            select(c.c.number).where(
                and_(
                    c.c.workspace_id == ctx.workspace.id,
                    c.c.channel == event.channel,
                    c.c.group_ext == event.group,
                    c.c.chain == chain.title[:200],
                )
            )
        ).scalars()
    )
    digest = hashlib.blake2b(f"{event.group}|{chain.title}".encode(), digest_size=4).hexdigest()
    for entry in chain.entries:
        if entry.number in known:
            continue
        order_id = f"chain:{digest}:{entry.number}"
        amount = entry.amount_fen(cfg.prices)
        items = [{"product": p, "qty": q} for p, q in entry.items]
        insert_ignore(
            book.conn,
            c,
            [
                {
                    "workspace_id": ctx.workspace.id,
                    "channel": event.channel,
                    "group_ext": event.group,
                    "chain": chain.title[:200],
                    "number": entry.number,
                    "member_ext": event.member,
                    "name": entry.name[:200],
                    "text": entry.text,
                    "items": items,
                    "amount_fen": amount,
                    "order_id": order_id,
                    "at": event.at,
                }
            ],
        )
        if book.order(order_id) is None:
            book.conn.execute(
                orders.insert().values(
                    workspace_id=ctx.workspace.id,
                    order_id=order_id,
                    channel=event.channel,
                    member_ext=event.member,
                    group_ext=event.group,
                    campaign=None,
                    promoter=None,
                    source="chain",
                    amount_fen=amount,
                    refunded_fen=0,
                    coupon=None,
                    items=items,
                    status="claimed",
                    paid_at=event.at,
                    caused_by=event.id,
                )
            )
    return ()
