"""Ingest: dedupe → append → project → rules → outbox, one transaction per batch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, func, select

from shequn.actions import ActionKind, Decision
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.books import Books
from shequn.engine.jobs import Job, JobBook
from shequn.engine.models import events as events_table
from shequn.engine.outbox import DecidedAction, OutboxWriter
from shequn.engine.projector import project
from shequn.engine.rules import Context, Rule, handler_for, load_rule_modules, rules_for
from shequn.engine.state import BatchState
from shequn.events import Event, MemberJoinedData
from shequn.i18n import t
from shequn.platform.db import (
    KEYS_PER_QUERY,
    db_datetime,
    fast_insert_tuples,
    fast_stored,
    lock_workspace,
    transaction,
)

DEFAULT_BATCH = 20_000
"""Events per transaction. Each batch loads the rows its members need and writes each changed
row once, so a larger batch does that once for more events (`shequn bench ingest --batch N`
compares sizes; see docs/architecture.md for the figures)."""
log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_JOBS_PER_TRANSACTION = 2_000
"""Most due jobs one transaction runs. A batch whose events lie far apart (a history with a
gap of months) or a tick long overdue would otherwise run all the work in between while it
holds the workspace's lock; past this many, the work goes on in further transactions."""


class SchedulerBehind(Exception):
    """More jobs are due before `event` than one transaction may run: the caller commits the
    events before it, catches the scheduler up in bounded transactions and goes on."""

    def __init__(self, event: Event) -> None:
        self.event = event
        super().__init__(f"scheduler behind before event {event.id}")


