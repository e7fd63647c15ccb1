"""Operations of the fission models that people drive directly: assists (bargain, red-packet
collection, votes), card drops and gifts, group buys, flash sales and free gifts, lottery
draws. Each takes the workspace's writer lock, so stock, budgets and helper counts hold
under concurrency; each random choice is seeded, so replays agree."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from shequn.actions import ActionKind, Decision
from shequn.community.service import Conflict, NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.config.growth import (
    AnyCampaign,
    BargainCampaign,
    CardAction,
    CardsCampaign,
    FlashSaleCampaign,
    GroupBuyCampaign,
    InvitationCampaign,
    RedPacketCampaign,
    Reward,
    VoteCampaign,
)
from shequn.engine.jobs import Job, JobBook
from shequn.engine.rules import Context, job_handler
from shequn.events import Event
from shequn.growth.maths import (
    draw_card,
    group_buy_price,
    plan_bargain,
    plan_redpacket,
    seeded,
)
from shequn.growth.models import (
    assist_helps,
    assists,
    cards,
    claims,
    group_buy_members,
    group_buys,
    participants,
    referrals,
)
from shequn.growth.referrals import ReferralBook
from shequn.growth.rewards import give, give_now
from shequn.growth.targeting import admitted, admitted_at
from shequn.growth.texts import say
from shequn.platform.db import insert_ignore, lock_workspace

GROUP_BUY_JOB = "growth.group_buy_deadline"
NEW_USER_DAYS = 7


class Refused(Conflict):
    """The operation is not allowed now (sold out, already helped, outside the window …)."""


def running(ws: WorkspaceInfo, key: str, at: datetime) -> AnyCampaign:
    spec = ws.config.campaigns.get(key)
    if spec is None:
        raise NotFound(say, "growth.no_campaign", key=key)
    if not spec.active(at):
        raise Refused(say, "growth.campaign_not_running", key=key, at=at.isoformat())
    return spec


def admit(
    conn: Connection, ws: WorkspaceInfo, key: str, channel: str, member: str, at: datetime
) -> AnyCampaign:
    """The running campaign, if it takes this member (in its segment, when it has one)."""
    spec = running(ws, key, at)
    if not admitted_at(conn, ws, spec, channel, member, at):
        raise Refused(say, "growth.not_in_segment", member=member, segment=spec.segment, key=key)
    return spec


# --- Card collection ------------------------------------------------------------------------


def holdings(
    conn: Connection, workspace_id: int, campaign: str, channel: str, member: str
) -> dict[str, int]:
    c = cards
    rows = conn.execute(
        select(c.c.card, func.sum(c.c.delta))
        .where(
            and_(
                c.c.workspace_id == workspace_id,
                c.c.campaign == campaign,
                c.c.channel == channel,
                c.c.member_ext == member,
            )
        )
        .group_by(c.c.card)
    ).all()
    return {str(card): int(n) for card, n in rows if int(n) > 0}


def _full_set(spec: CardsCampaign, held: dict[str, int]) -> bool:
    return all(held.get(card.name, 0) > 0 for card in spec.cards)


def drop_cards(
    ctx: Context,
    campaign: str,
    spec: CardsCampaign,
    channel: str,
    member: str,
    action: CardAction,
    event: Event | None,
    subject: str | None = None,
) -> list[Decision]:
    """Cards for an action, doubled for new users; a full set unlocks the reward."""
    count = spec.drops.get(action, 0)
    if not count or not admitted(ctx, spec, channel, member):
        return []
    person = ctx.state.member(channel, member)
    since = spec.starts_at or ctx.now - timedelta(days=NEW_USER_DAYS)
    if (
        person is not None
        and person.first_joined_at is not None
        and person.first_joined_at >= since
    ):
        count *= spec.new_user_multiplier
    # One drop per action instance: a check-in counts once a day, an invite once per invitee.
    if action == "checkin":
        unit = f"checkin:{ctx.local_date().isoformat()}"
    elif event is not None:
        unit = f"event:{event.channel}:{event.id}"
    else:
        unit = f"{action}:{subject}"
    names = [c.name for c in spec.cards]
    weights = [c.weight for c in spec.cards]
    conn = ctx.book(ReferralBook).conn
    rows = []
    for i in range(count):
        card = draw_card(names, weights, seeded(campaign, channel, member, unit, i))
        rows.append(
            {
                "workspace_id": ctx.workspace.id,
                "key": f"{campaign}:drop:{channel}:{member}:{unit}:{i}",
                "campaign": campaign,
                "channel": channel,
                "member_ext": member,
                "card": card,
                "delta": 1,
                "reason": action,
                "at": ctx.now,
            }
        )
    insert_ignore(conn, cards, rows)
    if not _full_set(spec, holdings(conn, ctx.workspace.id, campaign, channel, member)):
        return []
    return give(
        ctx,
        campaign=campaign,
        channel=channel,
        member=member,
        reward=spec.reward,
        reason="full_set",
        key=f"{campaign}:full_set:{channel}:{member}",
        group=event.group if event is not None else None,
        subject=member,
        caused_by=event.id if event is not None else None,
    )


def do_gift_card(
    conn: Connection,
    ws: WorkspaceInfo,
    campaign: str,
    channel: str,
    giver: str,
    receiver: str,
    card: str,
    at: datetime,
) -> dict[str, int]:
    """Give one card to someone; answers the receiver's holdings."""
    lock_workspace(conn, ws.id)
    spec = running(ws, campaign, at)
    if not isinstance(spec, CardsCampaign):
        raise Refused(say, "growth.not_cards", campaign=campaign)
    if giver == receiver:
        raise Refused(say, "growth.card_to_self")
    if holdings(conn, ws.id, campaign, channel, giver).get(card, 0) < 1:
        raise Refused(say, "growth.no_card", giver=giver, card=card)
    stamp = f"{at.isoformat()}:{giver}:{receiver}:{card}"
    base = {"workspace_id": ws.id, "campaign": campaign, "channel": channel, "card": card}
    conn.execute(
        cards.insert(),
        [
            {
                **base,
                "key": f"{campaign}:gift-out:{stamp}",
                "member_ext": giver,
                "delta": -1,
                "reason": "gift",
                "at": at,
            },
            {
                **base,
                "key": f"{campaign}:gift-in:{stamp}",
                "member_ext": receiver,
                "delta": 1,
                "reason": "gift",
                "at": at,
            },
        ],
    )
    held = holdings(conn, ws.id, campaign, channel, receiver)
    if _full_set(spec, held):
        give_now(
            conn,
            ws,
            at=at,
            channel=channel,
            member=receiver,
            reward=spec.reward,
            reason="full_set",
            key=f"{campaign}:full_set:{channel}:{receiver}",
            campaign=campaign,
            rule="growth.cards",
            subject=receiver,
        )
    return held


