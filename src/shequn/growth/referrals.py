"""The referral graph: who invited whom, per campaign, with each invite's validity; and the
figures read from it (tree, depth, per-layer stats, K-factor, leaderboard)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, func, or_, select

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.books import Book, register_book
from shequn.events import Event
from shequn.growth.maths import k_factor
from shequn.growth.models import code_scans, live_codes, participants, referrals
from shequn.platform.db import KEYS_PER_QUERY, chunks, insert_ignore, write_changes

_OPEN = ("held", "waiting")
SCAN_LINK = timedelta(days=7)
"""A join is linked to the joiner's own scan of a personal code at most this long before."""


_REFERRAL_COLUMNS = tuple(c.name for c in referrals.c if c.name != "id")
_PARTICIPANT_COLUMNS = tuple(c.name for c in participants.c if c.name != "id")
Key = tuple[str, str]
"""(channel, member)"""


@register_book
class ReferralBook(Book):
    """Referrals, scans, live codes and participants as the growth rules need them.

    A batch loads what its events name in a few bulk queries (`preload`; then what the
    rules `want` for judging invites: inviters, their uplines and other invitees, and
    everyone's scans); rules read and change rows in memory; `flush`
    writes new rows and changed columns in bulk. A key the preload did not name is loaded on
    first use, so an unforeseen read is slower, never wrong. Used outside a run (a service),
    call `flush` to write.
    """

    def __init__(self, conn: Connection, workspace_id: int) -> None:
        super().__init__(conn, workspace_id)
        # code -> (campaign, source); loaded whole on first use: codes are few.
        self._codes: dict[str, tuple[str | None, str | None]] | None = None
        # Each member's referral as an invitee (None: not invited). Every row object is
        # shared with `_by_inviter`, so a change is seen through both.
        self._refs: dict[Key, dict[str, Any] | None] = {}
        # Stored referrals per inviter, complete for every key present.
        self._by_inviter: dict[Key, list[dict[str, Any]]] = {}
        self._new_refs: list[dict[str, Any]] = []
        self._changed_refs: dict[int, dict[str, Any]] = {}  # id -> the changed row
        # Devices and networks each scanner scanned from (stored scans; a scan recorded by
        # the engine has neither).
        self._marks: dict[Key, tuple[set[str], set[str]]] = {}
        self._personal_scans: bool | None = None
        # Scans of personal codes, per scanner: (at, inviter, code), complete per key.
        self._personal: dict[Key, list[tuple[datetime, str, str]]] = {}
        self._scans: list[dict[str, Any]] = []
        self._participants: dict[tuple[str, str, str], dict[str, Any] | None] = {}
        self._loaded_members: set[Key] = set()  # participants loaded for every campaign
        self._new_participants: list[dict[str, Any]] = []
        self._changed_participants: dict[int, dict[str, Any]] = {}
        self._changed_columns: set[str] = set()
        self._want_joiners: set[Key] = set()
        self._want_others: set[Key] = set()
        self._wanted = False

    def preload(self, events: Sequence[Event]) -> None:
        """Every message would otherwise ask the database whether its author was invited."""
        self._load({(ev.channel, ev.member) for ev in events if ev.member is not None})

    def want(self, joiners: set[Key], others: set[Key]) -> bool:
        """Name what judging invites will read in this batch: members joining (their
        personal-code scans) and others (inviters, invitees on hold). Loaded together, in
        bulk, at the first read that needs them. Answers False when the batch has named
        them already (several rules share one preload)."""
        if self._wanted:
            return False
        self._wanted = True
        self._want_joiners |= joiners
        self._want_others |= others
        return True

    def open_invites(self) -> list[tuple[str, str, str]]:
        """(channel, group, invitee) of every loaded invite still on hold or waiting."""
        self._ready()
        return [
            (channel, str(ref["group_ext"]), invitee)
            for (channel, invitee), ref in self._refs.items()
            if ref is not None and ref["status"] in _OPEN and ref["group_ext"]
        ]

    def _ready(self) -> None:
        """Load what `want` named: the referrals of everyone named and of the inviters with
        their uplines, every other invitee of those inviters, their participations, and the
        scan marks of all of them — a few queries, however many invites the batch holds."""
        if not self._want_joiners and not self._want_others:
            return
        joiners, keys = self._want_joiners, self._want_joiners | self._want_others
        self._want_joiners, self._want_others = set(), set()
        if joiners and self._has_personal_scans():
            self._load_personal(joiners)
            for (channel, _), scans in ((k, self._personal[k]) for k in joiners):
                keys |= {(channel, inviter) for _, inviter, _ in scans}
        self._load(keys)
        # Invites a message or an order may judge (the batch's members are loaded already).
        keys |= {k for k, ref in self._refs.items() if ref and ref["status"] in _OPEN}
        inviters = keys | self._inviters_of(keys)
        level, upline = inviters, set()
        for _ in range(3):  # each inviter's upline, three levels up
            self._load(level)
            level = self._inviters_of(level)
            upline |= level
        self._load_by_inviter(inviters)
        siblings = {
            (channel, row["invitee"])
            for (channel, _), rows in ((k, self._by_inviter[k]) for k in inviters)
            for row in rows
        }
        self._load_marks(inviters | upline | siblings)
        self._load_participants(inviters)

    def _inviters_of(self, keys: set[Key]) -> set[Key]:
        found = set()
        for channel, member in keys:
            ref = self._refs.get((channel, member))
            if ref is not None:
                found.add((channel, ref["inviter"]))
        return found

    def _load(self, keys: set[Key]) -> None:
        wanted = sorted(k for k in keys if k not in self._refs)
        by_channel: dict[str, list[str]] = defaultdict(list)
        for channel, invitee in wanted:
            self._refs[(channel, invitee)] = None
            by_channel[channel].append(invitee)
        t = referrals
        for channel, invitees in by_channel.items():
            for part in chunks(invitees, KEYS_PER_QUERY):
                rows = self.conn.execute(
                    select(t).where(
                        and_(
                            t.c.workspace_id == self.workspace_id,
                            t.c.channel == channel,
                            t.c.invitee.in_(part),
                        )
                    )
                ).mappings()
                for row in rows:
                    self._refs[(channel, row["invitee"])] = dict(row)

    def _load_by_inviter(self, keys: set[Key]) -> None:
        wanted = sorted(k for k in keys if k not in self._by_inviter)
        by_channel: dict[str, list[str]] = defaultdict(list)
        for channel, inviter in wanted:
            self._by_inviter[(channel, inviter)] = []
            by_channel[channel].append(inviter)
        t = referrals
        for channel, inviters in by_channel.items():
            for part in chunks(inviters, KEYS_PER_QUERY):
                rows = self.conn.execute(
                    select(t)
                    .where(
                        and_(
                            t.c.workspace_id == self.workspace_id,
                            t.c.channel == channel,
                            t.c.inviter.in_(part),
                        )
                    )
                    .order_by(t.c.joined_at, t.c.id)
                ).mappings()
                for found in rows:
                    key = (channel, found["invitee"])
                    row = self._refs.get(key)
                    if row is None:  # one object per referral, whichever way it was reached
                        row = self._refs[key] = dict(found)
                    self._by_inviter[(channel, found["inviter"])].append(row)

    # referrals
    def get(self, channel: str, invitee: str) -> dict[str, Any] | None:
        self._ready()
        key = (channel, invitee)
        if key not in self._refs:
            self._load({key})
        return self._refs[key]

    def add(self, **values: Any) -> dict[str, Any]:
        """A new referral, written with the batch (the stored row's defaults filled in)."""
        row: dict[str, Any] = dict.fromkeys(_REFERRAL_COLUMNS)
        row.update(
            workspace_id=self.workspace_id, fraud_score=0, fraud_reasons=[], orders=0, **values
        )
        row["id"] = None
        self._refs[(row["channel"], row["invitee"])] = row
        self._new_refs.append(row)
        return row

    def change(self, referral: dict[str, Any], **values: Any) -> None:
        referral.update(values)
        cached = self._refs.get((referral["channel"], referral["invitee"]))
        if cached is not None and cached is not referral and cached["id"] == referral["id"]:
            cached.update(values)  # the same row reached another way: keep one truth
        if referral["id"] is not None:
            self._changed_refs[referral["id"]] = referral
            self._changed_columns.update(values)

    def invitees_of(
        self, channel: str, inviter: str, campaign: str | None = None
    ) -> list[dict[str, Any]]:
        """The inviter's referrals in the order they joined (stored ones, then this batch's)."""
        self._ready()
        key = (channel, inviter)
        self._load_by_inviter({key})
        new = [r for r in self._new_refs if r["channel"] == channel and r["inviter"] == inviter]
        # Stored rows come sorted by (joined_at, id); new ones get larger ids when written.
        rows = sorted(
            [*self._by_inviter[key], *new],
            key=lambda r: (r["joined_at"], r["id"] is None, r["id"] or 0),
        )
        if campaign is not None:
            rows = [r for r in rows if r["campaign"] == campaign]
        return rows

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
    def record_scan(self, row: dict[str, Any]) -> None:
        """A scan the engine keeps (written with the batch; a scan a live code recorded
        first is kept as it was)."""
        self._scans.append(row)

    def _load_marks(self, keys: set[Key]) -> None:
        wanted = sorted(k for k in keys if k not in self._marks)
        by_channel: dict[str, list[str]] = defaultdict(list)
        for channel, member in wanted:
            self._marks[(channel, member)] = (set(), set())
            by_channel[channel].append(member)
        s = code_scans
        for channel, scanners in by_channel.items():
            for part in chunks(scanners, KEYS_PER_QUERY):
                rows = self.conn.execute(
                    select(s.c.scanner, s.c.device, s.c.network).where(
                        and_(
                            s.c.workspace_id == self.workspace_id,
                            s.c.channel == channel,
                            s.c.scanner.in_(part),
                            or_(s.c.device.is_not(None), s.c.network.is_not(None)),
                        )
                    )
                )
                for scanner, device, network in rows:
                    devices, networks = self._marks[(channel, scanner)]
                    if device:
                        devices.add(device)
                    if network:
                        networks.add(network)

    def scan_marks(self, channel: str, members: list[str]) -> tuple[set[str], set[str]]:
        """Devices and networks these members scanned from."""
        self._ready()
        self._load_marks({(channel, m) for m in members})
        devices: set[str] = set()
        networks: set[str] = set()
        for member in members:
            d, n = self._marks[(channel, member)]
            devices |= d
            networks |= n
        return devices, networks

    def _has_personal_scans(self) -> bool:
        if self._personal_scans is None:
            # Most workspaces have no personal-code scans at all: one look per transaction.
            s = code_scans
            self._personal_scans = (
                self.conn.execute(
                    select(s.c.id)
                    .where(s.c.workspace_id == self.workspace_id, s.c.inviter.is_not(None))
                    .limit(1)
                ).first()
                is not None
            )
        return self._personal_scans

    def _load_personal(self, keys: set[Key]) -> None:
        wanted = sorted(k for k in keys if k not in self._personal)
        by_channel: dict[str, list[str]] = defaultdict(list)
        for channel, member in wanted:
            self._personal[(channel, member)] = []
            by_channel[channel].append(member)
        s = code_scans
        for channel, scanners in by_channel.items():
            for part in chunks(scanners, KEYS_PER_QUERY):
                rows = self.conn.execute(
                    select(s.c.scanner, s.c.at, s.c.inviter, s.c.code)
                    .where(
                        and_(
                            s.c.workspace_id == self.workspace_id,
                            s.c.channel == channel,
                            s.c.scanner.in_(part),
                            s.c.inviter.is_not(None),
                        )
                    )
                    .order_by(s.c.at.desc(), s.c.id.desc())
                )
                for scanner, at, inviter, code in rows:
                    self._personal[(channel, scanner)].append((at, str(inviter), str(code)))

    def scan_inviter(self, channel: str, member: str, at: datetime) -> tuple[str, str] | None:
        """(inviter, code) of the member's latest scan of someone's personal code."""
        self._ready()
        if not self._has_personal_scans():
            return None
        key = (channel, member)
        self._load_personal({key})
        for scanned_at, inviter, code in self._personal[key]:  # latest first
            if at - SCAN_LINK <= scanned_at <= at:
                return inviter, code
        return None

    def code_info(self, code: str | None) -> tuple[str | None, str | None]:
        """(campaign, source) of a live code."""
        if code is None:
            return None, None
        if self._codes is None:
            t = live_codes
            rows = self.conn.execute(
                select(t.c.code, t.c.campaign, t.c.source).where(
                    t.c.workspace_id == self.workspace_id
                )
            )
            self._codes = {str(r[0]): (r[1], r[2]) for r in rows}
        return self._codes.get(code, (None, None))

    def code_campaign(self, code: str | None) -> str | None:
        return self.code_info(code)[0]

    # participants
    def _load_participants(self, keys: set[Key]) -> None:
        wanted = sorted(k for k in keys if k not in self._loaded_members)
        self._loaded_members.update(wanted)
        by_channel: dict[str, list[str]] = defaultdict(list)
        for channel, member in wanted:
            by_channel[channel].append(member)
        t = participants
        for channel, members_ in by_channel.items():
            for part in chunks(members_, KEYS_PER_QUERY):
                rows = self.conn.execute(
                    select(t).where(
                        and_(
                            t.c.workspace_id == self.workspace_id,
                            t.c.channel == channel,
                            t.c.member_ext.in_(part),
                        )
                    )
                ).mappings()
                for row in rows:
                    key = (row["campaign"], channel, row["member_ext"])
                    if self._participants.get(key) is None:
                        self._participants[key] = dict(row)

    def participant(self, campaign: str, channel: str, member: str, at: datetime) -> dict[str, Any]:
        self._ready()
        key = (campaign, channel, member)
        row = self._participants.get(key)
        if row is None and (channel, member) not in self._loaded_members:
            self._load_participants({(channel, member)})
            row = self._participants.get(key)
        if row is not None:
            return row
        row = dict.fromkeys(_PARTICIPANT_COLUMNS)
        row.update(
            workspace_id=self.workspace_id,
            campaign=campaign,
            channel=channel,
            member_ext=member,
            joined_at=at,
            shares=0,
            chances=0,
            chances_used=0,
            id=None,
        )
        self._participants[key] = row
        self._new_participants.append(row)
        return row

    def set_participant(self, row: dict[str, Any], **values: Any) -> None:
        row.update(values)
        if row["id"] is not None:
            self._changed_participants[row["id"]] = row
            self._changed_columns.update(values)

    def flush(self) -> None:
        """New rows in bulk, then the changed columns of stored ones, grouped by shape."""
        insert_ignore(self.conn, code_scans, self._scans)
        self._scans = []
        self._write(referrals, _REFERRAL_COLUMNS, self._new_refs, self._changed_refs)
        self._write(
            participants, _PARTICIPANT_COLUMNS, self._new_participants, self._changed_participants
        )
        self._changed_columns = set()
        # Written rows are read back with their ids on next use.
        for row in self._new_refs:
            self._refs.pop((row["channel"], row["invitee"]), None)
            self._by_inviter.pop((row["channel"], row["inviter"]), None)
        for row in self._new_participants:
            self._participants.pop((row["campaign"], row["channel"], row["member_ext"]), None)
            self._loaded_members.discard((row["channel"], row["member_ext"]))
        self._new_refs, self._new_participants = [], []
        self._changed_refs, self._changed_participants = {}, {}

    def _write(
        self,
        table: Table,
        columns: tuple[str, ...],
        new: list[dict[str, Any]],
        changed: dict[int, dict[str, Any]],
    ) -> None:
        if new:
            self.conn.execute(table.insert(), [{c: row[c] for c in columns} for row in new])
        names = sorted(self._changed_columns & set(columns))
        write_changes(self.conn, table, names, list(changed.values()))


def mark_shared(book: ReferralBook, campaign: str, channel: str, member: str, at: datetime) -> None:
    """A participant shared their poster (their personal code was scanned, or they said so)."""
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
