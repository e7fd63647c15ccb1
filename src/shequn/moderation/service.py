"""Staff operations of moderation: revert a decision, mark spam, keep the ban list, handle
member reports, and import or export word lists."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from shequn.actions import ActionKind, Decision
from shequn.community.service import Conflict, NotFound, do_apply_config, stored_config
from shequn.community.workspace import WorkspaceInfo
from shequn.engagement.points import PointsBook
from shequn.engine.ingest import Run
from shequn.engine.service import do_record_staff_events, staff_event, staff_event_id
from shequn.moderation.book import insert_sample, lift_ban
from shequn.moderation.findings import CATEGORIES
from shequn.moderation.models import banlist, member_reports, spam_samples, violations
from shequn.moderation.rules import revert_key
from shequn.moderation.texts import say
from shequn.moderation.wordlist import builtin_lists, format_words, parse_words
from shequn.platform.db import lock_workspace
from shequn.platform.errors import Invalid, TooMany


def _violation(conn: Connection, ws: WorkspaceInfo, violation_id: str) -> Any:
    row = (
        conn.execute(
            select(violations).where(
                and_(violations.c.workspace_id == ws.id, violations.c.id == violation_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(say, "moderation.no_violation", violation=violation_id)
    return row


def check_revert_violation(conn: Connection, ws: WorkspaceInfo, violation_id: str) -> Any:
    """The violation to revert; refused when there is none or it was already reverted."""
    v = _violation(conn, ws, violation_id)
    if v["reverted_at"] is not None:
        raise Conflict(say, "moderation.already_reverted", violation=violation_id)
    return v


def do_revert_violation(
    conn: Connection, ws: WorkspaceInfo, violation_id: str, by: str, *, now: datetime
) -> dict[str, Any]:
    """Undo a false positive: restore the member, refund points, learn a clean sample.

    The revert is a `violation.reverted` event in the log, naming the violation by the event
    it was recorded for; the rule `moderation.revert` does the work, so a replay does it too.
    """
    lock_workspace(conn, ws.id)
    v = check_revert_violation(conn, ws, violation_id)
    do_record_staff_events(
        conn,
        ws,
        [
            staff_event(
                type_="violation.reverted",
                id_=staff_event_id("revert", v["caused_by"]),
                channel=v["channel"],
                group=v["group_ext"],
                member=v["member_ext"],
                at=now,
                data={"event": v["caused_by"], "by": by},
            )
        ],
    )
    refunded = PointsBook(conn, ws.id).entry_delta(revert_key(violation_id)) or 0
    restored = bool({"remove", "blacklist"} & set(v["actions"]))
    return {"violation": violation_id, "refunded_points": refunded, "restore_task": restored}


def do_add_sample(
    conn: Connection,
    ws: WorkspaceInfo,
    text: str,
    label: str,
    *,
    source: str | None = None,
    by: str | None = None,
    now: datetime,
) -> int:
    """Staff mark a message as spam (or clean): the similarity detector learns from it."""
    if label not in ("spam", "clean"):
        raise Invalid(say, "moderation.bad_label")
    if not text.strip():
        raise Invalid(say, "moderation.empty_sample")
    return insert_sample(conn, ws.id, text, label, source=source, by=by, at=now)


def do_import_samples(
    conn: Connection,
    ws: WorkspaceInfo,
    samples: Sequence[tuple[str, str]],
    *,
    source: str,
    by: str | None = None,
    now: datetime,
) -> dict[str, int]:
    """Import labelled history, (label, text) pairs, as the workspace's samples: the
    similarity detector and the classifier learn from them before the next message.

    A text already kept with the same label is skipped, so importing a file twice adds it
    once.
    """
    if not samples:
        raise Invalid(say, "moderation.no_samples")
    for label, _ in samples:
        if label not in ("spam", "clean"):
            raise Invalid(say, "moderation.bad_label")
    lock_workspace(conn, ws.id)
    t = spam_samples
    kept = {
        (label, text)
        for label, text in conn.execute(
            select(t.c.label, t.c.text).where(t.c.workspace_id == ws.id)
        ).all()
    }
    added = 0
    for label, text in samples:
        text = text.strip()[:2000]
        if not text or (label, text) in kept:
            continue
        kept.add((label, text))
        insert_sample(conn, ws.id, text, label, source=source, by=by, at=now)
        added += 1
    return {"added": added, "skipped": len(samples) - added}


def do_ban(
    conn: Connection,
    ws: WorkspaceInfo,
    channel: str,
    member: str,
    reason: str,
    by: str,
    *,
    now: datetime,
) -> None:
    """Put a member on the workspace's ban list: any later join is refused."""
    existing = conn.execute(
        select(banlist.c.id, banlist.c.lifted_at).where(
            and_(
                banlist.c.workspace_id == ws.id,
                banlist.c.channel == channel,
                banlist.c.member_ext == member,
            )
        )
    ).first()
    if existing is None:
        conn.execute(
            banlist.insert().values(
                workspace_id=ws.id, channel=channel, member_ext=member, reason=reason, by=by, at=now
            )
        )
    else:
        conn.execute(
            update(banlist)
            .where(banlist.c.id == existing[0])
            .values(reason=reason, by=by, at=now, lifted_at=None)
        )


