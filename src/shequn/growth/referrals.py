"""The referral graph: who invited whom, per campaign, with each invite's validity; and the
figures read from it (tree, depth, per-layer stats, K-factor, leaderboard)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.books import Book, register_book
from shequn.events import Event
from shequn.growth.maths import k_factor
from shequn.growth.models import code_scans, live_codes, participants, referrals

SCAN_LINK = timedelta(days=7)
"""A join is linked to the joiner's own scan of a personal code at most this long before."""


@register_book
class ReferralBook(Book):
    """Referrals, scans and participants as the growth rules need them, in the run's
    transaction. Rows are written at once: invites are few next to messages."""

    def __init__(self, conn: Connection, workspace_id: int) -> None:
        super().__init__(conn, workspace_id)
        self._code_campaign: dict[str, str | None] = {}
        # Each member's referral as an invitee (None: not invited), for this transaction.
        self._refs: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._personal_scans: bool | None = None

    def preload(self, events: Sequence[Event]) -> None:
        """Every message would otherwise ask the database whether its author was invited."""
        self._load({(ev.channel, ev.member) for ev in events if ev.member is not None})

    def _load(self, keys: set[tuple[str, str]]) -> None:
        wanted = sorted(k for k in keys if k not in self._refs)
        by_channel: dict[str, list[str]] = defaultdict(list)
        for channel, invitee in wanted:
            self._refs[(channel, invitee)] = None
            by_channel[channel].append(invitee)
        t = referrals
        for channel, invitees in by_channel.items():
            for start in range(0, len(invitees), 500):
                rows = self.conn.execute(
                    select(t)
                    .where(
                        and_(
                            t.c.workspace_id == self.workspace_id,
                            t.c.channel == channel,
                            t.c.invitee.in_(invitees[start : start + 500]),
                        )
                    )
                    .order_by(t.c.id.desc())  # the first referral wins, as it always did
                ).mappings()
                for row in rows:
                    self._refs[(channel, row["invitee"])] = dict(row)

    # referrals
    def get(self, channel: str, invitee: str) -> dict[str, Any] | None:
        key = (channel, invitee)
        if key not in self._refs:
            self._load({key})
        return self._refs[key]

    def add(self, **values: Any) -> dict[str, Any]:
        row = {
            "workspace_id": self.workspace_id,
            "fraud_score": 0,
            "fraud_reasons": [],
            "orders": 0,
            **values,
        }
        inserted = self.conn.execute(referrals.insert().values(**row)).inserted_primary_key
        assert inserted is not None
        row["id"] = int(inserted[0])
        # Read back on next use: the stored row has columns this dict has not (defaults).
        self._refs.pop((row["channel"], row["invitee"]), None)
        return row

    def change(self, referral: dict[str, Any], **values: Any) -> None:
        referral.update(values)
        cached = self._refs.get((referral["channel"], referral["invitee"]))
        if cached is not None and cached is not referral and cached["id"] == referral["id"]:
            cached.update(values)  # the same row reached another way: keep one truth
        self.conn.execute(
            update(referrals).where(referrals.c.id == referral["id"]).values(**values)
        )

    def invitees_of(
        self, channel: str, inviter: str, campaign: str | None = None
    ) -> list[dict[str, Any]]:
        t = referrals
        cond = [
            t.c.workspace_id == self.workspace_id,
            t.c.channel == channel,
            t.c.inviter == inviter,
        ]
        if campaign is not None:
            cond.append(t.c.campaign == campaign)
        rows = self.conn.execute(select(t).where(and_(*cond)).order_by(t.c.joined_at, t.c.id))
        return [dict(r) for r in rows.mappings()]

    def upline(self, channel: str, member: str, levels: int = 3) -> list[str]:
        """The member's inviter, that inviter's inviter … (nearest first)."""
        chain: list[str] = []
        current = member
        for _ in range(levels):
            ref = self.get(channel, current)
            if ref is None or ref["inviter"] in chain:
                break
            chain.append(ref["inviter"])
            current = ref["inviter"]
        return chain

    # scans
    def scan_marks(self, channel: str, members: list[str]) -> tuple[set[str], set[str]]:
        """Devices and networks these members scanned from."""
        if not members:
            return set(), set()
        s = code_scans
        rows = self.conn.execute(
            select(s.c.device, s.c.network).where(
                and_(
                    s.c.workspace_id == self.workspace_id,
                    s.c.channel == channel,
                    s.c.scanner.in_(members),
                )
            )
        ).all()
        return {d for d, _ in rows if d}, {n for _, n in rows if n}

    def scan_inviter(self, channel: str, member: str, at: datetime) -> tuple[str, str] | None:
        """(inviter, code) of the member's latest scan of someone's personal code."""
        s = code_scans
        if self._personal_scans is None:
            # Most workspaces have no personal-code scans at all: one look per transaction.
            self._personal_scans = (
                self.conn.execute(
                    select(s.c.id)
                    .where(s.c.workspace_id == self.workspace_id, s.c.inviter.is_not(None))
                    .limit(1)
                ).first()
                is not None
            )
        if not self._personal_scans:
            return None
        row = self.conn.execute(
            select(s.c.inviter, s.c.code)
            .where(
                and_(
                    s.c.workspace_id == self.workspace_id,
                    s.c.channel == channel,
                    s.c.scanner == member,
                    s.c.inviter.is_not(None),
                    s.c.at <= at,
                    s.c.at >= at - SCAN_LINK,
                )
            )
            .order_by(s.c.at.desc())
            .limit(1)
        ).first()
        return None if row is None else (str(row[0]), str(row[1]))

    def code_campaign(self, code: str | None) -> str | None:
        if code is None:
            return None
        if code not in self._code_campaign:
            t = live_codes
            self._code_campaign[code] = self.conn.execute(
                select(t.c.campaign).where(
                    and_(t.c.workspace_id == self.workspace_id, t.c.code == code)
                )
            ).scalar()
        return self._code_campaign[code]

    # participants
    def participant(self, campaign: str, channel: str, member: str, at: datetime) -> dict[str, Any]:
        t = participants
        cond = and_(
            t.c.workspace_id == self.workspace_id,
            t.c.campaign == campaign,
            t.c.channel == channel,
            t.c.member_ext == member,
        )
        row = self.conn.execute(select(t).where(cond)).mappings().first()
        if row is not None:
            return dict(row)
        values = {
            "workspace_id": self.workspace_id,
            "campaign": campaign,
            "channel": channel,
            "member_ext": member,
            "joined_at": at,
            "shares": 0,
            "chances": 0,
            "chances_used": 0,
        }
        inserted = self.conn.execute(t.insert().values(**values)).inserted_primary_key
        assert inserted is not None
        return {**values, "id": int(inserted[0]), "poster_at": None, "shared_at": None}

    def set_participant(self, row: dict[str, Any], **values: Any) -> None:
        row.update(values)
        self.conn.execute(
            update(participants).where(participants.c.id == row["id"]).values(**values)
        )