# --- Assists: bargain, red-packet collection, votes ---------------------------------------


def _assist(conn: Connection, ws: WorkspaceInfo, campaign: str, channel: str, member: str) -> Any:
    a = assists
    return (
        conn.execute(
            select(a).where(
                and_(
                    a.c.workspace_id == ws.id,
                    a.c.campaign == campaign,
                    a.c.channel == channel,
                    a.c.member_ext == member,
                )
            )
        )
        .mappings()
        .first()
    )


def public_assist(row: Any) -> dict[str, Any]:
    return {
        "campaign": row["campaign"],
        "member": row["member_ext"],
        "kind": row["kind"],
        "start_fen": row["start_fen"],
        "target_fen": row["target_fen"],
        "progress_fen": row["progress_fen"],
        "helpers": row["helpers"],
        "helpers_needed": row["helpers_needed"],
        "status": row["status"],
    }


def do_start_assist(
    conn: Connection,
    ws: WorkspaceInfo,
    campaign: str,
    channel: str,
    member: str,
    at: datetime,
    target_fen: int | None = None,
) -> dict[str, Any]:
    """Start a bargain, a red-packet collection (choosing a target) or a vote entry."""
    lock_workspace(conn, ws.id)
    spec = admit(conn, ws, campaign, channel, member, at)
    found = _assist(conn, ws, campaign, channel, member)
    if found is not None:
        return public_assist(found)
    if isinstance(spec, BargainCampaign):
        kind, start, target, needed = "bargain", spec.price_fen, spec.target_fen, spec.helpers
    elif isinstance(spec, RedPacketCampaign):
        target = target_fen if target_fen is not None else spec.targets_fen[0]
        if target not in spec.targets_fen:
            raise Refused(say, "growth.bad_target", targets=spec.targets_fen)
        kind, start, needed = "redpacket", 0, spec.helpers
    elif isinstance(spec, VoteCampaign):
        kind, start, target, needed = "vote", 0, 0, 0
    else:
        raise Refused(say, "growth.no_assists", campaign=campaign)
    conn.execute(
        assists.insert().values(
            workspace_id=ws.id,
            campaign=campaign,
            channel=channel,
            member_ext=member,
            kind=kind,
            start_fen=start,
            target_fen=target,
            progress_fen=start if kind == "bargain" else 0,
            helpers_needed=needed,
            helpers=0,
            status="open",
            created_at=at,
        )
    )
    book = ReferralBook(conn, ws.id)
    book.participant(campaign, channel, member, at)
    book.flush()
    return public_assist(_assist(conn, ws, campaign, channel, member))


