"""The moderation book: what moderation rules need at hand during one engine transaction —
the compiled scanner, behavioural windows replayed from the log, offences and the ban list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, select, update

from shequn.community.workspace import WorkspaceInfo
from shequn.config.moderation import CATEGORIES, Category, ModerationSection
from shequn.engine.books import Book, register_book
from shequn.engine.models import events as events_table
from shequn.events import Event
from shequn.moderation.behaviour import DuplicateDetector, FloodDetector, SpamSamples
from shequn.moderation.classifier import TextModel, workspace_model
from shequn.moderation.detectors import ScanConfig
from shequn.moderation.models import banlist, spam_samples, violations
from shequn.moderation.normalize import Normalized
from shequn.moderation.wordlist import WordList, WordMatcher, builtin_lists
from shequn.platform.db import chunks, insert_ignore

JOIN_WINDOW = timedelta(minutes=10)


_SCANNERS: dict[bytes, ScanConfig] = {}
_LAST: dict[int, tuple[Any, ScanConfig]] = {}


def scan_config(section: ModerationSection) -> ScanConfig:
    """The scanner of a moderation section, compiled once per distinct section."""
    last = _LAST.get(id(section))
    if last is not None and last[0] is section:
        return last[1]  # the same loaded configuration as the previous message
    # Keyed by content, not by workspace id: ids repeat across databases in one process.
    key = orjson.dumps(section.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    if key not in _SCANNERS:
        if len(_SCANNERS) > 64:
            _SCANNERS.clear()
        _SCANNERS[key] = _compile(section)
    if len(_LAST) > 256:
        _LAST.clear()
    _LAST[id(section)] = (section, _SCANNERS[key])
    return _SCANNERS[key]


_CATEGORY: dict[str, Category] = {c: c for c in CATEGORIES}
"""A configured category name as the vocabulary's own (the section keeps plain strings so
its error names every unknown category at once)."""


def _compile(cfg: ModerationSection) -> ScanConfig:
    lists = list(builtin_lists()) if cfg.builtin_words else []
    # Workspace words extend the built-in list of their category, not its context list.
    by_category = {lst.category: i for i, lst in enumerate(lists) if lst.severity != "low"}
    for category, words in sorted(cfg.words.items()):
        if category in by_category:
            i = by_category[category]
            lists[i] = lists[i].extended(words)
        else:
            known = _CATEGORY[category]  # validated against CATEGORIES when applied
            lists.append(WordList(f"workspace-{category}", known, tuple(words)))
    return ScanConfig(
        words=WordMatcher(lists) if lists else None,
        allowed_domains=frozenset(cfg.allowed_domains),
        mention_threshold=cfg.mention_threshold,
    )


def lift_ban(conn: Connection, workspace_id: int, channel: str, member: str, at: datetime) -> int:
    """Take a member off the ban list at `at`; the number of bans lifted (0 or 1)."""
    t = banlist
    lifted = conn.execute(
        update(t)
        .where(
            and_(
                t.c.workspace_id == workspace_id,
                t.c.channel == channel,
                t.c.member_ext == member,
                t.c.lifted_at.is_(None),
            )
        )
        .values(lifted_at=at)
    )
    return int(lifted.rowcount)


def insert_sample(
    conn: Connection,
    workspace_id: int,
    text: str,
    label: str,
    *,
    source: str | None,
    by: str | None,
    at: datetime,
) -> int:
    """Store a spam (or clean) sample; answers its id."""
    result = conn.execute(
        spam_samples.insert().values(
            workspace_id=workspace_id,
            label=label,
            text=text[:2000],
            source=source,
            by=by,
            at=at,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


@register_book
class ModerationBook(Book):
    def __init__(self, conn: Connection, workspace_id: int) -> None:
        super().__init__(conn, workspace_id)
        self.flood: FloodDetector | None = None
        self.duplicates: DuplicateDetector | None = None
        self.samples: SpamSamples | None = None
        self._classifier: TextModel | None = None
        self._samples_read: list[Any] | None = None
        self._offences: dict[tuple[str, str], int] = {}
        self._banned: dict[tuple[str, str], bool] = {}
        self._joins: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
        self._first_at: datetime | None = None
        self.violation_rows: list[dict[str, Any]] = []
        self.judged: set[str] = set()  # events already found in violation
        self.ban_rows: list[dict[str, Any]] = []

    def preload(self, events: Sequence[Event]) -> None:
        times = [ev.at for ev in events if ev.type in ("message.posted", "member.joined")]
        self._first_at = min(times) if times else None
        joining = {(ev.channel, ev.member) for ev in events if ev.type == "member.joined"}
        self._load_bans(joining)  # type: ignore[arg-type]

    def _load_bans(self, keys: set[tuple[str, str]]) -> None:
        """Whether each of these members is banned, in a few queries for the whole batch."""
        wanted = sorted(k for k in keys if k not in self._banned)
        if not wanted:
            return
        t = banlist
        for key in wanted:
            self._banned[key] = False
        by_channel: dict[str, list[str]] = {}
        for channel, member in wanted:
            by_channel.setdefault(channel, []).append(member)
        for channel, members in by_channel.items():
            for part in chunks(members, 500):
                rows = self.conn.execute(
                    select(t.c.member_ext).where(
                        and_(
                            t.c.workspace_id == self.workspace_id,
                            t.c.channel == channel,
                            t.c.member_ext.in_(part),
                            t.c.lifted_at.is_(None),
                        )
                    )
                )
                for (member,) in rows:
                    self._banned[(channel, member)] = True

    def ready(self, ws: WorkspaceInfo) -> None:
        """Build the behavioural detectors and replay the log's recent window into them.

        Replaying the window before the batch makes decisions independent of where batches
        begin and end, and of which process runs them.
        """
        if self.flood is not None:
            return
        cfg = ws.config.moderation
        self.flood = FloodDetector(cfg.flood.max_messages, cfg.flood.window_seconds)
        self.duplicates = DuplicateDetector(
            min_groups=cfg.duplicates.groups, window_seconds=cfg.duplicates.window_minutes * 60
        )
        self.samples = self._load_samples(cfg.similarity_threshold)
        if self._first_at is None:
            return
        window = max(
            timedelta(seconds=cfg.flood.window_seconds),
            timedelta(minutes=cfg.duplicates.window_minutes),
            JOIN_WINDOW,
        )
        t = events_table
        rows = self.conn.execute(
            select(t.c.type, t.c.channel, t.c.group_ext, t.c.member_ext, t.c.at, t.c.data)
            .where(t.c.workspace_id == self.workspace_id)
            .where(t.c.type.in_(("message.posted", "member.joined")))
            .where(t.c.at >= self._first_at - window)
            .where(t.c.at <= self._first_at)
            # What the log held before this batch, whatever the batch size was.
            .where(t.c.seq <= self.log_before)
            .order_by(t.c.at, t.c.seq)
        )
        for etype, channel, group, member, at, data in rows:
            if etype == "member.joined":
                self.note_join(channel, member, group, at)
            else:
                self.observe(group, member, (data or {}).get("text"), at)

    def _sample_rows(self) -> list[Any]:
        if self._samples_read is None:
            t = spam_samples
            self._samples_read = list(
                self.conn.execute(
                    select(t.c.id, t.c.label, t.c.text)
                    .where(t.c.workspace_id == self.workspace_id)
                    .order_by(t.c.id)
                ).all()
            )
        return self._samples_read

    def _load_samples(self, threshold: float) -> SpamSamples | None:
        rows = self._sample_rows()
        if not rows:
            return None
        samples = SpamSamples(threshold)
        for sample_id, label, text in rows:
            samples.add(text, label=label, sample_id=str(sample_id))
        return samples

    def classifier(self, ws: WorkspaceInfo) -> TextModel | None:
        """The starter model retrained with the workspace's samples (cached by version),
        loaded when a message is first scored: joins and other events never wait for it."""
        if not ws.config.moderation.classifier:
            return None
        if self._classifier is None:
            own = [(label == "spam", text) for _, label, text in self._sample_rows()]
            self._classifier = workspace_model(own)
        return self._classifier

    def observe(
        self, group: str, member: str, text: Normalized | str | None, at: datetime
    ) -> list[Any]:
        """Feed one message to the behavioural detectors; returns their findings."""
        assert self.flood is not None and self.duplicates is not None
        ts = at.timestamp()
        flood = self.flood.observe(group, member, ts)
        duplicate = self.duplicates.observe(group, member, text, ts) if text else None
        if flood is None and duplicate is None:
            return []  # the common case, without building a list to filter
        return [f for f in (flood, duplicate) if f is not None]

    def note_join(self, channel: str, member: str, group: str, at: datetime) -> int:
        """Remember a join; returns the groups joined within the join window."""
        joins = self._joins.setdefault((channel, member), [])
        joins.append((at, group))
        recent = {g for t, g in joins if at - t <= JOIN_WINDOW}
        return len(recent)

    def offences(self, channel: str, member: str, since: datetime) -> int:
        """Enforced, unreverted violations of a member since a time (this batch included)."""
        key = (channel, member)
        if key not in self._offences:
            t = violations
            self._offences[key] = int(
                self.conn.execute(
                    select(func.count()).where(
                        and_(
                            t.c.workspace_id == self.workspace_id,
                            t.c.channel == channel,
                            t.c.member_ext == member,
                            t.c.mode == "enforce",
                            t.c.reverted_at.is_(None),
                            t.c.at >= since,
                        )
                    )
                ).scalar_one()
            )
        return self._offences[key]

    def banned(self, channel: str, member: str) -> bool:
        if (channel, member) not in self._banned:
            self._load_bans({(channel, member)})
        return self._banned[(channel, member)]

    def record(self, row: dict[str, Any]) -> None:
        self.violation_rows.append(row)
        self.judged.add(row["caused_by"])
        if row["mode"] == "enforce":
            key = (row["channel"], row["member_ext"])
            self._offences[key] = self._offences.get(key, 0) + 1

    def ban(self, channel: str, member: str, reason: str, at: datetime, by: str) -> None:
        self._banned[(channel, member)] = True
        self.ban_rows.append(
            {
                "workspace_id": self.workspace_id,
                "channel": channel,
                "member_ext": member,
                "reason": reason,
                "by": by,
                "at": at,
                "lifted_at": None,
            }
        )

    def violation(self, violation_id: str) -> dict[str, Any] | None:
        """A violation by its id, this transaction's included."""
        self.flush()  # what this transaction recorded so far is written first
        t = violations
        row = (
            self.conn.execute(
                select(t).where(and_(t.c.workspace_id == self.workspace_id, t.c.id == violation_id))
            )
            .mappings()
            .first()
        )
        return dict(row) if row is not None else None

    def revert(self, row: dict[str, Any], at: datetime, by: str) -> None:
        """Mark a violation (read with `violation`) reverted: it no longer counts as an
        offence, so the member's count is read again from the log when next asked."""
        t = violations
        self.conn.execute(
            update(t)
            .where(and_(t.c.workspace_id == self.workspace_id, t.c.id == row["id"]))
            .values(reverted_at=at, reverted_by=by)
        )
        self._offences.pop((row["channel"], row["member_ext"]), None)

    def lift_ban(self, channel: str, member: str, at: datetime) -> None:
        """Take a member off the ban list, if they are on it."""
        self.flush()  # a ban of this transaction is written first
        lift_ban(self.conn, self.workspace_id, channel, member, at)
        self._banned[(channel, member)] = False

    def add_sample(
        self, ws: WorkspaceInfo, text: str, label: str, source: str, by: str, at: datetime
    ) -> None:
        """Learn a sample; the similarity detector, if already built, knows it at once."""
        insert_sample(self.conn, self.workspace_id, text, label, source=source, by=by, at=at)
        self._samples_read = None
        if self.flood is not None:
            cfg = ws.config.moderation
            self.samples = self._load_samples(cfg.similarity_threshold)
        self._classifier = None  # retrained with the new sample when next needed

    def flush(self) -> None:
        insert_ignore(self.conn, violations, self.violation_rows)
        insert_ignore(self.conn, banlist, self.ban_rows)
        self.violation_rows, self.ban_rows = [], []
