"""Engine rules of commerce: orders and refunds with their attribution and commissions,
coupons (on joining, redeemed, expired), paid membership (purchases, reminders, gated groups,
expiry) and order chains."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, select

from shequn.actions import ActionKind, Decision
from shequn.commerce import coupons as coupon_ops
from shequn.commerce import distribution, membership
from shequn.commerce.chain import parse_chain
from shequn.commerce.models import chain_entries, coupons, orders
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
from shequn.platform.db import KEYS_PER_QUERY, chunks, insert_ignore, write_changes

CONFIRM_JOB = "commerce.confirm_commissions"


_ORDER_COLUMNS = tuple(c.name for c in orders.c if c.name != "id")


@register_book
class CommerceBook(Book):
    """Orders as the batch's rules need them: the orders its events name are loaded in one
    query, new orders and changes are written with the batch. The refund path reads the
    orders table itself (a buyer's order rank), so it writes what is pending first."""

    def __init__(self, conn: Connection, workspace_id: int) -> None:
        super().__init__(conn, workspace_id)
        self._orders: dict[str, dict[str, Any] | None] = {}
        self._new: list[dict[str, Any]] = []
        self._changed: dict[int, dict[str, Any]] = {}  # id -> the changed row
        self._columns: set[str] = set()
        self._coupons: dict[str, dict[str, Any] | None] = {}

    def preload(self, events: Sequence[Event]) -> None:
        self._load(
            {
                ev.data.order_id
                for ev in events
                if isinstance(ev.data, OrderPaidData | OrderRefundedData)
            }
        )
        codes = {ev.data.coupon_id for ev in events if isinstance(ev.data, CouponRedeemedData)}
        for ev in events:
            if isinstance(ev.data, OrderPaidData) and ev.data.coupon:
                codes.add(ev.data.coupon)
        self._load_coupons(codes)

    def _load_coupons(self, codes: set[str]) -> None:
        """The coupons these codes name (None: no such coupon), read again after a write
        (issuing, redeeming, voiding and expiring write at once, on the same connection)."""
        coupon_ops.forget_written(self.conn)
        t = coupons
        for part in chunks(sorted(codes), KEYS_PER_QUERY):
            self._coupons.update(dict.fromkeys(part))
            rows = self.conn.execute(
                select(t).where(and_(t.c.workspace_id == self.workspace_id, t.c.code.in_(part)))
            ).mappings()
            for row in rows:
                self._coupons[row["code"]] = dict(row)

    def redeem(self, code: str, member: str | None, at: datetime, order_id: str | None) -> str:
        """`coupons.redeem`, reading the coupon from what the batch loaded."""
        if code not in self._coupons or code in coupon_ops.written(self.conn):
            self._coupons[code] = coupon_ops.find_coupon(self.conn, self.workspace_id, code)
        return coupon_ops.redeem_found(self.conn, self._coupons[code], member, at, order_id)

    def _load(self, order_ids: set[str]) -> None:
        wanted = sorted(o for o in order_ids if o not in self._orders)
        t = orders
        for part in chunks(wanted, KEYS_PER_QUERY):
            self._orders.update(dict.fromkeys(part))
            rows = self.conn.execute(
                select(t).where(and_(t.c.workspace_id == self.workspace_id, t.c.order_id.in_(part)))
            ).mappings()
            for row in rows:
                self._orders[row["order_id"]] = dict(row)

    def order(self, order_id: str) -> dict[str, Any] | None:
        if order_id not in self._orders:
            self._load({order_id})
        return self._orders[order_id]

    def add_order(self, order_id: str, **values: Any) -> None:
        row: dict[str, Any] = dict.fromkeys(_ORDER_COLUMNS)
        row.update(workspace_id=self.workspace_id, order_id=order_id, **values, id=None)
        self._orders[order_id] = row
        self._new.append(row)

    def change_order(self, row: dict[str, Any], **values: Any) -> None:
        row.update(values)
        if row["id"] is not None:
            self._changed[row["id"]] = row
            self._columns.update(values)

    def flush(self) -> None:
        """New orders in one statement, then changed columns grouped by shape; written rows
        are read back (with their ids) on next use."""
        if self._new:
            self.conn.execute(
                orders.insert(), [{c: row.get(c) for c in _ORDER_COLUMNS} for row in self._new]
            )
            for row in self._new:
                self._orders.pop(row["order_id"], None)
        write_changes(self.conn, orders, sorted(self._columns), list(self._changed.values()))
        self._new, self._changed, self._columns = [], {}, set()


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
        book.add_order(data.order_id, **values)
    else:  # a chain entry staff confirmed as paid: from now on an order like any other
        book.change_order(known, **values)
    if data.coupon:
        book.redeem(data.coupon, event.member, event.at, data.order_id)
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
    # What the refund reads below (the buyer's order rank) is in the table: write first.
    book.flush()
    order = book.order(event.data.order_id)
    assert order is not None
    before = dict(order)
    paid = int(order["amount_fen"])
    refunded = min(int(order["refunded_fen"]) + event.data.amount_fen, paid)
    book.change_order(
        order,
        refunded_fen=refunded,
        status="refunded" if refunded >= paid else "partly_refunded",
        refunded_at=event.at,
    )
    order = before
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
    ctx.book(CommerceBook).redeem(event.data.coupon_id, event.member, event.at, None)
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
            book.add_order(
                order_id,
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
    return ()
