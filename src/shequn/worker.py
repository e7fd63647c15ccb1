"""Background work: consume the bus, run the scheduler on the wall clock, deliver the outbox.

`shequn serve` runs the scheduler and outbox part in a thread; `shequn worker` runs all of it
as its own process, for PostgreSQL + Redis deployments.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Engine

from shequn.community.service import list_workspaces, load_workspace
from shequn.engine.ingest import tick
from shequn.engine.outbox import deliver_due
from shequn.engine.service import do_ingest_events
from shequn.events import Event, parse_event
from shequn.platform.bus import RedisBus, group_by_workspace
from shequn.platform.db import get_engine
from shequn.settings import Settings

log = logging.getLogger(__name__)


def run_due_work(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """One round of the scheduler and the outbox on the wall clock; returns work done."""
    now = now or datetime.now(UTC)
    done = 0
    with engine.connect() as conn:
        names = list_workspaces(conn)
    for name in names:
        done += tick(engine, load_workspace(engine, name), now)
    counts = deliver_due(engine, now, settings.executor_max_attempts)
    return done + sum(counts.values())


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


def run_worker(settings: Settings, once: bool = False) -> None:
    engine = get_engine(settings)
    bus = (
        RedisBus(settings.redis_url, settings.bus_partitions, settings.bus_prefix)
        if settings.redis_url
        else None
    )
    try:
        while True:
            handled = consume_once(engine, bus) if bus is not None else 0
            work = run_due_work(engine, settings)
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

    def __init__(self, engine: Engine, settings: Settings, interval: float = 1.0) -> None:
        self.engine = engine
        self.settings = settings
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
                run_due_work(self.engine, self.settings)
            except Exception:
                log.exception("background work failed; retrying")
            self._stop.wait(self.interval)
