"""The rule registry and the context rules see.

A rule is a plain function `(event, ctx) -> decisions`, registered per domain for the event
types it cares about. A job handler is `(job, ctx) -> decisions` for work the scheduler runs
when it falls due. Neither reads the wall clock: `ctx.now` is the event's time, or the
scheduler's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from shequn.actions import Decision
from shequn.community.workspace import WorkspaceInfo
from shequn.config import WorkspaceConfig
from shequn.engine.books import B, Books
from shequn.engine.jobs import Job, JobBook
from shequn.engine.state import BatchState
from shequn.events import Event
from shequn.platform import domain


class Context:
    """What a rule may read and the few things it may do besides deciding actions."""

    def __init__(
        self,
        workspace: WorkspaceInfo,
        state: BatchState,
        jobs: JobBook,
        books: Books,
        now: datetime,
        cause: str = "",
    ) -> None:
        self.workspace = workspace
        self.state = state
        self.jobs = jobs
        self.books = books
        self.now = now
        self.cause = cause  # the event or job being handled
        self._day: tuple[datetime, datetime, date] | None = None  # a local day, in UTC
        self._settings: tuple[str, str, WorkspaceConfig] | None = None

    def handle(self, now: datetime, cause: str) -> Context:
        """The same context, moved on to the next event or job (one per transaction)."""
        self.now = now
        self.cause = cause
        self._settings = None  # a job may change a group (its blueprint) between events
        return self

    def exempt(self, channel: str, group: str | None, member: str) -> bool:
        """Staff, helpers, bots, the whitelist and the group's owner: no robot acts against
        them (punishing, warning for silence, removing)."""
        if self.config.roles.exempt(member):
            return True
        found = self.state.group(channel, group) if group else None
        return found is not None and found.owner == member

    def book(self, cls: type[B]) -> B:
        """The transaction's instance of a domain's book (points, check-ins …)."""
        return self.books.get(cls)

    @property
    def config(self) -> WorkspaceConfig:
        return self.workspace.config

    def settings(self, channel: str, group: str | None) -> WorkspaceConfig:
        """The configuration of one group (its blueprint and overrides applied)."""
        if group is None:
            return self.workspace.config
        last = self._settings
        if last is not None and last[1] == group and last[0] == channel:
            return last[2]  # several rules of one event ask for the same group's
        found = self.state.group(channel, group)
        config = self.workspace.group_config(group, found.blueprint if found else None)
        self._settings = (channel, group, config)
        return config

    def local_date(self, at: datetime | None = None) -> date:
        """The calendar day of `at` (default: now) in the workspace's time zone."""
        at = at or self.now
        span = self._day
        if span is not None and span[0] <= at < span[1]:
            return span[2]  # most events fall on the day of the one before
        tz = self.workspace.tz
        day = at.astimezone(tz).date()
        start = datetime.combine(day, time(), tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
        if start <= at < end:  # defensive: never keep a span that does not hold `at`
            self._day = (start, end, day)
        return day

    def schedule(
        self,
        kind: str,
        slot: str,
        due_at: datetime,
        payload: dict[str, Any],
        merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
    ) -> Job:
        """Schedule work for `slot`; if it is already pending, merge into it instead."""
        return self.jobs.schedule(kind, slot, due_at, payload, merge, self.cause)

    def pending(self, slot: str) -> Job | None:
        """The pending job of a slot, if any (e.g. a cooldown or a reminder)."""
        return self.jobs.pending_in_slot(slot)

    def cancel(self, slot: str) -> bool:
        """Drop the pending job of a slot; returns whether there was one."""
        job = self.jobs.pending_in_slot(slot)
        if job is None:
            return False
        self.jobs.finish(job, self.now)
        return True


RuleFn = Callable[[Event, Context], Iterable[Decision]]
PreloadFn = Callable[[Sequence[Event], Context], None]
JobFn = Callable[[Job, Context], Iterable[Decision]]


@dataclass(frozen=True, slots=True)
class Rule:
    domain: str
    name: str
    on: frozenset[str]
    fn: RuleFn
    when: Callable[[WorkspaceConfig], bool] | None = None
    """Whether a configuration can make this rule act at all (None: always). Given the
    configuration of the event's group; it must read what the rule itself reads."""
    once_per_channel: bool = False
    """Runs for the first event of each channel in a transaction only (keeping a job chain
    pending: within one transaction the configuration is fixed and a chain re-arms itself)."""
    preload: PreloadFn | None = None
    """Called once per batch, before its first event, with all the batch's events, when the
    batch holds an event of the rule's types and the workspace's configuration passes
    `when`: the rule names in bulk what it will read (projection rows, a book's keys), so no
    event of the batch asks on its own. Rules sharing a book may share one preload."""

    @property
    def qualname(self) -> str:
        return f"{self.domain}.{self.name}"


@dataclass(frozen=True, slots=True)
class JobHandler:
    domain: str
    name: str
    kind: str
    fn: JobFn

    @property
    def qualname(self) -> str:
        return f"{self.domain}.{self.name}"


_RULES_BY_TYPE: dict[str, list[Rule]] = {}
_RULES_BY_NAME: dict[str, Rule] = {}
_JOB_HANDLERS: dict[str, JobHandler] = {}


def _same_function(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    """The same definition, even when its module was imported twice."""
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def rule(
    domain: str,
    name: str,
    on: Iterable[str],
    *,
    when: Callable[[WorkspaceConfig], bool] | None = None,
    once_per_channel: bool = False,
    preload: PreloadFn | None = None,
) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        r = Rule(domain, name, frozenset(on), fn, when, once_per_channel, preload)
        known = _RULES_BY_NAME.get(r.qualname)
        if known is not None:
            if not _same_function(known.fn, fn):
                raise ValueError(f"rule {r.qualname} is registered twice: names must be unique")
            return fn
        _RULES_BY_NAME[r.qualname] = r
        for etype in r.on:
            _RULES_BY_TYPE.setdefault(etype, []).append(r)
        return fn

    return register


def job_handler(domain: str, name: str, kind: str) -> Callable[[JobFn], JobFn]:
    def register(fn: JobFn) -> JobFn:
        known = _JOB_HANDLERS.get(kind)
        if known is not None and not _same_function(known.fn, fn):
            raise ValueError(f"job kind {kind} has two handlers: {known.qualname}, {domain}.{name}")
        _JOB_HANDLERS[kind] = JobHandler(domain, name, kind, fn)
        return fn

    return register


def load_rule_modules() -> None:
    """Import the installed domains' rules modules (`Domain.rules`): they register their
    rules, job handlers and books."""
    domain.load("rules")


def rules_for(event_type: str) -> list[Rule]:
    load_rule_modules()
    return _RULES_BY_TYPE.get(event_type, [])


def handler_for(kind: str) -> JobHandler | None:
    load_rule_modules()
    return _JOB_HANDLERS.get(kind)


def all_rules() -> list[Rule]:
    load_rule_modules()
    return sorted(_RULES_BY_NAME.values(), key=lambda r: r.qualname)
