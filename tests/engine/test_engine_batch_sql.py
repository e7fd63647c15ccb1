"""No SQL per event inside a batch: the statements an ingest batch sends do not grow with its
number of events.

Two simulated worlds, the same days and seed, one with ten times the people of the other
(every kind of event the simulator makes: messages, joins with live codes and invites,
scans, orders, refunds, coupons, poster shares, renames and leaves), are ingested on the
default configuration: their first days as a warm-up, then one whole local day as one batch
each. The two batches cross the same hours, so the same scheduled work (daily cleanup,
health, the KOL board) runs in both; what differs is the number of events — about 600
against 5,000. Every statement is counted (SQLAlchemy's `before_cursor_execute`) and
attributed to the module and function of ours that sent it, so a failure names the rule
that asks per event.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Engine, event

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import ingest_batch
from shequn.events import Event
from shequn.platform.db import transaction
from shequn.simulate import WorldSpec, build_world
from shequn.simulate.clock import SHANGHAI
from shequn.simulate.service import validated
from tests.conftest import create_workspace

SMALL = 250
LARGE = 2_500
"""People in the two worlds."""
DAY = datetime(2026, 10, 5, tzinfo=SHANGHAI)
"""The measured day: the days before it are the warm-up."""
SLACK_PER_KIND = 2
"""Statements of one kind (same caller, verb and table) the larger batch may send beyond the
smaller one. Scheduled work (the daily cleanup, health) writes the batch out before it
reads, so a batch is written in a few segments; with more events, a table may have rows to
write in one more of them, or need one more chunk of keys. Per event would be hundreds."""
SLACK = 20
"""The same for the whole batch."""


@cache
def world_events(members: int) -> tuple[Event, ...]:
    spec = WorldSpec(members=members, days=6)
    return tuple(validated(iter(build_world(spec).events)))


def _warm_up_and_day(members: int) -> tuple[list[Event], list[Event]]:
    events = world_events(members)
    before = [ev for ev in events if ev.at < DAY]
    day = [ev for ev in events if DAY <= ev.at < DAY + timedelta(days=1)]
    return before, day


NOT_YET = {
    "order_refunded": "a refund updates commissions, memberships and rewards of three domains "
    "and reads the buyer's order rank, each at once (refunds are under 0.1 % of events)",
    "for_subject": "a leave soon after a reward reverses it; rewards are written at once by "
    "many paths, so their book reads the table",
    "offences": "the moderation book counts a violator's offences on first use",
}
"""Functions whose statements per event remain, each with its reason; the test counts them
apart and shows them, and fails if one of them is no longer needed here."""


def _caller() -> str:
    """The deepest frame of ours outside the database plumbing (the rule or book asking),
    or the function of `NOT_YET` the statement was sent under."""
    found = "?"
    for frame in traceback.extract_stack()[:-2]:
        path = frame.filename.replace("\\", "/")
        if frame.name in NOT_YET and "/shequn/" in path:
            return f"not yet: {frame.name}"
        if "/shequn/" in path and "/platform/" not in path:
            found = f"{path.rsplit('/shequn/', 1)[1]}:{frame.name}"
    return found


def _shape(statement: str) -> str:
    words = statement.split()
    if "FROM" in words and words[0].upper() in ("SELECT", "DELETE"):
        return f"{words[0]} {words[words.index('FROM') + 1]}"
    return " ".join(words[:3])


@contextmanager
def counting(engine: Engine) -> Iterator[Counter[tuple[str, str]]]:
    counts: Counter[tuple[str, str]] = Counter()

    def count(*args: Any) -> None:
        counts[(_caller(), _shape(args[2]))] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _ingest(engine: Engine, ws: WorkspaceInfo, batch: tuple[Event, ...]) -> None:
    with transaction(engine) as conn:
        ingest_batch(conn, ws, batch)


def _report(counts: Counter[tuple[str, str]]) -> str:
    return "\n".join(f"{n:6d}  {who}  {what}" for (who, what), n in counts.most_common())


def _day_statements(engine: Engine, members: int) -> tuple[int, Counter[tuple[str, str]]]:
    ws = create_workspace(engine)
    warm_up, day = _warm_up_and_day(members)
    _ingest(engine, ws, warm_up)
    with counting(engine) as counts:
        _ingest(engine, ws, day)
    return len(day), counts


def test_statements_per_batch_do_not_grow_with_its_events(engine: Engine) -> None:
    small_events, at_small = _day_statements(engine, SMALL)
    large_events, at_large = _day_statements(engine, LARGE)
    assert large_events > 6 * small_events
    costly = ("order.paid", "code.scanned", "member.joined", "poster.shared")
    assert sum(ev.type in costly for ev in _warm_up_and_day(LARGE)[1]) > 500
    pending = Counter({k: n for k, n in at_large.items() if k[0].startswith("not yet: ")})
    assert {who.removeprefix("not yet: ") for who, _ in pending} == set(NOT_YET), pending
    at_large -= pending
    at_small = Counter({k: n for k, n in at_small.items() if not k[0].startswith("not yet: ")})
    grown = at_large - at_small
    assert all(n <= SLACK_PER_KIND for n in grown.values()) and grown.total() <= SLACK, (
        f"{small_events} events: {at_small.total()} statements, "
        f"{large_events}: {at_large.total()}; grown:\n{_report(grown)}"
    )


def test_the_count_sees_a_statement_per_event(engine: Engine, workspace: WorkspaceInfo) -> None:
    """The counter itself: ingesting events one per transaction sends at least a statement
    per event, which the test above would see."""
    events = world_events(SMALL)[:200]
    with counting(engine) as counts:
        for ev in events:
            _ingest(engine, workspace, (ev,))
    assert counts.total() >= len(events)