def do_help(
    conn: Connection,
    ws: WorkspaceInfo,
    campaign: str,
    channel: str,
    owner: str,
    helper: str,
    at: datetime,
) -> dict[str, Any]:
    """One helper's cut (bargain), help (red packet) or vote; answers the assist after it."""
    lock_workspace(conn, ws.id)
    spec = running(ws, campaign, at)
    row = _assist(conn, ws, campaign, channel, owner)
    if row is None:
        raise NotFound(say, "growth.not_started", owner=owner, campaign=campaign)
    if helper == owner:
        raise Refused(say, "growth.help_self")
    if row["status"] != "open":
        raise Refused(say, "growth.assist_done", kind=row["kind"], status=row["status"])
    h = assist_helps
    if conn.execute(
        select(h.c.id).where(and_(h.c.assist_id == row["id"], h.c.helper == helper))
    ).first():
        raise Refused(say, "growth.already_helped", helper=helper)
    seq = int(row["helpers"]) + 1
    seed = f"{campaign}:{channel}:{owner}"
    if isinstance(spec, BargainCampaign):
        amount = plan_bargain(
            spec.price_fen, spec.target_fen, spec.helpers, spec.first_share, seed
        )[seq - 1]
        progress = int(row["progress_fen"]) - amount
        done = seq == spec.helpers
    elif isinstance(spec, RedPacketCampaign):
        plan = plan_redpacket(int(row["target_fen"]), spec.helpers, spec.first_share, seed)
        amount = plan[seq - 1]
        progress = int(row["progress_fen"]) + amount
        done = seq == spec.helpers
    elif isinstance(spec, VoteCampaign):
        cast = conn.execute(
            select(func.count())
            .select_from(h.join(assists, assists.c.id == h.c.assist_id))
            .where(
                and_(
                    assists.c.campaign == campaign,
                    assists.c.workspace_id == ws.id,
                    h.c.helper == helper,
                )
            )
        ).scalar_one()
        if int(cast) >= spec.votes_per_voter:
            raise Refused(say, "growth.no_votes_left", helper=helper)
        amount, progress, done = 1, int(row["progress_fen"]) + 1, False
    else:
        raise Refused(say, "growth.no_assists", campaign=campaign)
    conn.execute(
        h.insert().values(
            assist_id=row["id"],
            workspace_id=ws.id,
            helper=helper,
            seq=seq,
            amount_fen=amount,
            at=at,
        )
    )
    conn.execute(
        update(assists)
        .where(assists.c.id == row["id"])
        .values(
            helpers=seq,
            progress_fen=progress,
            status="done" if done else "open",
            done_at=at if done else None,
        )
    )
    if done:
        _assist_done(conn, ws, campaign, spec, row, at)
    answer = public_assist(_assist(conn, ws, campaign, channel, owner))
    answer["amount_fen"] = amount
    return answer


def _assist_done(
    conn: Connection, ws: WorkspaceInfo, campaign: str, spec: AnyCampaign, row: Any, at: datetime
) -> None:
    channel, member = str(row["channel"]), str(row["member_ext"])
    if isinstance(spec, BargainCampaign):
        reward = Reward(kind="discount", amount_fen=spec.price_fen - spec.target_fen)
        reason = "bargain"
        insert_ignore(
            conn,
            claims,
            [
                {
                    "workspace_id": ws.id,
                    "key": f"{campaign}:bargain:{channel}:{member}",
                    "campaign": campaign,
                    "channel": channel,
                    "member_ext": member,
                    "price_fen": spec.target_fen,
                    "at": at,
                }
            ],
        )
    else:
        reward = Reward(kind="redpacket", amount_fen=int(row["target_fen"]))
        reason = "redpacket"
    give_now(
        conn,
        ws,
        at=at,
        channel=channel,
        member=member,
        reward=reward,
        reason=reason,
        key=f"{campaign}:{reason}:{channel}:{member}",
        campaign=campaign,
        rule=f"growth.{reason}",
        subject=member,
    )