@dataclass(slots=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    """Events already stored (or earlier in the batch) exactly as sent again."""
    conflicts: list[str] = field(default_factory=list)
    """Ids already stored (or earlier in the batch) with other content: the first version
    is kept, and the sender learns that theirs differs."""
    actions: list[DecidedAction] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.conflicts.extend(other.conflicts)
        self.actions.extend(other.actions)


def _content(
    type_: str, group: str | None, member: str | None, at: datetime, data: Any
) -> tuple[Any, ...]:
    """What two versions of one event id must share to be the same event."""
    return (type_, group, member, at, data)


def _event_content(ev: Event) -> tuple[Any, ...]:
    data = ev.data.model_dump(mode="json", exclude_none=True)
    return _content(ev.type, ev.group, ev.member, ev.at, data)


def _stored_content(
    conn: Connection, workspace_id: int, channel: str, ids: Sequence[str]
) -> dict[str, tuple[Any, ...]]:
    t = events_table
    stmt = select(t.c.ext_id, t.c.type, t.c.group_ext, t.c.member_ext, t.c.at, t.c.data).where(
        t.c.workspace_id == workspace_id, t.c.channel == channel, t.c.ext_id.in_(ids)
    )
    return {row[0]: _content(*row[1:]) for row in conn.execute(stmt)}


def _fresh_events(
    conn: Connection, workspace_id: int, batch: Sequence[Event]
) -> tuple[list[Event], list[str]]:
    """The batch without events already stored or repeated within it (first one wins), and
    the ids among those whose content differs from the first version (the conflicts)."""
    first: dict[tuple[str, str], Event] = {}
    for ev in batch:
        first.setdefault((ev.channel, ev.id), ev)
    by_channel: dict[str, list[str]] = {}
    for channel, ext_id in first:
        by_channel.setdefault(channel, []).append(ext_id)
    stored: dict[tuple[str, str], tuple[Any, ...]] = {}
    for channel, ids in by_channel.items():
        where = {"workspace_id": workspace_id, "channel": channel}
        found = sorted(fast_stored(conn, events_table, where, "ext_id", ids, size=KEYS_PER_QUERY))
        # Only repeats are read back and compared: a batch of new events pays nothing more.
        for part in range(0, len(found), 500):
            for ext_id, content in _stored_content(
                conn, workspace_id, channel, found[part : part + 500]
            ).items():
                stored[(channel, ext_id)] = content
    conflicts: list[str] = []
    for ev in batch:
        key = (ev.channel, ev.id)
        if key in stored:
            differs = _event_content(ev) != stored[key]
        elif first[key] is not ev:
            differs = _event_content(ev) != _event_content(first[key])
        else:
            continue
        if differs:
            conflicts.append(ev.id)
    fresh = [ev for key, ev in first.items() if key not in stored]
    return fresh, conflicts


def _append(conn: Connection, workspace_id: int, fresh: Sequence[Event]) -> None:
    stamp = db_datetime(conn)
    fast_insert_tuples(
        conn,
        events_table,
        ("workspace_id", "channel", "ext_id", "type", "group_ext", "member_ext", "at", "data"),
        [
            (
                workspace_id,
                ev.channel,
                ev.id,
                ev.type,
                ev.group,
                ev.member,
                stamp(ev.at),
                # Serialised by pydantic's own (compiled) serializer: the hottest line here.
                ev.data.model_dump_json(exclude_none=True),
            )
            for ev in fresh
        ],
    )


def _preload(state: BatchState, fresh: Sequence[Event], due: Sequence[Job]) -> None:
    """The rows the events name, and those the jobs falling due in the batch name (a
    journey's step, an intro reminder, a hold's end look at their member's membership)."""
    group_keys = set()
    member_keys = set()
    membership_keys = set()
    for job in due:
        p = job.payload
        channel, group = p.get("channel"), p.get("group")
        for who in (p.get("member"), p.get("invitee")):
            if isinstance(channel, str) and isinstance(who, str):
                member_keys.add((channel, who))
                if isinstance(group, str):
                    membership_keys.add((channel, group, who))
    for ev in fresh:
        if ev.group is not None:
            group_keys.add((ev.channel, ev.group))
        if ev.member is not None:
            member_keys.add((ev.channel, ev.member))
            if ev.group is not None:
                membership_keys.add((ev.channel, ev.group, ev.member))
        if isinstance(ev.data, MemberJoinedData) and ev.data.inviter:
            member_keys.add((ev.channel, ev.data.inviter))
    state.load(group_keys, member_keys, membership_keys)


class Run:
    """One transaction of engine work for one workspace: projections, jobs and outbox."""

    def __init__(
        self, conn: Connection, workspace: WorkspaceInfo, job_budget: int | None = None
    ) -> None:
        self.conn = conn
        self.workspace = workspace
        self.job_budget = job_budget
        self.jobs_run = 0
        self.state = BatchState(conn, workspace.id)
        self.log_before = 0
        self.jobs = JobBook(conn, workspace.id)
        self.outbox = OutboxWriter(workspace.id, workspace.locale)
        load_rule_modules()  # registers the domains' books before they are made
        self.books = Books(conn, workspace.id)
        self.capacity = int(workspace.config.groups.default_capacity)
        # One context for the whole transaction, moved on from event to event.
        self.ctx = Context(workspace, self.state, self.jobs, self.books, datetime.min)
        # The rules that can act, per (event type, channel, group configuration): rules the
        # configuration leaves idle are never called, once-per-channel rules drop out after
        # their first run.
        self._plans: dict[tuple[str, str, int], list[Rule]] = {}
        self._ran_once: set[tuple[str, str]] = set()
        config = workspace.config
        self._one_config = not config.blueprints and not config.groups.overrides

    def preload(self, fresh: Sequence[Event]) -> None:
        """What the batch will read, in bulk: the projections' rows its events name, the
        books' keys, every pending job, and what each rule that can act says it will need."""
        self.jobs.load_pending()
        _preload(self.state, fresh, self.jobs.pending_due(max(ev.at for ev in fresh)))
        self.books.preload(fresh, self.log_before)
        config = self.workspace.config
        prepared: set[str] = set()
        for etype in dict.fromkeys(ev.type for ev in fresh):
            for r in rules_for(etype):
                if r.preload is None or r.qualname in prepared:
                    continue
                if r.when is not None and not r.when(config):
                    continue
                prepared.add(r.qualname)
                r.preload(fresh, self.ctx)

    def run_jobs_until(self, until: datetime, limit: int | None = None) -> int:
        """Run every job due by `until` (at most `limit`), each at its own due time."""
        self.jobs.load_due(until)
        count = 0
        while (limit is None or count < limit) and (job := self.jobs.pop_due(until)) is not None:
            # Done before it runs: a handler may schedule new work into its own slot.
            self.jobs.finish(job, job.due_at)
            handler = handler_for(job.kind)
            ctx = self.ctx.handle(job.due_at, f"job:{job.key}")
            if handler is not None:
                channel = str(job.payload.get("channel", "sandbox"))
                try:
                    decisions = list(handler.fn(job, ctx))
                except Exception as exc:
                    # A job that cannot run must not block the workspace's ingest forever:
                    # it is set aside as failed, with the reason, and staff are told.
                    self._job_failed(job, handler.qualname, exc, channel)
                    decisions = []
                for decision in decisions:
                    self.outbox.add(
                        handler.qualname,
                        decision,
                        channel=decision.channel or channel,
                        caused_by=job.payload.get("caused_by"),
                        cause_key=f"job:{job.key}",
                        at=job.due_at,
                    )
            count += 1
        self.jobs_run += count
        return count

    def _job_failed(self, job: Job, rule: str, exc: Exception, channel: str) -> None:
        log.warning("job %s (%s) failed: %s", job.key, job.kind, exc)
        job.status = "failed"
        job.payload = {**job.payload, "error": f"{type(exc).__name__}: {exc}"[:500]}
        self.outbox.add(
            rule,
            Decision(
                ActionKind.STAFF_TASK,
                t("job.failed", self.workspace.locale, kind=job.kind, error=exc),
                group=job.payload.get("group"),
                member=job.payload.get("member"),
            ),
            channel=channel,
            caused_by=job.payload.get("caused_by"),
            cause_key=f"job-failed:{job.key}",
            at=job.due_at,
        )

    def apply(self, ev: Event) -> None:
        if self.job_budget is None:
            self.run_jobs_until(ev.at)
        else:
            self.run_jobs_until(ev.at, limit=max(0, self.job_budget - self.jobs_run))
            if self.jobs.has_due(ev.at):
                raise SchedulerBehind(ev)
        project(self.state, ev, self.capacity)
        ctx = self.ctx.handle(ev.at, f"{ev.channel}:{ev.id}")
        plan = self._plan(ev)
        once: list[Rule] = []
        for r in plan:
            if r.once_per_channel:
                once.append(r)
            for decision in r.fn(ev, ctx):
                self.outbox.add(
                    r.qualname,
                    decision,
                    channel=ev.channel,
                    caused_by=ev.id,
                    cause_key=f"event:{ev.channel}:{ev.id}",
                    at=ev.at,
                )
        for r in once:
            self._ran(r, ev.channel)

    def _plan(self, ev: Event) -> list[Rule]:
        ws = self.workspace
        if ev.group is None or self._one_config:
            config = ws.config
        else:
            group = self.state.group(ev.channel, ev.group)
            config = ws.group_config(ev.group, group.blueprint if group else None)
        key = (ev.type, ev.channel, id(config))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = [
                r
                for r in rules_for(ev.type)
                if (r.when is None or r.when(config))
                and (r.qualname, ev.channel) not in self._ran_once
            ]
        return plan

    def _ran(self, r: Rule, channel: str) -> None:
        self._ran_once.add((r.qualname, channel))
        for (_, plan_channel, _), plan in self._plans.items():
            if plan_channel == channel and r in plan:
                plan.remove(r)

    def flush(self) -> None:
        self.state.flush()
        self.books.flush()
        self.jobs.flush()
        self.outbox.flush(self.conn)


def ingest_batch(
    conn: Connection,
    workspace: WorkspaceInfo,
    batch: Sequence[Event],
    job_budget: int | None = None,
    *,
    bounded: bool = False,
) -> IngestResult:
    """Process one batch inside the caller's transaction (the caller commits). With a
    `job_budget` (or, `bounded`, MAX_JOBS_PER_TRANSACTION), raises SchedulerBehind rather
    than run more due jobs than that (the caller rolls back: `commit_batch` and `caught_up`
    do the rest)."""
    if bounded and job_budget is None:
        job_budget = MAX_JOBS_PER_TRANSACTION
    lock_workspace(conn, workspace.id)
    fresh, conflicts = _fresh_events(conn, workspace.id, batch)
    result = IngestResult(
        accepted=len(fresh),
        duplicates=len(batch) - len(fresh) - len(conflicts),
        conflicts=conflicts,
    )
    if not fresh:
        return result
    # Every event of this workspace already in the log has a smaller sequence number: the
    # workspace is locked, so none of its events can be appended meanwhile.
    log_before = conn.execute(select(func.max(events_table.c.seq))).scalar() or 0
    _append(conn, workspace.id, fresh)
    run = Run(conn, workspace, job_budget)
    run.log_before = log_before
    run.preload(fresh)
    for ev in fresh:
        run.apply(ev)
    run.flush()
    result.actions = run.outbox.decided
    return result


def commit_batch(
    engine: Engine,
    workspace: WorkspaceInfo,
    batch: Sequence[Event],
    job_budget: int | None = None,
) -> IngestResult:
    """Ingest a batch in as many transactions as its due work needs, none running more than
    `job_budget` jobs (default MAX_JOBS_PER_TRANSACTION): the same decisions as one
    transaction, without holding the workspace for as long as the work between its events
    takes."""
    budget = MAX_JOBS_PER_TRANSACTION if job_budget is None else job_budget
    total = IngestResult()
    rest = list(batch)
    while rest:
        try:
            with transaction(engine) as conn:
                total.add(ingest_batch(conn, workspace, rest, budget))
            return total
        except SchedulerBehind as behind:
            cut = next(i for i, ev in enumerate(rest) if ev is behind.event)
        if cut:
            # The events before it ran their jobs within the budget: the same work again.
            with transaction(engine) as conn:
                total.add(ingest_batch(conn, workspace, rest[:cut]))
            rest = rest[cut:]
        tick(engine, workspace, rest[0].at, budget)
    return total


def caught_up(engine: Engine, workspace: WorkspaceInfo, work: Callable[[], T]) -> T:
    """Run `work`, a transaction that ingests with a job budget; when the scheduler is behind
    the event, catch it up in bounded transactions and run `work` again."""
    for _ in range(3):
        try:
            return work()
        except SchedulerBehind as behind:
            tick(engine, workspace, behind.event.at)
    return work()


def tick(
    engine: Engine,
    workspace: WorkspaceInfo,
    until: datetime,
    job_budget: int | None = None,
) -> int:
    """Run the scheduler for one workspace up to `until`, at most `job_budget` jobs
    (default MAX_JOBS_PER_TRANSACTION) per transaction; returns the jobs run."""
    budget = MAX_JOBS_PER_TRANSACTION if job_budget is None else job_budget
    total = 0
    while True:
        with transaction(engine) as conn:
            lock_workspace(conn, workspace.id)
            run = Run(conn, workspace)
            count = run.run_jobs_until(until, limit=budget)
            run.flush()
        total += count
        if count < budget:
            return total
