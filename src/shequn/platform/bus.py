"""The bus between ingestion and workers: Redis Streams, partitioned so that each group's
events stay in order.

A group always maps to one partition; a partition is consumed by one worker at a time (a
lease in Redis). The consumer name is the partition's own, so whoever takes a partition over
re-reads what its previous owner had read but not acknowledged. Ingest is idempotent, so a
re-delivery is harmless.
"""

from __future__ import annotations

import os
import socket
import zlib
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import redis

STREAM = "shequn:events:{}"
LEASE = "shequn:lease:{}"
GROUP = "shequn-workers"
LEASE_MS = 15_000

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""


class Routable(Protocol):
    """What the bus carries: an event (`shequn.events.Event`), routed by its group or member."""

    @property
    def channel(self) -> str: ...
    @property
    def group(self) -> str | None: ...
    @property
    def member(self) -> str | None: ...
    def to_json_dict(self) -> dict[str, Any]: ...


def partition_of(workspace: str, event: Routable, partitions: int) -> int:
    key = f"{workspace}|{event.channel}|{event.group or event.member or ''}"
    return zlib.crc32(key.encode()) % partitions


@dataclass(frozen=True, slots=True)
class Delivery:
    partition: int
    message_id: str
    workspace: str
    event: dict[str, Any]


class RedisBus:
    def __init__(self, url: str, partitions: int = 16, prefix: str = "") -> None:
        self.client = redis.Redis.from_url(url)
        self.partitions = partitions
        self.prefix = prefix
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self._renew = self.client.register_script(_RENEW)
        self._groups_ready: set[int] = set()

    def _stream(self, p: int) -> str:
        return self.prefix + STREAM.format(p)

    def publish(self, workspace: str, events: Sequence[Routable]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for ev in events:
            p = partition_of(workspace, ev, self.partitions)
            payload = orjson.dumps({"ws": workspace, "event": ev.to_json_dict()})
            pipe.xadd(self._stream(p), {"m": payload})
        pipe.execute()

    def _ensure_group(self, p: int) -> None:
        if p in self._groups_ready:
            return
        with suppress(redis.ResponseError):  # BUSYGROUP: it exists already
            self.client.xgroup_create(self._stream(p), GROUP, id="0", mkstream=True)
        self._groups_ready.add(p)

    def owned_partitions(self) -> list[int]:
        """Take or renew the leases this worker can hold; returns the partitions it owns."""
        owned = []
        for p in range(self.partitions):
            key = self.prefix + LEASE.format(p)
            if self._renew(keys=[key], args=[self.worker_id, LEASE_MS]):
                owned.append(p)
        return owned

    def release(self) -> None:
        for p in range(self.partitions):
            key = self.prefix + LEASE.format(p)
            if self.client.get(key) == self.worker_id.encode():
                self.client.delete(key)

    def read(self, p: int, count: int = 2000) -> list[Delivery]:
        """Unacknowledged deliveries first, then new ones, in stream order."""
        self._ensure_group(p)
        consumer = f"p{p}"
        out: list[Delivery] = []
        for start in ("0", ">"):
            reply: Any = self.client.xreadgroup(
                GROUP, consumer, {self._stream(p): start}, count=count
            )
            for _stream, entries in reply or []:
                for message_id, fields in entries:
                    if not fields:
                        continue
                    body = orjson.loads(fields[b"m"])
                    out.append(Delivery(p, message_id.decode(), body["ws"], body["event"]))
            if out:
                return out
        return out

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        by_partition: dict[int, list[str]] = {}
        for d in deliveries:
            by_partition.setdefault(d.partition, []).append(d.message_id)
        for p, ids in by_partition.items():
            self.client.xack(self._stream(p), GROUP, *ids)
            self.client.xdel(self._stream(p), *ids)

    def backlog(self) -> int:
        return sum(int(self.client.xlen(self._stream(p))) for p in range(self.partitions))

    def drop_all(self) -> None:
        """Delete every stream and lease of this bus (tests)."""
        for p in range(self.partitions):
            self.client.delete(self._stream(p), self.prefix + LEASE.format(p))
        self._groups_ready.clear()


def group_by_workspace(deliveries: Sequence[Delivery]) -> Iterator[tuple[str, list[Delivery]]]:
    by_ws: dict[str, list[Delivery]] = {}
    for d in deliveries:
        by_ws.setdefault(d.workspace, []).append(d)
    yield from by_ws.items()