def do_lift_ban(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str, *, now: datetime
) -> None:
    if not lift_ban(conn, ws.id, channel, member, now):
        raise NotFound(say, "moderation.not_banned", member=member)


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    reports: int
    action: str  # recorded | notified | acted


def do_report_message(
    conn: Connection,
    ws: WorkspaceInfo,
    *,
    channel: str,
    group: str,
    message_id: str,
    author: str,
    reporter: str,
    text: str | None = None,
    now: datetime,
) -> ReportOutcome:
    """A member reports a message: staff are told at one threshold, the rule acts at a higher
    one. Each reporter counts once per message and may report only so often."""
    cfg = ws.config.moderation.reports
    lock_workspace(conn, ws.id)
    t = member_reports
    recent, oldest = conn.execute(
        select(func.count(), func.min(t.c.at)).where(
            and_(
                t.c.workspace_id == ws.id,
                t.c.channel == channel,
                t.c.reporter == reporter,
                t.c.at >= now - timedelta(hours=1),
            )
        )
    ).one()
    if recent >= cfg.per_hour:
        # The oldest report of the hour leaves the window first.
        wait = math.ceil((oldest + timedelta(hours=1) - now).total_seconds())
        raise TooMany(
            say, "moderation.reports_too_many", retry_after=wait, reporter=reporter, recent=recent
        )
    same = dict(workspace_id=ws.id, channel=channel, group_ext=group, message_id=message_id)
    already = conn.execute(
        select(t.c.id).where(
            and_(*(t.c[k] == v for k, v in same.items()), t.c.reporter == reporter)
        )
    ).first()
    if already is None:
        conn.execute(t.insert().values(**same, author=author, reporter=reporter, at=now))
    count = int(
        conn.execute(
            select(func.count()).where(and_(*(t.c[k] == v for k, v in same.items())))
        ).scalar_one()
    )
    run = Run(conn, ws)
    cause = f"report:{channel}:{group}:{message_id}"
    action = "recorded"
    if count >= cfg.act_at:
        action = "acted"
        reason = say("reported_act", ws.locale, count=count)
        for kind in (ActionKind.MESSAGE_DELETE, ActionKind.MEMBER_WARN):
            data: dict[str, Any] = {"message_id": message_id}
            if kind == ActionKind.MEMBER_WARN:
                data = {
                    "text": say("reported_warn", ws.locale, member=author),
                    "mentions": [author],
                }
            run.outbox.add(
                "moderation.reports",
                Decision(kind, reason, group=group, member=author, data=data),
                channel=channel,
                caused_by=None,
                cause_key=cause,
                at=now,
            )
    elif count >= cfg.notify_at:
        action = "notified"
        run.outbox.add(
            "moderation.reports",
            Decision(
                ActionKind.STAFF_TASK,
                say(
                    "reported",
                    ws.locale,
                    count=count,
                    member=author,
                    group=group,
                    text=(text or "")[:100],
                ),
                group=group,
                member=author,
                data={"message_id": message_id},
            ),
            channel=channel,
            caused_by=None,
            cause_key=cause,
            at=now,
        )
    run.flush()
    return ReportOutcome(count, action)


def export_words(ws: WorkspaceInfo, category: str) -> str:
    """A category's words, built-in and the workspace's own, as plain text."""
    if category not in CATEGORIES:
        raise NotFound(
            say, "moderation.no_category", category=category, categories=", ".join(CATEGORIES)
        )
    cfg = ws.config.moderation
    words: list[str] = []
    if cfg.builtin_words:
        for lst in builtin_lists():
            if lst.category == category:
                words.extend(lst.words)
    words.extend(cfg.words.get(category, []))
    return format_words(dict.fromkeys(words), header=[f"category: {category}"])


def do_import_words(conn: Connection, ws: WorkspaceInfo, category: str, text: str) -> int:
    """Add words (one per line, # comments) to a category of the workspace's lists."""
    if category not in CATEGORIES:
        raise NotFound(
            say, "moderation.no_category", category=category, categories=", ".join(CATEGORIES)
        )
    new = parse_words(text)
    if not new:
        raise Invalid(say, "moderation.no_words")
    document = stored_config(conn, ws.slug)
    section = dict(document.get("moderation") or {})
    words = dict(section.get("words") or {})
    merged = list(dict.fromkeys([*words.get(category, []), *new]))
    added = len(merged) - len(words.get(category, []))
    words[category] = merged
    section["words"] = words
    document["moderation"] = section
    do_apply_config(conn, ws.slug, document)
    return added