def vote_ranking(conn: Connection, ws: WorkspaceInfo, campaign: str) -> list[dict[str, Any]]:
    a = assists
    rows = conn.execute(
        select(a.c.channel, a.c.member_ext, a.c.progress_fen, a.c.created_at)
        .where(and_(a.c.workspace_id == ws.id, a.c.campaign == campaign, a.c.kind == "vote"))
        .order_by(a.c.progress_fen.desc(), a.c.created_at, a.c.member_ext)
    ).all()
    return [
        {"rank": i + 1, "channel": ch, "member": m, "votes": int(v)}
        for i, (ch, m, v, _) in enumerate(rows)
    ]


def do_close_vote(
    conn: Connection, ws: WorkspaceInfo, campaign: str, at: datetime
) -> list[dict[str, Any]]:
    """Award the prizes by rank; winners claim them by adding the staff account."""
    lock_workspace(conn, ws.id)
    spec = ws.config.campaigns.get(campaign)
    if not isinstance(spec, VoteCampaign):
        raise NotFound(say, "growth.no_vote", campaign=campaign)
    winners = []
    prizes = sorted(spec.prizes, key=lambda p: p.up_to_rank)
    for entry in vote_ranking(conn, ws, campaign):
        prize = next((p for p in prizes if entry["rank"] <= p.up_to_rank), None)
        if prize is None or entry["votes"] == 0:
            continue
        give_now(
            conn,
            ws,
            at=at,
            channel=entry["channel"],
            member=entry["member"],
            reward=prize.reward,
            reason="vote_prize",
            key=f"{campaign}:vote:{entry['channel']}:{entry['member']}",
            campaign=campaign,
            rule="growth.vote",
            subject=str(entry["rank"]),
        )
        winners.append({**entry, "staff_account": spec.staff_account})
    conn.execute(
        update(assists)
        .where(and_(assists.c.workspace_id == ws.id, assists.c.campaign == campaign))
        .values(status="done", done_at=at)
    )
    return winners


# --- Flash sale, free gift, lottery --------------------------------------------------------


def _valid_invites(
    conn: Connection, ws: WorkspaceInfo, campaign: str, channel: str, member: str
) -> int:
    r = referrals
    return int(
        conn.execute(
            select(func.count()).where(
                and_(
                    r.c.workspace_id == ws.id,
                    r.c.campaign == campaign,
                    r.c.channel == channel,
                    r.c.inviter == member,
                    r.c.status == "valid",
                )
            )
        ).scalar_one()
    )


def do_claim(
    conn: Connection, ws: WorkspaceInfo, campaign: str, channel: str, member: str, at: datetime
) -> dict[str, Any]:
    """Take one unit of a flash sale (一元秒杀) or free gift (免费领) while stock lasts."""
    lock_workspace(conn, ws.id)
    spec = admit(conn, ws, campaign, channel, member, at)
    if not isinstance(spec, FlashSaleCampaign):
        raise Refused(say, "growth.not_claimable", campaign=campaign)
    c = claims
    taken = int(
        conn.execute(
            select(func.count()).where(and_(c.c.workspace_id == ws.id, c.c.campaign == campaign))
        ).scalar_one()
    )
    if taken >= spec.stock:
        raise Refused(say, "growth.sold_out")
    mine = int(
        conn.execute(
            select(func.count()).where(
                and_(
                    c.c.workspace_id == ws.id,
                    c.c.campaign == campaign,
                    c.c.channel == channel,
                    c.c.member_ext == member,
                )
            )
        ).scalar_one()
    )
    if mine >= spec.per_member:
        raise Refused(say, "growth.per_member", limit=spec.per_member)
    if (
        spec.invites_needed
        and _valid_invites(conn, ws, campaign, channel, member) < spec.invites_needed
    ):
        raise Refused(say, "growth.invite_first", count=spec.invites_needed)
    price = 0 if spec.model == "free_gift" else spec.price_fen
    conn.execute(
        c.insert().values(
            workspace_id=ws.id,
            key=f"{campaign}:claim:{channel}:{member}:{mine + 1}",
            campaign=campaign,
            channel=channel,
            member_ext=member,
            price_fen=price,
            at=at,
        )
    )
    cost = max(spec.original_fen - price, 0)
    give_now(
        conn,
        ws,
        at=at,
        channel=channel,
        member=member,
        reward=Reward(kind="discount", amount_fen=cost) if cost else Reward(kind="none"),
        reason=spec.model,
        key=f"{campaign}:{spec.model}:{channel}:{member}:{mine + 1}",
        campaign=campaign,
        rule=f"growth.{spec.model}",
        subject=member,
    )
    return {
        "campaign": campaign,
        "member": member,
        "price_fen": price,
        "left": spec.stock - taken - 1,
    }


