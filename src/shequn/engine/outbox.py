"""The outbox: decided actions become rows in the batch's transaction; an executor delivers
them after commit, with exponential backoff and a dead state (`failed`)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update

from shequn.actions import ActionKind, ActionStatus, Decision
from shequn.channels.base import ChannelError, OutboundAction, adapter_for
from shequn.engine.models import actions
from shequn.i18n import t
from shequn.platform.db import insert_ignore, transaction

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=5)
CLAIM_LEASE = timedelta(seconds=60)


def action_id(workspace_id: int, key: str) -> str:
    digest = hashlib.blake2b(f"{workspace_id}|{key}".encode(), digest_size=12).hexdigest()
    return f"act_{digest}"


@dataclass(slots=True)
class DecidedAction:
    """An outbox row before insert; also what the sandbox API answers."""

    row: dict[str, Any]

    def public(self) -> dict[str, Any]:
        return public_action(self.row)


def public_action(row: Any) -> dict[str, Any]:
    """The contract's action shape."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "channel": row["channel"],
        "group": row["group_ext"],
        "member": row["member_ext"],
        "data": row["data"],
        "rule": row["rule"],
        "reason": row["reason"],
        "caused_by": row["caused_by"],
        "status": row["status"],
        "decided_at": _iso(row["decided_at"]),
        "attempts": row["attempts"],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


class OutboxWriter:
    """Collects one transaction's decisions and writes them in bulk."""

    def __init__(self, workspace_id: int, locale: str) -> None:
        self.workspace_id = workspace_id
        self.locale = locale
        self.decided: list[DecidedAction] = []
        self._keys: set[str] = set()
        self._per_cause: dict[str, int] = {}

    def add(
        self,
        rule: str,
        decision: Decision,
        *,
        channel: str,
        caused_by: str | None,
        cause_key: str,
        at: datetime,
    ) -> None:
        kind = ActionKind(decision.kind)
        key = decision.key or f"{rule}:{kind}:{cause_key}:{decision.member or ''}"
        if key in self._keys:
            return
        self._keys.add(key)
        ordinal = self._per_cause.get(cause_key, 0)
        self._per_cause[cause_key] = ordinal + 1
        data = dict(decision.data)
        adapter = adapter_for(channel)
        if adapter.can(kind):
            status = ActionStatus.PENDING
        else:
            status = ActionStatus.STAFF_TASK
            data["task"] = t(
                f"task.{kind}",
                self.locale,
                group=decision.group or "",
                member=decision.member or "",
                reason=decision.reason,
                text=data.get("text", ""),
                message_id=data.get("message_id", ""),
            )
        self.decided.append(
            DecidedAction(
                {
                    "id": action_id(self.workspace_id, key),
                    "workspace_id": self.workspace_id,
                    "idempotency_key": key,
                    "kind": str(kind),
                    "channel": channel,
                    "group_ext": decision.group,
                    "member_ext": decision.member,
                    "data": data,
                    "rule": rule,
                    "reason": decision.reason,
                    "caused_by": caused_by,
                    "decided_at": at,
                    "ordinal": ordinal,
                    "status": str(status),
                    "attempts": 0,
                    "next_attempt_at": at if status == ActionStatus.PENDING else None,
                    "last_error": None,
                    "done_at": None,
                }
            )
        )

    def flush(self, conn: Any) -> None:
        insert_ignore(conn, actions, [d.row for d in self.decided])


def count_by_status(engine: Engine) -> list[tuple[str, int]]:
    """How many actions the outbox holds in each status (the metrics read it when scraped)."""
    with engine.connect() as conn:
        rows = conn.execute(select(actions.c.status, func.count()).group_by(actions.c.status))
        return [(str(status), int(count)) for status, count in rows]


def _backoff(attempts: int) -> timedelta:
    return BACKOFF_BASE * int(2 ** max(0, attempts - 1))


def claim_due(
    engine: Engine, now: datetime, limit: int = 100, workspace_id: int | None = None
) -> list[OutboundAction]:
    """Take pending actions that are due, leasing them so no other executor takes them."""
    t_ = actions
    with transaction(engine) as conn:
        stmt = (
            select(t_)
            .where(t_.c.status == ActionStatus.PENDING)
            .where(or_(t_.c.next_attempt_at.is_(None), t_.c.next_attempt_at <= now))
            .order_by(t_.c.next_attempt_at, t_.c.id)
            .limit(limit)
        )
        if workspace_id is not None:
            stmt = stmt.where(t_.c.workspace_id == workspace_id)
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(conn.execute(stmt).mappings())
        if not rows:
            return []
        conn.execute(
            update(t_)
            .where(t_.c.id.in_([r["id"] for r in rows]))
            .values(next_attempt_at=now + CLAIM_LEASE, attempts=t_.c.attempts + 1)
        )
    return [
        OutboundAction(
            id=r["id"],
            workspace_id=r["workspace_id"],
            kind=ActionKind(r["kind"]),
            channel=r["channel"],
            group=r["group_ext"],
            member=r["member_ext"],
            data=r["data"],
            reason=r["reason"],
            decided_at=r["decided_at"],
        )
        for r in rows
    ]


def deliver_due(
    engine: Engine,
    now: datetime,
    max_attempts: int = 6,
    limit: int = 100,
    workspace_id: int | None = None,
) -> dict[str, int]:
    """Deliver due actions once (of one workspace, or all); counts done, retried, failed."""
    counts = {"done": 0, "retry": 0, "failed": 0}
    for action in claim_due(engine, now, limit, workspace_id):
        try:
            adapter_for(action.channel).execute(action, engine)
        except ChannelError as exc:
            _record_failure(engine, action.id, now, exc, max_attempts, counts)
        else:
            with transaction(engine) as conn:
                conn.execute(
                    update(actions)
                    .where(and_(actions.c.id == action.id, actions.c.status == "pending"))
                    .values(status=ActionStatus.DONE, done_at=now, last_error=None)
                )
            counts["done"] += 1
    return counts


def _record_failure(
    engine: Engine,
    action_id_: str,
    now: datetime,
    exc: ChannelError,
    max_attempts: int,
    counts: dict[str, int],
) -> None:
    with transaction(engine) as conn:
        attempts = conn.execute(
            select(actions.c.attempts).where(actions.c.id == action_id_)
        ).scalar_one()
        dead = not exc.retry or attempts >= max_attempts
        values: dict[str, Any] = {"last_error": str(exc)[:2000]}
        if dead:
            values.update(status=ActionStatus.FAILED, next_attempt_at=None)
            counts["failed"] += 1
        else:
            values["next_attempt_at"] = now + _backoff(attempts)
            counts["retry"] += 1
        conn.execute(update(actions).where(actions.c.id == action_id_).values(**values))
    log.warning("action %s failed (%s): %s", action_id_, "dead" if dead else "retry", exc)
