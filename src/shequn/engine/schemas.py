"""API models of the engine: ingest answers and actions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class IngestAnswer(BaseModel):
    accepted: int
    duplicates: int
    skipped: int = 0
    errors: list[str] = []
    actions: list[dict[str, Any]] = []


class QueuedAnswer(BaseModel):
    queued: int
