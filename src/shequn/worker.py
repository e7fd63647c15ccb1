"""Background work: consume the bus, run the scheduler on the process clock, deliver the outbox.

`shequn serve` runs the scheduler and outbox part in a thread; `shequn worker` runs all of it
as its own process, for PostgreSQL + Redis deployments.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from shequn.community.service import list_workspaces, load_workspace
from shequn.engine.ingest import tick
from shequn.engine.outbox import deliver_due
from shequn.engine.service import do_ingest_events
from shequn.events import Event, parse_event
from shequn.platform.bus import RedisBus, group_by_workspace
from shequn.platform.clock import Clock
from shequn.platform.db import get_engine
from shequn.settings import Settings

log = logging.getLogger(__name__)


DELIVERY_OUTCOMES = ("done", "retry", "failed")


@dataclass(slots=True)
class DueWork:
    """What one round of due work did: scheduled jobs run, and outbox deliveries by outcome."""

    jobs: int = 0
    actions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DELIVERY_OUTCOMES, 0))

    @property
    def total(self) -> int:
        return self.jobs + sum(self.actions.values())


def run_due_work(
    engine: Engine,
    settings: Settings,
    now: datetime,
    *,
    workspaces: Sequence[str] | None = None,
    drain: bool = False,
) -> DueWork:
    """Run the scheduler up to `now` in the named workspaces (default: all), then deliver the
    outbox's due actions: one round, or with `drain` until nothing more is due."""
    named = workspaces is not None
    if workspaces is None:
        with engine.connect() as conn:
            workspaces = list_workspaces(conn)
    work = DueWork()
    only: int | None = None  # deliveries of one named workspace only
    for name in workspaces:
        ws = load_workspace(engine, name)
        work.jobs += tick(engine, ws, now)
        only = ws.id if named and len(workspaces) == 1 else None
    while True:
        counts = deliver_due(engine, now, settings.executor_max_attempts, workspace_id=only)
        for outcome, n in counts.items():
            work.actions[outcome] += n
        if not drain or not any(counts.values()):
            return work


def consume_once(engine: Engine, bus: RedisBus) -> int:
    """Process what this worker's partitions hold; returns the events handled."""
    handled = 0
    for p in bus.owned_partitions():
        deliveries = bus.read(p)
        if not deliveries:
            continue
        for slug, items in group_by_workspace(deliveries):
            ws = load_workspace(engine, slug)
            events: list[Event] = []
            for d in items:
                parsed = parse_event(d.event, 0)
                if isinstance(parsed, Event):  # validated before publishing; be safe anyway
                    events.append(parsed)
            do_ingest_events(engine, ws, events)
        bus.ack(deliveries)
        handled += len(deliveries)
    return handled


def run_worker(settings: Settings, clock: Clock, once: bool = False) -> None:
    engine = get_engine(settings)
    bus = (
        RedisBus(settings.redis_url, settings.bus_partitions, settings.bus_prefix)
        if settings.redis_url
        else None
    )
    try:
        while True:
            handled = consume_once(engine, bus) if bus is not None else 0
            work = run_due_work(engine, settings, clock.now()).total
            idle = handled == 0 and work == 0
            if once and idle and (bus is None or bus.backlog() == 0):
                return
            if handled == 0:
                time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if bus is not None:
            bus.release()


class InProcessWorker:
    """The embedded setup's worker: a thread running due work every second."""

    def __init__(
        self, engine: Engine, settings: Settings, clock: Clock, interval: float = 1.0
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="shequn-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_due_work(self.engine, self.settings, self.clock.now())
            except Exception:
                log.exception("background work failed; retrying")
            self._stop.wait(self.interval)