def mark_shared(
    conn: Connection, workspace_id: int, campaign: str, channel: str, member: str, at: datetime
) -> None:
    """A participant shared their poster (their personal code was scanned, or they said so)."""
    book = ReferralBook(conn, workspace_id)
    row = book.participant(campaign, channel, member, at)
    book.set_participant(row, shared_at=row["shared_at"] or at, shares=int(row["shares"]) + 1)


# --- Figures ------------------------------------------------------------------------------


def referral_graph(conn: Connection, ws: WorkspaceInfo, campaign: str | None) -> dict[str, Any]:
    """The tree (edges), depth, per-layer stats, K-factor and the leaderboard."""
    t = referrals
    stmt = select(t).where(t.c.workspace_id == ws.id)
    if campaign is not None:
        stmt = stmt.where(t.c.campaign == campaign)
    rows = [dict(r) for r in conn.execute(stmt.order_by(t.c.joined_at, t.c.id)).mappings()]
    layers: dict[int, Counter[str]] = defaultdict(Counter)
    board: Counter[tuple[str, str]] = Counter()
    invited_by: Counter[tuple[str, str]] = Counter()
    for r in rows:
        layers[r["depth"]][r["status"]] += 1
        layers[r["depth"]]["invites"] += 1
        invited_by[(r["channel"], r["inviter"])] += 1
        if r["status"] == "valid":
            board[(r["channel"], r["inviter"])] += 1
    pcount = 0
    if campaign is not None:
        p = participants
        pcount = int(
            conn.execute(
                select(func.count()).where(
                    and_(p.c.workspace_id == ws.id, p.c.campaign == campaign)
                )
            ).scalar_one()
        )
    # Everyone who invited is a participant, even without a poster.
    participants_n = max(pcount, len(invited_by))
    valid = sum(1 for r in rows if r["status"] == "valid")
    return {
        "campaign": campaign,
        "invites": len(rows),
        "valid": valid,
        "invalid": sum(1 for r in rows if r["status"] == "invalid"),
        "pending": sum(1 for r in rows if r["status"] in ("held", "waiting")),
        "participants": participants_n,
        "depth": max((r["depth"] for r in rows), default=0),
        "k_factor": k_factor(participants_n, len(rows), valid),
        "layers": [
            {
                "depth": d,
                "invites": layers[d]["invites"],
                "valid": layers[d]["valid"],
                "invalid": layers[d]["invalid"],
                "pending": layers[d]["held"] + layers[d]["waiting"],
            }
            for d in sorted(layers)
        ],
        "leaderboard": [
            {"channel": ch, "member": m, "valid": n, "invites": invited_by[(ch, m)]}
            for (ch, m), n in sorted(board.items(), key=lambda kv: (-kv[1], kv[0]))[:50]
        ],
        "edges": [
            {
                "inviter": r["inviter"],
                "invitee": r["invitee"],
                "channel": r["channel"],
                "depth": r["depth"],
                "status": r["status"],
                "reason": r["reason"],
            }
            for r in rows
        ],
    }
