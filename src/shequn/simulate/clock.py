"""Simulated time: seconds since local midnight in Shanghai, the daily rhythm of chat, and counts.

Shanghai has had no daylight saving since 1991, so a fixed +08:00 offset is exact and local
hours are plain arithmetic on the second count.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from datetime import datetime, timedelta, timezone
from itertools import accumulate

DAY = 86_400
HOUR = 3_600
SHANGHAI = timezone(timedelta(hours=8))

# Relative chat volume per local hour: quiet at night, peaks at breakfast, lunch and evening.
HOURLY_ACTIVITY: tuple[float, ...] = (
    0.30, 0.15, 0.08, 0.05, 0.05, 0.10, 0.40, 1.20, 2.20, 2.00, 1.30, 1.40,
    2.00, 1.70, 1.00, 1.00, 1.00, 1.10, 1.30, 1.60, 2.30, 2.40, 1.60, 0.80,
)  # fmt: skip
_HOUR_CUMULATIVE = tuple(accumulate(HOURLY_ACTIVITY))


class Clock:
    """Maps simulated seconds (since local midnight of the start day) to contract timestamps."""

    def __init__(self, start: datetime, days: int) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        local = start.astimezone(SHANGHAI)
        self.midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = int((local - self.midnight).total_seconds())
        self.end = self.start + days * DAY
        """Exclusive: nothing happens at or after it."""

    def iso(self, t: int) -> str:
        return (self.midnight + timedelta(seconds=t)).isoformat()

    def local(self, t: int) -> datetime:
        return self.midnight + timedelta(seconds=t)

    def days(self) -> range:
        """Every day index that overlaps the simulated window."""
        return range(self.start // DAY, (self.end - 1) // DAY + 1)


def hour_of(t: int) -> int:
    return (t // HOUR) % 24


def busy_hour(rng: random.Random) -> int:
    """A local hour drawn from the daily rhythm."""
    return bisect(_HOUR_CUMULATIVE, rng.random() * _HOUR_CUMULATIVE[-1])


def moment_in_day(rng: random.Random, day: int) -> int:
    return day * DAY + busy_hour(rng) * HOUR + rng.randrange(HOUR)


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
