"""Rate limits for the public pages (`/l/…`, `/p/…`): fixed one-minute windows per key.

The window is the minute of the time the caller passes in: the request's clock, so that every
server behind a load balancer agrees on the minute and a test with a frozen clock never
straddles two windows.

Embedded, each process counts in memory (`RateLimiter`). With Redis (`SHEQUN_REDIS_URL`) every
`shequn serve` process behind the load balancer counts in the same Redis key
(`RedisRateLimiter`), so the limit holds for the installation, not per process. A public page
must not fail because Redis does: a call Redis does not answer is counted in memory instead.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime
from typing import Protocol

import redis

log = logging.getLogger(__name__)

MAX_KEYS = 100_000
WINDOW_SECONDS = 60
KEY = "{prefix}ratelimit:{minute}:{key}"

# One atomic step: count the call, and let the window's key expire once the window is over.
_COUNT = """
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
return n
"""


class Limiter(Protocol):
    def allow(self, key: str, per_minute: int, now: datetime) -> bool: ...

    def reset(self) -> None: ...


class RateLimiter:
    """Counts in this process only."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, per_minute: int, now: datetime) -> bool:
        minute = _minute(now)
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


class RedisRateLimiter:
    """Counts in Redis, shared by every process using the same Redis and prefix.

    If Redis fails, the call is counted by `fallback` and a warning is logged, at most once a
    minute.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        fallback: RateLimiter,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.fallback = fallback
        self._count = client.register_script(_COUNT)
        self._warned_at: float | None = None
        self._lock = threading.Lock()

    def allow(self, key: str, per_minute: int, now: datetime) -> bool:
        minute = _minute(now)
        name = KEY.format(prefix=self.prefix, minute=minute, key=key)
        try:
            count = int(self._count(keys=[name], args=[WINDOW_SECONDS]))
        except redis.RedisError as exc:
            self._warn(exc, now)
            return self.fallback.allow(key, per_minute, now)
        return count <= per_minute

    def _warn(self, exc: redis.RedisError, now: datetime) -> None:
        at = now.timestamp()
        with self._lock:
            if self._warned_at is not None and at - self._warned_at < WINDOW_SECONDS:
                return
            self._warned_at = at
        log.warning("rate limits counted per process: Redis did not answer (%s)", exc)

    def reset(self) -> None:
        """Forget every count of this prefix (benchmarks and tests)."""
        self.fallback.reset()
        pattern = KEY.format(prefix=_glob_escape(self.prefix), minute="*", key="*")
        names = list(self.client.scan_iter(match=pattern, count=1000))
        if names:
            self.client.delete(*names)


def _minute(now: datetime) -> int:
    return int(now.timestamp() // WINDOW_SECONDS)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
