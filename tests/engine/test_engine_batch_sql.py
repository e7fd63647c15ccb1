"""No SQL per event inside a batch: the statements an ingest batch sends do not grow with its
number of events.

A simulated world (every kind of event it makes: messages, joins with live codes and
invites, scans, orders, refunds, coupons, poster shares, renames and leaves) is ingested on
the default configuration: a warm-up batch, then a batch of 200 and one of 2,000 events.
Every statement is counted (SQLAlchemy's `before_cursor_execute`) and attributed to the
module and function of ours that sent it, so a failure names the rule that asks per event.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import pytest
from sqlalchemy import Engine, event

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import ingest_batch
from shequn.events import Event
from shequn.platform.db import transaction
from shequn.simulate import WorldSpec, build_world
from shequn.simulate.service import validated

WARM_UP = 3_000
SMALL = 200
LARGE = 2_000
SLACK = 12
"""Statements the larger batch may send beyond the smaller one: bulk loads and writes go
500 (or 1,000) keys at a time, so 10× the events may need a few more chunks — never one
statement per event (the batch of 2,000 holds over 100 scans, joins and orders)."""


@cache
def world_events() -> tuple[Event, ...]:
    spec = WorldSpec(members=1500)
    return tuple(validated(iter(build_world(spec).events)))


def _caller() -> str:
    """The deepest frame of ours outside the database plumbing: the rule or book asking."""
    found = "?"
    for frame in traceback.extract_stack()[:-2]:
        path = frame.filename.replace("\\", "/")
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


def test_statements_per_batch_do_not_grow_with_its_events(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    events = world_events()
    _ingest(engine, workspace, events[:WARM_UP])
    small = events[WARM_UP : WARM_UP + SMALL]
    large = events[WARM_UP + SMALL : WARM_UP + SMALL + LARGE]
    assert sum(ev.type in ("order.paid", "code.scanned", "member.joined") for ev in large) > 200
    with counting(engine) as at_small:
        _ingest(engine, workspace, small)
    with counting(engine) as at_large:
        _ingest(engine, workspace, large)
    grown = at_large - at_small
    assert at_large.total() <= at_small.total() + SLACK, (
        f"{SMALL} events: {at_small.total()} statements, {LARGE}: {at_large.total()}; "
        f"grown:\n{_report(grown)}"
    )


@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_the_count_sees_a_statement_per_event(
    engine: Engine, workspace: WorkspaceInfo, size: int
) -> None:
    """The counter itself: ingesting the batch one event per transaction sends at least a
    statement per event, which the test above would see."""
    events = world_events()[:size]
    with counting(engine) as counts:
        for ev in events:
            _ingest(engine, workspace, (ev,))
    assert counts.total() >= size
