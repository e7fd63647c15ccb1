"""Books: per-transaction state that domains keep beside the core projections.

A domain (points, check-ins, violations …) subclasses `Book` and registers it; each engine
run makes one instance per book, lets it preload what the batch names, hands it to rules
through `ctx.book(cls)`, and flushes it with the rest of the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar, cast

from sqlalchemy import Connection

from shequn.events import Event


class Book:
    log_before: int = 0
    """The log's last sequence number before this batch: what came before it, exactly."""

    def __init__(self, conn: Connection, workspace_id: int) -> None:
        self.conn = conn
        self.workspace_id = workspace_id

    def preload(self, events: Sequence[Event]) -> None:
        """Load in bulk what these events will need (optional)."""

    def flush(self) -> None:
        """Write what changed; called once, before the transaction commits."""


B = TypeVar("B", bound=Book)
_REGISTERED: list[type[Book]] = []


def register_book(cls: type[B]) -> type[B]:
    if cls not in _REGISTERED:
        _REGISTERED.append(cls)
    return cls


class Books:
    def __init__(self, conn: Connection, workspace_id: int) -> None:
        self._books: dict[type[Book], Book] = {cls: cls(conn, workspace_id) for cls in _REGISTERED}

    def get(self, cls: type[B]) -> B:
        return cast(B, self._books[cls])  # made from `cls` itself in __init__

    def preload(self, events: Sequence[Event], log_before: int = 0) -> None:
        for book in self._books.values():
            book.log_before = log_before
            book.preload(events)

    def flush(self) -> None:
        for book in self._books.values():
            book.flush()
