"""A small in-process rate limiter for the public pages: fixed one-minute windows per key.

Each `shequn serve` process limits on its own; behind a load balancer the effective limit is
the per-process limit times the processes, which is enough to blunt a scripted scanner.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_KEYS = 100_000


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, per_minute: int) -> bool:
        minute = int(self._clock() // 60)
        with self._lock:
            start, count = self._windows.get(key, (minute, 0))
            if start != minute:
                start, count = minute, 0
            if count >= per_minute:
                return False
            if len(self._windows) >= MAX_KEYS:
                # Old windows carry no information: drop them rather than grow without bound.
                self._windows = {k: v for k, v in self._windows.items() if v[0] == minute}
            self._windows[key] = (start, count + 1)
            return True

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
