"""The durable scheduler's book of jobs within one transaction.

A job is due work with a slot ("the welcome of group g"): scheduling into a slot that already
has pending work merges into it, so bursts collapse into one job.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from shequn.engine.models import jobs


@dataclass(slots=True)
class Job:
    kind: str
    slot: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    status: str = "pending"
    done_at: datetime | None = None
    id: int | None = None
    dirty: bool = field(default=True, compare=False)

    def __lt__(self, other: Job) -> bool:
        return (self.due_at, self.key) < (other.due_at, other.key)


class JobBook:
    def __init__(self, conn: Connection, workspace_id: int) -> None:
        self.conn = conn
        self.workspace_id = workspace_id
        self._by_slot: dict[str, Job | None] = {}
        self._heap: list[Job] = []
        self._all: list[Job] = []
        self._loaded_until: datetime | None = None
        self._all_pending = False  # every pending job of the workspace is in memory

    def _remember(self, job: Job) -> None:
        self._by_slot[job.slot] = job
        self._all.append(job)
        heapq.heappush(self._heap, job)

    def load_due(self, until: datetime) -> None:
        """Bring every pending job due by `until` into memory, in due order."""
        if self._all_pending or (self._loaded_until is not None and until <= self._loaded_until):
            return
        t = jobs
        stmt = (
            select(t.c.id, t.c.kind, t.c.slot, t.c.key, t.c.due_at, t.c.payload)
            .where(t.c.workspace_id == self.workspace_id)
            .where(t.c.status == "pending")
            .where(t.c.due_at <= until)
            .order_by(t.c.due_at, t.c.key)
        )
        known = {j.id for j in self._all if j.id is not None}
        for row in self.conn.execute(stmt).mappings():
            if row["id"] not in known:
                job = Job(**row, dirty=False)
                self._remember(job)
        self._loaded_until = until

    def load_pending(self) -> None:
        """Bring every pending job of the workspace into memory, in one query: a batch then
        answers every slot it asks about from memory, however many events ask. Pending work
        is what is due ahead (holds, deadlines, cooldowns, chains), not the history."""
        if self._all_pending:
            return
        t = jobs
        stmt = (
            select(t.c.id, t.c.kind, t.c.slot, t.c.key, t.c.due_at, t.c.payload)
            .where(t.c.workspace_id == self.workspace_id)
            .where(t.c.status == "pending")
            .order_by(t.c.due_at, t.c.key)
        )
        known = {j.id for j in self._all if j.id is not None}
        for row in self.conn.execute(stmt).mappings():
            if row["id"] not in known:
                self._remember(Job(**row, dirty=False))
        self._all_pending = True

    def pending_due(self, until: datetime) -> list[Job]:
        """The pending jobs in memory due by `until`."""
        return [j for j in self._heap if j.status == "pending" and j.due_at <= until]

    def pending_of_kind(self, kind: str) -> list[Job]:
        """The pending jobs of one kind (after `load_pending`, all of them)."""
        return [
            j
            for j in self._by_slot.values()
            if j is not None and j.kind == kind and j.status == "pending"
        ]

    def pending_in_slot(self, slot: str) -> Job | None:
        if slot not in self._by_slot and self._all_pending:
            return None
        if slot not in self._by_slot:
            t = jobs
            row = (
                self.conn.execute(
                    select(t.c.id, t.c.kind, t.c.slot, t.c.key, t.c.due_at, t.c.payload)
                    .where(t.c.workspace_id == self.workspace_id)
                    .where(t.c.slot == slot)
                    .where(t.c.status == "pending")
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is None:
                self._by_slot[slot] = None
            else:
                self._remember(Job(**row, dirty=False))
        job = self._by_slot[slot]
        return job if job is not None and job.status == "pending" else None

    def schedule(
        self,
        kind: str,
        slot: str,
        due_at: datetime,
        payload: dict[str, Any],
        merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None,
        cause: str = "",
    ) -> Job:
        existing = self.pending_in_slot(slot)
        if existing is not None:
            existing.payload = merge(existing.payload, payload) if merge else payload
            existing.dirty = True
            return existing
        # The cause keeps keys unique when a late event schedules into a slot whose earlier
        # job, due at the same instant, already ran; it is deterministic, so replays agree.
        # The instant is written in UTC: a due time computed in a local zone and the same
        # time read back from the database give the same key.
        tag = hashlib.blake2b(cause.encode(), digest_size=5).hexdigest()
        stamp = due_at.astimezone(UTC).isoformat()
        job = Job(kind, slot, f"{slot}@{stamp}~{tag}", due_at, payload)
        self._remember(job)
        return job

    def has_due(self, until: datetime) -> bool:
        """Whether a pending job is due at or before `until` (loaded ones: see load_due)."""
        while self._heap and self._heap[0].status != "pending":
            heapq.heappop(self._heap)
        return bool(self._heap) and self._heap[0].due_at <= until

    def pop_due(self, until: datetime) -> Job | None:
        """The next pending job due at or before `until`, if any."""
        while self._heap and self._heap[0].due_at <= until:
            job = heapq.heappop(self._heap)
            if job.status == "pending":
                return job
        return None

    def finish(self, job: Job, at: datetime) -> None:
        if job.status == "pending":
            job.status = "done"
        job.done_at = at
        job.dirty = True
        if self._by_slot.get(job.slot) is job:
            self._by_slot[job.slot] = None

    def flush(self) -> None:
        new = [j for j in self._all if j.dirty and j.id is None]
        old = [j for j in self._all if j.dirty and j.id is not None]
        if new:
            self.conn.execute(
                jobs.insert(),
                [
                    {
                        "workspace_id": self.workspace_id,
                        "kind": j.kind,
                        "slot": j.slot,
                        "key": j.key,
                        "due_at": j.due_at,
                        "payload": j.payload,
                        "status": j.status,
                        "done_at": j.done_at,
                    }
                    for j in new
                ],
            )
        if old:
            stmt = (
                update(jobs)
                .where(jobs.c.id == bindparam("_id"))
                .values(
                    payload=bindparam("payload"),
                    status=bindparam("status"),
                    done_at=bindparam("done_at"),
                )
            )
            self.conn.execute(
                stmt,
                [
                    {"_id": j.id, "payload": j.payload, "status": j.status, "done_at": j.done_at}
                    for j in old
                ],
            )
        for j in self._all:
            j.dirty = False
        # New rows got ids in the database; drop them so nothing is inserted twice (and
        # pending ones are no longer all in memory).
        self._all_pending = False
        self._all = [j for j in self._all if j.id is not None]
        self._by_slot = {s: j for s, j in self._by_slot.items() if j is None or j.id is not None}
        self._heap = [j for j in self._heap if j.id is not None]
        heapq.heapify(self._heap)
