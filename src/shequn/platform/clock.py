"""The one place Shequn reads the wall clock.

Boundaries (the `shequn` command, the HTTP app, the worker) hold a `Clock` and pass the time
it reads down to services as a plain `now`; rules take time from the event or the scheduler.
Tests and reproducible runs use a `FixedClock` (or `SHEQUN_NOW`), so nothing depends on the
day the suite happens to run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, time-zone aware, in UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until it is moved: for tests, demos and replays."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _aware(at)

    def advance(self, delta: timedelta) -> datetime:
        self._at += delta
        return self._at


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a clock's time needs a UTC offset")
    return at.astimezone(UTC)


SYSTEM_CLOCK = SystemClock()


def clock_from(frozen_at: datetime | None) -> Clock:
    """The process's clock: frozen at `frozen_at` (the SHEQUN_NOW setting) or the wall clock."""
    return FixedClock(frozen_at) if frozen_at is not None else SYSTEM_CLOCK
