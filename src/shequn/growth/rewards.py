"""The reward ledger: coupons, points, identities and cash / red-packet liabilities.

Every reward has a key that names its reason (campaign, kind of reason, beneficiary,
subject); the table's unique key makes issuing idempotent, so replays and duplicated events
never issue twice. Issuing happens under the workspace's writer lock (rules run inside the
ingest transaction; staff decisions take the lock), so the budget check and the insert are
one step and a campaign's budget cap holds under any concurrency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from shequn.actions import ActionKind, Decision
from shequn.community.service import Conflict, NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.config.growth import Reward
from shequn.engagement.points import PointsBook
from shequn.engine.books import Book, register_book
from shequn.engine.outbox import OutboxWriter
from shequn.engine.rules import Context
from shequn.engine.service import do_record_staff_events, staff_event, staff_event_id
from shequn.engine.state import BatchState
from shequn.growth.fraud import Verdict
from shequn.growth.models import rewards
from shequn.growth.notices import reward_notice
from shequn.growth.referrals import ReferralBook
from shequn.growth.targeting import admitted, admitted_at
from shequn.growth.texts import say
from shequn.platform.db import lock_workspace

HOLDS_BUDGET = ("issued", "review", "paid")
"""Statuses whose cost counts against the budget: a reward in review keeps its place."""
REVERSIBLE = ("issued", "review")
"""A paid reward has left Shequn: it can no longer be reversed."""


@dataclass(frozen=True, slots=True)
class Issued:
    id: int
    key: str
    status: str
    reward: Reward
    member: str
    channel: str
    campaign: str | None = None

    @classmethod
    def from_row(cls, row: Any, status: str | None = None) -> Issued:
        """The reward of a ledger row, with `status` when it has just changed."""
        return cls(
            row["id"],
            row["key"],
            status or row["status"],
            as_reward(row),
            row["member_ext"],
            row["channel"],
            row["campaign"],
        )

    def effects_row(self, reason: str, rule: str, caused_by: str | None) -> dict[str, Any]:
        """What `apply_effects` reads of the ledger row, for a reward just recorded."""
        return {
            "kind": self.reward.kind,
            "points": self.reward.points,
            "coupon": self.reward.coupon,
            "identity": self.reward.identity,
            "channel": self.channel,
            "member_ext": self.member,
            "key": self.key,
            "reason": reason,
            "rule": rule,
            "caused_by": caused_by,
        }


def spent_fen(conn: Connection, workspace_id: int, campaign: str) -> int:
    t = rewards
    total = conn.execute(
        select(func.coalesce(func.sum(t.c.cost_fen), 0)).where(
            and_(
                t.c.workspace_id == workspace_id,
                t.c.campaign == campaign,
                t.c.status.in_(HOLDS_BUDGET),
            )
        )
    ).scalar_one()
    return int(total)


def _budget_allows(
    conn: Connection, ws: WorkspaceInfo, campaign: str | None, cost: int, extra: int = 0
) -> bool:
    spec = ws.config.campaigns.get(campaign)
    if spec is None or spec.budget_fen is None or cost == 0 or campaign is None:
        return True
    return spent_fen(conn, ws.id, campaign) + extra + cost <= spec.budget_fen


def insert_reward(
    conn: Connection,
    ws: WorkspaceInfo,
    *,
    key: str,
    campaign: str | None,
    channel: str,
    member: str,
    reward: Reward,
    reason: str,
    rule: str,
    at: datetime,
    caused_by: str | None = None,
    subject: str | None = None,
    review: bool = False,
    fraud_score: int = 0,
    fraud_reasons: Iterable[str] = (),
    note: str | None = None,
    admitted: Callable[[], bool] | None = None,
) -> Issued | None:
    """Record a reward once per key; None when the key was already used.

    The caller holds the workspace's writer lock. A reward the budget cannot pay, or for a
    member outside the campaign's segment (`admitted`, asked only for a new key), is recorded
    as rejected (so it is visible and never retried by a replay).
    """
    t = rewards
    if conn.execute(select(t.c.id).where(and_(t.c.workspace_id == ws.id, t.c.key == key))).first():
        return None
    cost = reward.cost_fen
    status = "review" if review else "issued"
    if admitted is not None and not admitted():
        status, note = "rejected", "segment"
    elif not _budget_allows(conn, ws, campaign, cost):
        status, note = "rejected", "budget"
    row_id = conn.execute(
        t.insert().values(
            workspace_id=ws.id,
            key=key,
            campaign=campaign,
            channel=channel,
            member_ext=member,
            kind=reward.kind,
            amount_fen=reward.amount_fen,
            points=reward.points,
            coupon=reward.coupon,
            identity=reward.identity,
            cost_fen=cost,
            status=status,
            reason=reason,
            note=note,
            subject=subject,
            rule=rule,
            caused_by=caused_by,
            fraud_score=fraud_score,
            fraud_reasons=list(fraud_reasons),
            created_at=at,
            decided_at=at if status != "review" else None,
            decided_by="rule" if status != "review" else None,
        )
    ).inserted_primary_key
    assert row_id is not None
    return Issued(int(row_id[0]), key, status, reward, member, channel, campaign)


@register_book
class RewardBook(Book):
    """Rules reach the ledger through this book; it writes at once (rewards are few)."""

    def issue(self, ws: WorkspaceInfo, **kwargs: Any) -> Issued | None:
        return insert_reward(self.conn, ws, **kwargs)

    def by_key(self, key: str) -> Any | None:
        """A ledger row by its key (the reward's stable name), or None."""
        return reward_by_key(self.conn, self.workspace_id, key)

    def for_subject(self, campaign: str | None, subject: str) -> list[Any]:
        t = rewards
        cond = [t.c.workspace_id == self.workspace_id, t.c.subject == subject]
        if campaign is not None:
            cond.append(t.c.campaign == campaign)
        return list(self.conn.execute(select(t).where(and_(*cond))).mappings())

    def reverse(
        self,
        ws: WorkspaceInfo,
        row: Any,
        note: str,
        at: datetime,
        points_book: PointsBook,
        caused_by: str | None = None,
    ) -> bool:
        return reverse_reward(
            self.conn, ws, row, note, at, by="rule", points_book=points_book, caused_by=caused_by
        )

    def count_today(self, channel: str, member: str, reason: str, since: datetime) -> int:
        t = rewards
        return int(
            self.conn.execute(
                select(func.count()).where(
                    and_(
                        t.c.workspace_id == self.workspace_id,
                        t.c.channel == channel,
                        t.c.member_ext == member,
                        t.c.reason == reason,
                        t.c.created_at >= since,
                        t.c.status.in_(HOLDS_BUDGET),
                    )
                )
            ).scalar_one()
        )


# --- Staff decisions ------------------------------------------------------------------------


def _reward_row(conn: Connection, ws: WorkspaceInfo, reward_id: int) -> Any:
    row = (
        conn.execute(
            select(rewards).where(and_(rewards.c.workspace_id == ws.id, rewards.c.id == reward_id))
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(say, "growth.no_reward", reward=reward_id)
    return row


def as_reward(row: Any) -> Reward:
    return Reward(
        kind=row["kind"],
        amount_fen=row["amount_fen"],
        points=row["points"],
        coupon=row["coupon"],
        identity=row["identity"],
        value_fen=row["cost_fen"] if row["kind"] not in ("cash", "redpacket", "discount") else None,
    )


def reward_by_key(conn: Connection, workspace_id: int, key: str) -> Any | None:
    t = rewards
    return (
        conn.execute(select(t).where(and_(t.c.workspace_id == workspace_id, t.c.key == key)))
        .mappings()
        .first()
    )


def check_review(conn: Connection, ws: WorkspaceInfo, reward_id: int) -> Any:
    """The reward to review; refused unless it waits for review."""
    row = _reward_row(conn, ws, reward_id)
    if row["status"] != "review":
        raise Conflict(say, "growth.reward_not_in_review", reward=reward_id, status=row["status"])
    return row


def do_review(
    conn: Connection,
    ws: WorkspaceInfo,
    reward_id: int,
    *,
    approve: bool,
    by: str,
    at: datetime,
    note: str | None = None,
) -> dict[str, Any]:
    """Approve or reject a reward waiting for review. Approval respects the budget.

    The decision is a `reward.reviewed` event naming the reward by its key; the rule
    `growth.review` applies it (status, effects, the member's notice), so a replay does too.
    """
    lock_workspace(conn, ws.id)
    row = check_review(conn, ws, reward_id)
    do_record_staff_events(
        conn,
        ws,
        [
            staff_event(
                type_="reward.reviewed",
                id_=staff_event_id("review", row["key"]),
                channel=row["channel"],
                member=row["member_ext"],
                at=at,
                data={"reward": row["key"], "approve": approve, "by": by, "note": note},
            )
        ],
    )
    status = _reward_row(conn, ws, reward_id)["status"]
    return public_reward({**row, "status": status, "decided_by": by, "decided_at": at})


def apply_review(
    ctx: Context, key: str, *, approve: bool, by: str, note: str | None
) -> list[Decision]:
    """A reviewed reward: issued (and its effects applied, the member told) or rejected.
    Approval respects the budget. A reward no longer waiting for review is left alone."""
    book = ctx.book(RewardBook)
    conn, ws = book.conn, ctx.workspace
    row = book.by_key(key)
    if row is None or row["status"] != "review":
        return []
    status = "issued" if approve else "rejected"
    if approve:
        spent = spent_fen(conn, ws.id, row["campaign"]) if row["campaign"] else 0
        spec = ws.config.campaigns.get(row["campaign"])
        # Its own cost is already counted in `spent` (review holds its place).
        if spec is not None and spec.budget_fen is not None and spent > spec.budget_fen:
            status, note = "rejected", "budget"
    conn.execute(
        update(rewards)
        .where(rewards.c.id == row["id"])
        .values(status=status, decided_at=ctx.now, decided_by=by, note=note or row["note"])
    )
    if status != "issued":
        return []
    apply_effects(conn, ws, {**row, "status": status}, ctx.now, ctx.book(PointsBook))
    issued = Issued.from_row(row, status)
    notice = reward_notice(ws, ctx.state, ctx.book(ReferralBook), issued, subject=row["subject"])
    return [notice] if notice is not None else []


def check_reverse(conn: Connection, ws: WorkspaceInfo, reward_id: int) -> Any:
    """The reward to reverse; refused unless it is issued or in review."""
    row = _reward_row(conn, ws, reward_id)
    if row["status"] not in REVERSIBLE:
        raise Conflict(say, "growth.reward_not_reversible", reward=reward_id, status=row["status"])
    return row


def do_reverse(
    conn: Connection,
    ws: WorkspaceInfo,
    reward_id: int,
    *,
    by: str,
    at: datetime,
    note: str | None = None,
) -> dict[str, Any]:
    """Staff reverse an issued or in-review reward; what it changed is taken back.

    The reversal is a `reward.reversed` event; the rule `growth.reverse` applies it."""
    lock_workspace(conn, ws.id)
    row = check_reverse(conn, ws, reward_id)
    do_record_staff_events(
        conn,
        ws,
        [
            staff_event(
                type_="reward.reversed",
                id_=staff_event_id("reverse", row["key"]),
                channel=row["channel"],
                member=row["member_ext"],
                at=at,
                data={"reward": row["key"], "by": by, "note": note},
            )
        ],
    )
    return public_reward(_reward_row(conn, ws, reward_id))


def apply_reversal(ctx: Context, key: str, *, by: str, note: str | None) -> None:
    """Staff's reversal of a reward; one no longer issued or in review is left alone."""
    book = ctx.book(RewardBook)
    row = book.by_key(key)
    if row is None or row["status"] not in REVERSIBLE:
        return
    ws = ctx.workspace
    note = note or say("reward.reversal.staff", ws.locale)
    reverse_reward(book.conn, ws, row, note, ctx.now, by=by, points_book=ctx.book(PointsBook))


def reverse_reward(
    conn: Connection,
    ws: WorkspaceInfo,
    row: Any,
    note: str,
    at: datetime,
    *,
    by: str,
    points_book: PointsBook | None = None,
    caused_by: str | None = None,
) -> bool:
    """Reverse a reward once; an issued one gives back what it changed. What could not be
    undone (points already spent, a coupon already used) is added to the note."""
    t = rewards
    done = conn.execute(
        update(t)
        .where(and_(t.c.id == row["id"], t.c.status == row["status"], t.c.status.in_(REVERSIBLE)))
        .values(status="reversed", note=note, decided_at=at, decided_by=by)
    ).rowcount
    if not done:
        return False
    if row["status"] == "issued":
        left = undo_effects(conn, ws, row, at, points_book, caused_by)
        if left:
            joined = say("note.separator", ws.locale).join([note, *left])
            conn.execute(update(t).where(t.c.id == row["id"]).values(note=joined))
    return True


def undo_effects(
    conn: Connection,
    ws: WorkspaceInfo,
    row: Any,
    at: datetime,
    points_book: PointsBook | None = None,
    caused_by: str | None = None,
) -> list[str]:
    """Take back what an issued reward changed; answers what could not be taken back."""
    key = f"reward-reversal:{row['key']}"
    if row["kind"] == "points" and row["points"]:
        book = points_book or PointsBook(conn, ws.id)
        levels = ws.config.levels
        owed = int(row["points"])
        change = book.post(
            book.standing(row["channel"], row["member_ext"], levels.level_for(0)),
            delta=-owed,
            kind="reward_reversal",
            key=key,
            reason=str(row["reason"]),
            rule=str(row["rule"]),
            at=at,
            level_for=levels.level_for,
            caused_by=caused_by,
            allow_negative=ws.config.points.allow_negative,
            earns=False,
        )
        if points_book is None:
            book.flush()
        taken = -change.delta if change is not None else 0
        if taken < owed:
            return [say("reward.reversal.shortfall", ws.locale, points=owed - taken)]
    elif row["kind"] == "identity" and row["identity"]:
        take_identity(conn, ws, row)
    elif row["kind"] == "coupon" and row["coupon"]:
        from shequn.commerce.coupons import coupon_code, void_coupon

        code = coupon_code(ws.id, f"reward:{row['key']}")
        if void_coupon(conn, ws.id, code) == "redeemed":
            return [say("reward.reversal.coupon_used", ws.locale, code=code)]
    return []


PAYABLE = ("cash", "redpacket")
"""Kinds of reward paid out outside Shequn (a liability until staff mark them paid)."""


def do_mark_paid(
    conn: Connection, ws: WorkspaceInfo, reward_ids: Iterable[int], *, by: str, at: datetime
) -> int:
    """Record that issued cash / red-packet liabilities were paid out (outside Shequn).

    Each payment is a `reward.paid` event; the rule `growth.paid` records it."""
    lock_workspace(conn, ws.id)
    t = rewards
    rows = conn.execute(
        select(t.c.key, t.c.channel, t.c.member_ext)
        .where(
            and_(
                t.c.workspace_id == ws.id,
                t.c.id.in_(list(reward_ids)),
                t.c.status == "issued",
                t.c.kind.in_(PAYABLE),
            )
        )
        .order_by(t.c.id)
    ).all()
    if not rows:
        return 0
    events = [
        staff_event(
            type_="reward.paid",
            id_=staff_event_id("paid", key),
            channel=channel,
            member=member,
            at=at,
            data={"reward": key, "by": by},
        )
        for key, channel, member in rows
    ]
    return do_record_staff_events(conn, ws, events).accepted


def apply_paid(ctx: Context, key: str, *, by: str) -> None:
    """An issued cash / red-packet reward was paid out; any other is left alone."""
    book = ctx.book(RewardBook)
    t = rewards
    book.conn.execute(
        update(t)
        .where(
            and_(
                t.c.workspace_id == ctx.workspace.id,
                t.c.key == key,
                t.c.status == "issued",
                t.c.kind.in_(PAYABLE),
            )
        )
        .values(status="paid", decided_at=ctx.now, decided_by=by)
    )


def apply_effects(
    conn: Connection,
    ws: WorkspaceInfo,
    row: Any,
    at: datetime,
    points_book: PointsBook | None = None,
) -> None:
    """What an issued reward changes besides its ledger row: points, coupons, identities.

    Inside the engine, pass the run's own points book so the member's standing is changed in
    one place; outside it, a book of its own is made and flushed here.
    """
    if row["kind"] == "points" and row["points"]:
        book = points_book or PointsBook(conn, ws.id)
        levels = ws.config.levels
        standing = book.standing(row["channel"], row["member_ext"], levels.level_for(0))
        book.post(
            standing,
            delta=int(row["points"]),
            kind="reward",
            key=f"reward:{row['key']}",
            reason=str(row["reason"]),
            rule=str(row["rule"]),
            at=at,
            level_for=levels.level_for,
            caused_by=row["caused_by"],
        )
        if points_book is None:
            book.flush()
    elif row["kind"] == "identity" and row["identity"]:
        give_identity(conn, ws, str(row["channel"]), str(row["member_ext"]), row["identity"], at)
    elif row["kind"] == "coupon" and row["coupon"]:
        from shequn.commerce.coupons import issue_coupon

        issue_coupon(
            conn,
            ws,
            template=str(row["coupon"]),
            channel=str(row["channel"]),
            member=str(row["member_ext"]),
            key=f"reward:{row['key']}",
            reason="reward",
            at=at,
        )


IDENTITY_SOURCE = "growth.identity"
"""The source of the CRM tags identity rewards attach: only these are taken back."""
IDENTITY_TAG_GROUP = "身份"
"""The CRM tag group of identities: stored data, so one name whatever the workspace's locale
(a locale change must not start a second group, and replays must give the same one)."""


def give_identity(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str, identity: str, at: datetime
) -> None:
    """The member carries the identity as a CRM tag in the identities' tag group."""
    from shequn.crm.service import do_create_tag, do_tag_member

    do_create_tag(conn, ws, identity, group=IDENTITY_TAG_GROUP, kind="rule")
    do_tag_member(conn, ws, channel, member, identity, source=IDENTITY_SOURCE, now=at)


def take_identity(conn: Connection, ws: WorkspaceInfo, row: Any) -> None:
    """Remove the identity's tag, unless staff attached it or another reward still gives it."""
    from shequn.crm.service import do_untag_member, member_tag_list

    channel, member, identity = str(row["channel"]), str(row["member_ext"]), row["identity"]
    t = rewards
    still = conn.execute(
        select(t.c.id).where(
            and_(
                t.c.workspace_id == ws.id,
                t.c.channel == channel,
                t.c.member_ext == member,
                t.c.kind == "identity",
                t.c.identity == identity,
                t.c.status.in_(("issued", "paid")),
                t.c.id != row["id"],
            )
        )
    ).first()
    held = {x["tag"]: x["source"] for x in member_tag_list(conn, ws, channel, member)}
    if still is None and held.get(identity) == IDENTITY_SOURCE:
        do_untag_member(conn, ws, channel, member, identity)


def public_reward(row: Any) -> dict[str, Any]:
    def iso(v: Any) -> Any:
        return v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v

    return {
        "id": row["id"],
        "key": row["key"],
        "campaign": row["campaign"],
        "channel": row["channel"],
        "member": row["member_ext"],
        "kind": row["kind"],
        "amount_fen": row["amount_fen"],
        "points": row["points"],
        "coupon": row["coupon"],
        "identity": row["identity"],
        "cost_fen": row["cost_fen"],
        "status": row["status"],
        "reason": row["reason"],
        "note": row["note"],
        "subject": row["subject"],
        "rule": row["rule"],
        "caused_by": row["caused_by"],
        "fraud_score": row["fraud_score"],
        "fraud_reasons": row["fraud_reasons"],
        "created_at": iso(row["created_at"]),
        "decided_at": iso(row["decided_at"]),
        "decided_by": row["decided_by"],
    }


def list_rewards(
    conn: Connection,
    ws: WorkspaceInfo,
    status: str | None = None,
    campaign: str | None = None,
) -> list[dict[str, Any]]:
    t = rewards
    stmt = select(t).where(t.c.workspace_id == ws.id)
    if status is not None:
        stmt = stmt.where(t.c.status == status)
    if campaign is not None:
        stmt = stmt.where(t.c.campaign == campaign)
    return [public_reward(r) for r in conn.execute(stmt.order_by(t.c.id)).mappings()]


def give(
    ctx: Context,
    *,
    campaign: str | None,
    channel: str,
    member: str,
    reward: Reward,
    reason: str,
    key: str,
    group: str | None = None,
    subject: str | None = None,
    caused_by: str | None = None,
    verdict: Verdict | None = None,
    rate_limited: bool = False,
    rule_name: str = "growth.rewards",
) -> list[Decision]:
    """Issue a reward once per key; a suspicious one waits for staff review."""
    if reward.kind == "none":
        return []
    cfg = ctx.config.growth.validity
    verdict = verdict or Verdict(0, ())
    reasons = list(verdict.reasons) + (["rate_limit"] if rate_limited else [])
    review = verdict.score >= cfg.review_score or rate_limited
    spec = ctx.config.campaigns.get(campaign)
    issued = ctx.book(RewardBook).issue(
        ctx.workspace,
        key=key,
        campaign=campaign,
        channel=channel,
        member=member,
        reward=reward,
        reason=reason,
        rule=rule_name,
        at=ctx.now,
        caused_by=caused_by,
        subject=subject,
        review=review,
        fraud_score=verdict.score,
        fraud_reasons=reasons,
        admitted=lambda: admitted(ctx, spec, channel, member),
    )
    if issued is None:
        return []
    if issued.status == "issued":
        row = issued.effects_row(reason, rule_name, caused_by)
        apply_effects(ctx.book(RewardBook).conn, ctx.workspace, row, ctx.now, ctx.book(PointsBook))
        notice = reward_notice(
            ctx.workspace, ctx.state, ctx.book(ReferralBook), issued, subject=subject, hint=group
        )
        return [notice] if notice is not None else []
    if issued.status != "review":
        return []
    return [review_task(ctx.workspace.locale, issued, reason, verdict.score, reasons, group)]


def review_task(
    locale: str, issued: Issued, reason: str, score: int, reasons: list[str], group: str | None
) -> Decision:
    """The staff task that tells someone a reward waits for their review."""
    text = say(
        "reward.review_task",
        locale,
        member=issued.member,
        reason=reason,
        score=score,
        reasons=say("list.separator", locale).join(say(f"fraud.{r}", locale) for r in reasons)
        or "-",
    )
    return Decision(
        kind=ActionKind.STAFF_TASK,
        reason=text,
        group=group,
        member=issued.member,
        data={"reward": issued.id, "key": issued.key},
        key=f"growth.review:{issued.key}",
    )


def give_now(
    conn: Connection,
    ws: WorkspaceInfo,
    *,
    at: datetime,
    channel: str,
    member: str,
    reward: Reward,
    reason: str,
    key: str,
    campaign: str | None,
    rule: str,
    group: str | None = None,
    subject: str | None = None,
    review: bool = False,
) -> Issued | None:
    """Issue a reward outside the engine (a helper's help, a gift, a vote's close).

    The caller holds the workspace's writer lock; a reward for review gets its staff task.
    """
    if reward.kind == "none":
        return None
    issued = insert_reward(
        conn,
        ws,
        key=key,
        campaign=campaign,
        channel=channel,
        member=member,
        reward=reward,
        reason=reason,
        rule=rule,
        at=at,
        subject=subject,
        review=review,
        admitted=lambda: admitted_at(
            conn, ws, ws.config.campaigns.get(campaign), channel, member, at
        ),
    )
    if issued is None:
        return None
    writer = OutboxWriter(ws.id, ws.locale)
    if issued.status == "issued":
        apply_effects(conn, ws, issued.effects_row(reason, rule, None), at)
        _tell(conn, ws, writer, issued, rule, at, subject=subject, group=group)
    elif issued.status == "review":
        writer.add(
            rule,
            review_task(ws.locale, issued, reason, 0, [], group),
            channel=channel,
            caused_by=None,
            cause_key=f"reward:{key}",
            at=at,
        )
    writer.flush(conn)
    return issued


def _tell(
    conn: Connection,
    ws: WorkspaceInfo,
    writer: OutboxWriter,
    issued: Issued,
    rule: str,
    at: datetime,
    *,
    subject: str | None = None,
    group: str | None = None,
) -> None:
    """Outside the engine: the reward's notice goes through the outbox like a rule's."""
    notice = reward_notice(
        ws,
        BatchState(conn, ws.id),
        ReferralBook(conn, ws.id),
        issued,
        subject=subject,
        hint=group,
    )
    if notice is not None:
        writer.add(
            rule,
            notice,
            channel=issued.channel,
            caused_by=None,
            cause_key=f"reward:{issued.key}",
            at=at,
        )