def do_draw(
    conn: Connection, ws: WorkspaceInfo, campaign: str, channel: str, member: str, at: datetime
) -> dict[str, Any]:
    """Use one lottery chance (earned by invites); the draw is seeded and logged."""
    lock_workspace(conn, ws.id)
    spec = admit(conn, ws, campaign, channel, member, at)
    if not isinstance(spec, InvitationCampaign) or not spec.lottery:
        raise Refused(say, "growth.no_lottery", campaign=campaign)
    p = participants
    row = (
        conn.execute(
            select(p).where(
                and_(
                    p.c.workspace_id == ws.id,
                    p.c.campaign == campaign,
                    p.c.channel == channel,
                    p.c.member_ext == member,
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None or int(row["chances"]) <= int(row["chances_used"]):
        raise Refused(say, "growth.no_chances")
    n = int(row["chances_used"]) + 1
    rng = seeded(campaign, "lottery", channel, member, n)
    index = rng.choices(range(len(spec.lottery)), weights=[x.weight for x in spec.lottery])[0]
    prize = spec.lottery[index]
    conn.execute(update(p).where(p.c.id == row["id"]).values(chances_used=n))
    issued = give_now(
        conn,
        ws,
        at=at,
        channel=channel,
        member=member,
        reward=prize.reward,
        reason="lottery",
        key=f"{campaign}:lottery:{channel}:{member}:{n}",
        campaign=campaign,
        rule="growth.lottery",
        subject=str(n),
    )
    return {
        "draw": n,
        "prize": index,
        "reward": prize.reward.model_dump(mode="json"),
        "status": issued.status if issued else "nothing",
        "left": int(row["chances"]) - n,
    }


# --- Group buy ------------------------------------------------------------------------------


def _buy(conn: Connection, ws: WorkspaceInfo, campaign: str, channel: str, leader: str) -> Any:
    g = group_buys
    return (
        conn.execute(
            select(g).where(
                and_(
                    g.c.workspace_id == ws.id,
                    g.c.campaign == campaign,
                    g.c.channel == channel,
                    g.c.leader == leader,
                )
            )
        )
        .mappings()
        .first()
    )


def public_buy(row: Any) -> dict[str, Any]:
    return {
        "campaign": row["campaign"],
        "leader": row["leader"],
        "size": row["size"],
        "joined": row["joined"],
        "invites": row["invites"],
        "price_fen": row["price_fen"],
        "status": row["status"],
        "deadline": row["deadline"].isoformat().replace("+00:00", "Z"),
    }


def do_open_group_buy(
    conn: Connection, ws: WorkspaceInfo, campaign: str, channel: str, leader: str, at: datetime
) -> dict[str, Any]:
    lock_workspace(conn, ws.id)
    spec = admit(conn, ws, campaign, channel, leader, at)
    if not isinstance(spec, GroupBuyCampaign):
        raise Refused(say, "growth.not_group_buy", campaign=campaign)
    found = _buy(conn, ws, campaign, channel, leader)
    if found is not None:
        return public_buy(found)
    deadline = at + timedelta(hours=spec.time_limit_hours)
    buy_id = conn.execute(
        group_buys.insert().values(
            workspace_id=ws.id,
            campaign=campaign,
            channel=channel,
            leader=leader,
            size=spec.size,
            joined=1,
            invites=0,
            price_fen=spec.price_fen,
            status="open",
            deadline=deadline,
            created_at=at,
        )
    ).inserted_primary_key
    assert buy_id is not None
    conn.execute(
        group_buy_members.insert().values(
            buy_id=buy_id[0], workspace_id=ws.id, member_ext=leader, robot=False, at=at
        )
    )
    jobs = JobBook(conn, ws.id)
    jobs.schedule(
        GROUP_BUY_JOB,
        f"growth.group_buy:{buy_id[0]}",
        deadline,
        {"channel": channel, "buy": int(buy_id[0])},
        None,
    )
    jobs.flush()
    book = ReferralBook(conn, ws.id)
    book.participant(campaign, channel, leader, at)
    book.flush()
    return public_buy(_buy(conn, ws, campaign, channel, leader))


def do_join_group_buy(
    conn: Connection,
    ws: WorkspaceInfo,
    campaign: str,
    channel: str,
    leader: str,
    member: str,
    at: datetime,
) -> dict[str, Any]:
    lock_workspace(conn, ws.id)
    admit(conn, ws, campaign, channel, member, at)
    row = _buy(conn, ws, campaign, channel, leader)
    if row is None:
        raise NotFound(say, "growth.no_group_buy", leader=leader, campaign=campaign)
    if row["status"] != "open" or at >= row["deadline"]:
        raise Refused(say, "growth.group_buy_closed")
    m = group_buy_members
    if conn.execute(
        select(m.c.id).where(and_(m.c.buy_id == row["id"], m.c.member_ext == member))
    ).first():
        raise Refused(say, "growth.already_joined", member=member)
    conn.execute(
        m.insert().values(
            buy_id=row["id"], workspace_id=ws.id, member_ext=member, robot=False, at=at
        )
    )
    joined = int(row["joined"]) + 1
    done = joined >= int(row["size"])
    conn.execute(
        update(group_buys)
        .where(group_buys.c.id == row["id"])
        .values(joined=joined, status="done" if done else "open", done_at=at if done else None)
    )
    return public_buy(_buy(conn, ws, campaign, channel, leader))


def count_group_buy_invite(
    conn: Connection,
    ws: WorkspaceInfo,
    campaign: str,
    spec: GroupBuyCampaign,
    channel: str,
    leader: str,
) -> None:
    """A valid invite lowers the leader's price along the thresholds."""
    row = _buy(conn, ws, campaign, channel, leader)
    if row is None or row["status"] not in ("open", "done"):
        return
    invites = int(row["invites"]) + 1
    price = group_buy_price(
        spec.price_fen, invites, [(t.invites, t.price_fen) for t in spec.thresholds]
    )
    conn.execute(
        update(group_buys)
        .where(group_buys.c.id == row["id"])
        .values(invites=invites, price_fen=price)
    )


@job_handler("growth", "group_buy_deadline", kind=GROUP_BUY_JOB)
def group_buy_deadline(job: Job, ctx: Context) -> Iterable[Decision]:
    """At the deadline a group buy still short is completed by the robot member (when
    configured) or fails, to be refunded."""
    conn = ctx.book(ReferralBook).conn
    g = group_buys
    row = (
        conn.execute(
            select(g).where(g.c.workspace_id == ctx.workspace.id, g.c.id == job.payload["buy"])
        )
        .mappings()
        .first()
    )
    if row is None or row["status"] != "open":
        return ()
    spec = ctx.config.campaigns.get(row["campaign"])
    robots = isinstance(spec, GroupBuyCampaign) and spec.robot_completion
    if robots:
        assert isinstance(spec, GroupBuyCampaign)
        missing = int(row["size"]) - int(row["joined"])
        insert_ignore(
            conn,
            group_buy_members,
            [
                {
                    "buy_id": row["id"],
                    "workspace_id": ctx.workspace.id,
                    "member_ext": f"{spec.robot_member}-{i + 1}",
                    "robot": True,
                    "at": ctx.now,
                }
                for i in range(missing)
            ],
        )
    conn.execute(
        update(g)
        .where(g.c.id == row["id"])
        .values(
            status="robot" if robots else "failed",
            joined=row["size"] if robots else row["joined"],
            done_at=ctx.now,
        )
    )
    if robots:
        return ()
    # Short at the deadline and no robot to complete it: whoever paid is refunded by staff.
    return [
        Decision(
            ActionKind.STAFF_TASK,
            say(
                "group_buy.failed",
                ctx.workspace.locale,
                campaign=row["campaign"],
                leader=row["leader"],
                joined=row["joined"],
            ),
            member=row["leader"],
            channel=row["channel"],
            data={"campaign": row["campaign"], "refund": True},
        )
    ]
