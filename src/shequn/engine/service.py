"""Ingest operations shared by the command line, the API and the simulator."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import DEFAULT_BATCH, IngestResult, commit_batch, ingest_batch
from shequn.events import BatchRejected, Event, EventError, parse_event, parse_line
from shequn.platform import metrics
from shequn.platform.gcpause import gc_paused

Lines = Callable[[], Iterable[tuple[int, bytes]]]


@dataclass(slots=True)
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    conflicts: list[str] = field(default_factory=list)
    skipped: list[EventError] = field(default_factory=list)
    result: IngestResult = field(default_factory=IngestResult)

    def summary(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "skipped": len({e.position for e in self.skipped}),
            "errors": [str(e) for e in self.skipped],
        }


KEEP_PARSED = 200_000
"""Inputs up to this many lines are validated once and kept; longer ones are re-read."""


def check_lines(
    lines: Iterable[tuple[int, bytes]], keep: int = 0, latest: datetime | None = None
) -> tuple[list[Event] | None, list[EventError]]:
    """First pass: validate everything and collect every error.

    Keeps the parsed events while there are at most `keep` of them, so a small input is
    parsed once; past that only the errors are kept and memory stays flat.
    """
    kept: list[Event] | None = []
    errors: list[EventError] = []
    for number, line in lines:
        if not line.strip():
            continue
        parsed = parse_line(line, number, latest)
        if isinstance(parsed, Event):
            if kept is not None:
                kept.append(parsed)
                if len(kept) > keep:
                    kept = None
        else:
            errors.extend(parsed)
    return kept, errors


def _commit_batch(engine: Engine, ws: WorkspaceInfo, batch: Sequence[Event]) -> IngestResult:
    started = time.perf_counter()
    result = commit_batch(engine, ws, batch)
    metrics.record_batch(result.accepted, result.duplicates, time.perf_counter() - started)
    return result


def do_ingest_lines(
    engine: Engine,
    ws: WorkspaceInfo,
    lines: Lines,
    *,
    skip_invalid: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], Any] | None = None,
    keep_actions: bool = False,
    latest: datetime | None = None,
) -> IngestReport:
    """Validate the whole input, then ingest it batch by batch.

    Nothing is stored when any line is bad, unless skip_invalid: then the good lines are
    stored and the bad ones reported. Each batch commits on its own, so an interrupted run
    can simply be run again: stored events are recognised as duplicates. An event later
    than `latest` is bad: history may go back, never forward.
    """
    with gc_paused():
        return _ingest_lines(
            engine, ws, lines, skip_invalid, batch_size, progress, keep_actions, latest
        )


def _ingest_lines(
    engine: Engine,
    ws: WorkspaceInfo,
    lines: Lines,
    skip_invalid: bool,
    batch_size: int,
    progress: Callable[[int], Any] | None,
    keep_actions: bool,
    latest: datetime | None,
) -> IngestReport:
    kept, errors = check_lines(lines(), keep=KEEP_PARSED, latest=latest)
    if errors and not skip_invalid:
        raise BatchRejected(errors, unit="line")
    bad = {e.position for e in errors}
    events = kept if kept is not None else _reparse(lines, bad, latest)
    return _commit_all(engine, ws, events, batch_size, progress, keep_actions, errors)


def _commit_all(
    engine: Engine,
    ws: WorkspaceInfo,
    events: Iterable[Event],
    batch_size: int,
    progress: Callable[[int], Any] | None,
    keep_actions: bool,
    skipped: list[EventError] | None = None,
) -> IngestReport:
    """The one batching loop of every ingest path: commit each batch, add up the counts."""
    report = IngestReport(skipped=skipped or [])
    batch: list[Event] = []

    def flush() -> None:
        result = _commit_batch(engine, ws, batch)
        report.accepted += result.accepted
        report.duplicates += result.duplicates
        report.conflicts.extend(result.conflicts)
        if keep_actions:
            report.result.actions.extend(result.actions)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for ev in events:
        batch.append(ev)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return report


def _reparse(lines: Lines, bad: set[int], latest: datetime | None) -> Iterator[Event]:
    for number, line in lines():
        if number in bad or not line.strip():
            continue
        parsed = parse_line(line, number, latest)
        assert isinstance(parsed, Event)
        yield parsed


def do_ingest_items(
    engine: Engine,
    ws: WorkspaceInfo,
    items: Sequence[Any],
    *,
    skip_invalid: bool = False,
    batch_size: int = DEFAULT_BATCH,
    latest: datetime | None,
) -> IngestReport:
    """The API's batch: decoded items validated first, positions being indexes. Live
    traffic passes `latest`, the clock plus the allowed skew: later events are refused."""
    events: list[Event] = []
    errors: list[EventError] = []
    for index, raw in enumerate(items):
        parsed = parse_event(raw, index, latest)
        if isinstance(parsed, Event):
            events.append(parsed)
        else:
            errors.extend(parsed)
    if errors and not skip_invalid:
        raise BatchRejected(errors, unit="item")
    return _commit_all(engine, ws, events, batch_size, None, True, errors)


def do_ingest_events(
    engine: Engine,
    ws: WorkspaceInfo,
    events: Iterable[Event],
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], Any] | None = None,
) -> IngestReport:
    """Already-validated events (the simulator), through the same batches."""
    with gc_paused():
        return _commit_all(engine, ws, events, batch_size, progress, keep_actions=False)


MAX_EVENT_ID = 128


def staff_event_id(operation: str, target: str) -> str:
    """The id of a staff operation's event: `operation:target`, the target hashed when that
    would be longer than an event id may be. The same operation on the same target is the
    same event, so doing it twice (or replaying it) stores it once."""
    plain = f"{operation}:{target}"
    if len(plain) <= MAX_EVENT_ID:
        return plain
    return f"{operation}:{hashlib.blake2b(target.encode(), digest_size=16).hexdigest()}"


def staff_event(
    *,
    type_: str,
    id_: str,
    channel: str,
    at: datetime,
    data: dict[str, Any],
    group: str | None = None,
    member: str | None = None,
) -> Event:
    """A staff operation as an event, validated like any other."""
    raw = {
        "id": id_,
        "type": type_,
        "channel": channel,
        "group": group,
        "member": member,
        "at": at,
        "data": data,
    }
    parsed = parse_event(raw, 0)
    if not isinstance(parsed, Event):
        raise BatchRejected(parsed, unit="field")
    return parsed


def do_record_staff_events(
    conn: Connection, ws: WorkspaceInfo, events: Sequence[Event]
) -> IngestResult:
    """Append staff operations (`staff_event`s) to the log and apply them through the engine,
    inside the caller's transaction: their rules do what the operations do, so a replay of
    the log does it again."""
    return ingest_batch(conn, ws, list(events))
