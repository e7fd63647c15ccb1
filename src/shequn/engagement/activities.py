"""Group activities: lottery 抽奖, red-packet rain 红包雨, Q&A red packet 问答红包 (the first right
answers win) and show-your-order day 晒单日.

Each activity has a window, target groups and entry rules (a keyword, a minimum level or
balance). Entries and winners are logged; draws use a generator seeded from the activity id
and the sorted entrants, so the same entries always draw the same winners, whoever replays
them. Results are announced in the groups; prizes are liabilities for staff to pay out (Shequn
moves no money), so a staff task lists them.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field, model_validator
from sqlalchemy import Connection, and_, select

from shequn.actions import ActionKind, Decision
from shequn.community.config import Section, register_section
from shequn.engagement.points import PointsBook
from shequn.engagement.robot import (
    GroupRow,
    MarksBook,
    fingerprint,
    first_in_run,
    is_exempt,
    live_groups,
    nickname,
    section,
)
from shequn.engagement.robot_models import activity_entries, activity_winners
from shequn.engine.books import Book, register_book
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, WorkspaceInfo, job_handler, rule
from shequn.events import Event, MessagePostedData
from shequn.exports import iso, register_export, stream
from shequn.i18n import Texts
from shequn.platform.db import insert_ignore

START_JOB = "engagement.activity.start"
END_JOB = "engagement.activity.end"
ActivityType = Literal["lottery", "redpacket_rain", "qa", "show_order"]
DEFAULT_KEYWORD: dict[str, str] = {
    "lottery": "抽奖",
    "redpacket_rain": "抢红包",
    "show_order": "晒单",
    "qa": "",
}

_TEXTS: dict[str, dict[str, str]] = {
    "start.lottery": {
        "zh-CN": "🎁 抽奖「{title}」开始啦！发送「{keyword}」参与，{end} 开奖，共 {winners} 名，"
        "奖品：{prize}",
        "en": "🎁 Lottery “{title}” is on! Send “{keyword}” to enter. Draw at {end}, "
        "{winners} winner(s), prize: {prize}",
    },
    "start.redpacket_rain": {
        "zh-CN": "🧧 红包雨「{title}」来啦！发送「{keyword}」抢红包，共 {winners} 个，先到先得，"
        "{end} 结束",
        "en": "🧧 Red-packet rain “{title}”! Send “{keyword}” to grab one of {winners}, "
        "until {end}",
    },
    "start.qa": {
        "zh-CN": "❓ 问答红包「{title}」：{question} 前 {winners} 位答对者获得 {prize}，{end} 截止",
        "en": "❓ Q&A “{title}”: {question} The first {winners} right answers win {prize}; "
        "until {end}",
    },
    "start.show_order": {
        "zh-CN": "📸 晒单日「{title}」！发订单截图或带「{keyword}」的消息参与，"
        "{end} 抽取 {winners} 位幸运儿，奖品：{prize}",
        "en": "📸 Show-your-order day “{title}”! Post your order screenshot or “{keyword}”. "
        "{winners} lucky one(s) drawn at {end}, prize: {prize}",
    },
    "start.reason": {"zh-CN": "活动「{title}」开始", "en": "activity {title} starts"},
    "results": {
        "zh-CN": "🎉 「{title}」结果：{winners}。恭喜！共 {entrants} 人参与",
        "en": "🎉 “{title}” results: {winners}. Congratulations! {entrants} took part",
    },
    "results.none": {
        "zh-CN": "「{title}」已结束，共 {entrants} 人参与，本次无人中奖",
        "en": "“{title}” is over: {entrants} took part, no winners this time",
    },
    "results.reason": {"zh-CN": "活动「{title}」公布结果", "en": "activity {title}: results"},
    "payout": {
        "zh-CN": "请为活动「{title}」发放奖品：{lines}",
        "en": "Please pay out the prizes of {title}: {lines}",
    },
    "payout.reason": {"zh-CN": "活动「{title}」奖品待发放", "en": "activity {title}: prizes due"},
    "grabbed": {
        "zh-CN": "@{nickname} 抢到 {prize}！（第 {rank} 个）",
        "en": "@{nickname} grabbed {prize}! (#{rank})",
    },
    "grabbed.reason": {"zh-CN": "红包雨「{title}」抢到红包", "en": "red-packet rain {title}"},
    "right": {
        "zh-CN": "@{nickname} 回答正确！第 {rank} 位答对，获得 {prize}",
        "en": "@{nickname} right answer! #{rank}, you win {prize}",
    },
    "right.reason": {"zh-CN": "问答红包「{title}」答对", "en": "Q&A {title}: right answer"},
    "entered": {
        "zh-CN": "@{nickname} 已参与「{title}」，{end} 开奖",
        "en": "@{nickname} you are in “{title}”; draw at {end}",
    },
    "entered.reason": {"zh-CN": "参与活动「{title}」", "en": "entered {title}"},
    "ineligible": {
        "zh-CN": "@{nickname} 暂不满足「{title}」的参与条件：{why}",
        "en": "@{nickname} you cannot enter “{title}” yet: {why}",
    },
    "ineligible.reason": {"zh-CN": "活动「{title}」参与条件不满足", "en": "{title}: not eligible"},
    "why.level": {"zh-CN": "等级需达到「{level}」", "en": "level {level} needed"},
    "why.points": {"zh-CN": "积分需达到 {points}", "en": "{points} points needed"},
    "points.reason": {"zh-CN": "活动「{title}」奖励", "en": "activity {title} reward"},
    "prize.points": {"zh-CN": "{points} 积分", "en": "{points} points"},
    "prize.none": {"zh-CN": "神秘奖品", "en": "a surprise"},
}
_say = Texts(_TEXTS)


class Activity(Section):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    type: ActivityType
    title: str | None = Field(default=None, max_length=100)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    groups: list[str] = Field(default_factory=list, description="Only these groups (or all).")
    keyword: str | None = Field(
        default=None, max_length=50, description="Entry keyword; default per type."
    )
    min_level: str | None = Field(default=None, description="A level name from `levels`.")
    min_points: int = Field(default=0, ge=0, description="Balance needed to enter.")
    winners: int = Field(
        default=3, ge=1, le=1000, description="Winners drawn, packets in the rain, right answers."
    )
    prize: str | None = Field(default=None, max_length=200, description="What a winner gets.")
    amount_fen: int = Field(
        default=0, ge=0, description="Cash per winner; for a red-packet rain, the whole pool."
    )
    points: int = Field(default=0, ge=0, le=1_000_000, description="Points per winner.")
    entry_points: int = Field(default=0, ge=0, le=100_000, description="Points per entry.")
    question: str | None = Field(default=None, max_length=1000)
    answers: list[str] = Field(default_factory=list, description="Accepted answers (Q&A).")
    announce: bool = Field(default=True, description="Announce the start in the groups.")
    confirm: bool = Field(default=False, description="Reply to each entry (lottery, show).")

    @model_validator(mode="after")
    def _coherent(self) -> Activity:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.type == "qa" and not (self.question and self.answers):
            raise ValueError("a Q&A red packet needs question and answers")
        if self.type == "redpacket_rain" and self.amount_fen < self.winners:
            raise ValueError("a red-packet rain needs amount_fen ≥ winners (1 fen a packet)")
        return self

    @property
    def entry_keyword(self) -> str:
        return self.keyword or DEFAULT_KEYWORD[self.type]

    @property
    def name(self) -> str:
        return self.title or self.id

    def timing(self) -> str:
        return fingerprint(self.starts_at, self.ends_at)


class ActivitiesSection(Section):
    enabled: bool = True
    items: list[Activity] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ActivitiesSection:
        ids = [a.id for a in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError("activity ids must be unique")
        return self

    def get(self, activity_id: str) -> Activity | None:
        return next((a for a in self.items if a.id == activity_id), None)


register_section("activities", ActivitiesSection)


def _cfg(ctx: Context) -> ActivitiesSection:
    return section(ctx.config, "activities", ActivitiesSection)


# --- The book of entries and winners -----------------------------------------------------------


@dataclass(slots=True)
class Entry:
    channel: str
    group: str
    member: str
    at: datetime
    correct: bool | None


@dataclass(slots=True)
class Winner:
    rank: int
    channel: str
    group: str
    member: str
    amount_fen: int
    points: int


@register_book
class ActivityBook(Book):
    """Entries and winners of the activities a transaction touches, loaded per activity."""

    def __init__(self, conn: Connection, workspace_id: int) -> None:
        super().__init__(conn, workspace_id)
        self._entries: dict[str, dict[tuple[str, str], Entry]] = {}
        self._winners: dict[str, list[Winner]] = {}
        self._new_entries: list[dict[str, Any]] = []
        self._new_winners: list[dict[str, Any]] = []

    def _load(self, activity: str) -> None:
        if activity in self._entries:
            return
        e, w = activity_entries, activity_winners
        self._entries[activity] = {
            (r.channel, r.member_ext): Entry(r.channel, r.group_ext, r.member_ext, r.at, r.correct)
            for r in self.conn.execute(
                select(e.c.channel, e.c.group_ext, e.c.member_ext, e.c.at, e.c.correct)
                .where(and_(e.c.workspace_id == self.workspace_id, e.c.activity == activity))
                .order_by(e.c.at, e.c.id)
            )
        }
        self._winners[activity] = [
            Winner(r.rank, r.channel, r.group_ext, r.member_ext, r.amount_fen, r.points)
            for r in self.conn.execute(
                select(
                    w.c.rank, w.c.channel, w.c.group_ext, w.c.member_ext, w.c.amount_fen, w.c.points
                )
                .where(and_(w.c.workspace_id == self.workspace_id, w.c.activity == activity))
                .order_by(w.c.rank)
            )
        ]

    def entries(self, activity: str) -> dict[tuple[str, str], Entry]:
        self._load(activity)
        return self._entries[activity]

    def winners(self, activity: str) -> list[Winner]:
        self._load(activity)
        return self._winners[activity]

    def enter(self, activity: str, ev: Event, text: str | None, correct: bool | None) -> Entry:
        assert ev.group is not None and ev.member is not None
        entry = Entry(ev.channel, ev.group, ev.member, ev.at, correct)
        self.entries(activity)[(ev.channel, ev.member)] = entry
        self._new_entries.append(
            {
                "workspace_id": self.workspace_id,
                "activity": activity,
                "channel": ev.channel,
                "group_ext": ev.group,
                "member_ext": ev.member,
                "at": ev.at,
                "text": (text or "")[:2000] or None,
                "correct": correct,
                "caused_by": ev.id,
            }
        )
        return entry

    def win(
        self, activity: str, winner: Winner, prize: str, seed: str, entrants: int, at: datetime
    ) -> None:
        self.winners(activity).append(winner)
        self._new_winners.append(
            {
                "workspace_id": self.workspace_id,
                "activity": activity,
                "rank": winner.rank,
                "channel": winner.channel,
                "group_ext": winner.group,
                "member_ext": winner.member,
                "prize": prize[:200],
                "amount_fen": winner.amount_fen,
                "points": winner.points,
                "seed": seed,
                "entrants": entrants,
                "at": at,
            }
        )

    def flush(self) -> None:
        insert_ignore(self.conn, activity_entries, self._new_entries)
        insert_ignore(self.conn, activity_winners, self._new_winners)
        self._new_entries, self._new_winners = [], []


# --- Draws -------------------------------------------------------------------------------------


def draw_seed(activity: str, entrants: Sequence[tuple[str, str]]) -> str:
    """The seed of a draw: the activity and its entrants in a canonical order."""
    text = activity + "|" + "|".join(f"{c}:{m}" for c, m in sorted(entrants))
    return hashlib.sha256(text.encode()).hexdigest()


def draw(activity: str, entrants: Sequence[tuple[str, str]], k: int) -> tuple[str, list[int]]:
    """Indexes into the sorted entrants of `k` winners, in the order drawn, and the seed."""
    seed = draw_seed(activity, entrants)
    rng = random.Random(int(seed, 16))
    return seed, rng.sample(range(len(entrants)), min(k, len(entrants)))


def split_packets(activity: str, pool_fen: int, count: int) -> tuple[str, list[int]]:
    """Random packet amounts summing to the pool, at least 1 fen each, fixed by the id.

    Each packet takes up to twice the mean of what is left (the common "double mean" rule), so
    early and late grabbers have the same expectation.
    """
    seed = hashlib.sha256(f"{activity}|packets|{pool_fen}|{count}".encode()).hexdigest()
    rng = random.Random(int(seed, 16))
    left, amounts = pool_fen, []
    for i in range(count - 1):
        rest = count - i
        top = max(1, min(2 * left // rest, left - (rest - 1)))
        amount = rng.randint(1, top)
        amounts.append(amount)
        left -= amount
    amounts.append(left)
    return seed, amounts


def yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def _normal(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\W_]+", "", folded)


# --- Entering -----------------------------------------------------------------------------------


def _prize(act: Activity, locale: str, amount_fen: int | None = None) -> str:
    parts = []
    amount = act.amount_fen if amount_fen is None else amount_fen
    if amount:
        parts.append(yuan(amount))
    if act.prize:
        parts.append(act.prize)
    if act.points:
        parts.append(_say("prize.points", locale, points=act.points))
    return " + ".join(parts) or _say("prize.none", locale)


def _end_text(act: Activity, ctx: Context) -> str:
    return act.ends_at.astimezone(ctx.workspace.tz).strftime("%m-%d %H:%M")


def _qualifies(act: Activity, data: MessagePostedData) -> tuple[bool, bool | None]:
    """Whether a message is an entry, and for Q&A whether its answer is right."""
    text = (data.text or "").strip()
    if act.type == "qa":
        right = _normal(text) in {_normal(a) for a in act.answers}
        return right, right if right else None
    if act.type == "show_order":
        return data.kind == "image" or act.entry_keyword in text, None
    return text.startswith(act.entry_keyword), None


def _ineligible(act: Activity, ctx: Context, channel: str, member: str) -> str | None:
    if act.min_level is None and not act.min_points:
        return None
    book = ctx.book(PointsBook)
    book.standings.load(book.conn, book.workspace_id, [(channel, member)])
    standing = book.standings.get((channel, member))
    balance = standing.balance if standing is not None else 0
    locale = ctx.workspace.locale
    if act.min_points and balance < act.min_points:
        return _say("why.points", locale, points=act.min_points)
    if act.min_level is not None:
        levels = [lv.name for lv in ctx.config.levels.thresholds]
        have = standing.level if standing is not None and standing.level else levels[0]
        if act.min_level in levels and (
            have not in levels or levels.index(have) < levels.index(act.min_level)
        ):
            return _say("why.level", locale, level=act.min_level)
    return None


def _reply(
    ctx: Context, ev: Event, key: str, text_key: str, reason_key: str, act: Activity, **values: Any
) -> Decision:
    assert ev.group is not None and ev.member is not None
    locale = ctx.workspace.locale
    name = nickname(ctx, ev.channel, ev.group, ev.member)
    data: dict[str, Any] = {
        "text": _say(text_key, locale, nickname=name, title=act.name, **values),
        "mentions": [ev.member],
        "activity": act.id,
    }
    if isinstance(ev.data, MessagePostedData):
        data["reply_to"] = ev.data.message_id
    return Decision(
        ActionKind.MESSAGE_SEND,
        _say(reason_key, locale, title=act.name),
        group=ev.group,
        member=ev.member,
        data=data,
        key=key,
    )


def _award_points(
    ctx: Context,
    act: Activity,
    channel: str,
    member: str,
    group: str,
    points: int,
    key: str,
    at: datetime,
    caused_by: str | None,
) -> None:
    if points <= 0:
        return
    levels = ctx.config.levels
    book = ctx.book(PointsBook)
    standing = book.standing(channel, member, levels.level_for(0))
    book.post(
        standing,
        delta=points,
        kind="activity",
        key=key,
        reason=_say("points.reason", ctx.workspace.locale, title=act.name),
        rule="engagement.activities",
        at=at,
        level_for=levels.level_for,
        caused_by=caused_by,
        group=group,
    )


def _enter(act: Activity, ev: Event, data: MessagePostedData, ctx: Context) -> list[Decision]:
    assert ev.group is not None and ev.member is not None
    enters, correct = _qualifies(act, data)
    if not enters:
        return []
    group = ctx.state.group(ev.channel, ev.group)
    if is_exempt(ctx, ev.member, group.owner if group is not None else None):
        return []  # the house does not play its own game
    book = ctx.book(ActivityBook)
    if (ev.channel, ev.member) in book.entries(act.id):
        return []  # one entry per member
    why = _ineligible(act, ctx, ev.channel, ev.member)
    if why is not None:
        key = f"activity:{act.id}:ineligible:{ev.channel}:{ev.member}"
        return [_reply(ctx, ev, key, "ineligible", "ineligible.reason", act, why=why)]
    book.enter(act.id, ev, data.text, correct)
    rank = len(book.winners(act.id)) + 1
    locale = ctx.workspace.locale
    if act.type == "show_order":
        _award_points(
            ctx,
            act,
            ev.channel,
            ev.member,
            ev.group,
            act.entry_points,
            f"activity:{act.id}:entry:{ev.channel}:{ev.member}",
            ev.at,
            ev.id,
        )
    if act.type in ("redpacket_rain", "qa"):
        if rank > act.winners:
            return []  # all packets gone: entered, not won
        if act.type == "redpacket_rain":
            seed, amounts = split_packets(act.id, act.amount_fen, act.winners)
            amount = amounts[rank - 1]
        else:
            seed, amount = "arrival", act.amount_fen  # the first right answers win
        prize = _prize(act, locale, amount)
        book.win(
            act.id,
            Winner(rank, ev.channel, ev.group, ev.member, amount, act.points),
            prize,
            seed,
            len(book.entries(act.id)),
            ev.at,
        )
        _award_points(
            ctx,
            act,
            ev.channel,
            ev.member,
            ev.group,
            act.points,
            f"activity:{act.id}:win:{ev.channel}:{ev.member}",
            ev.at,
            ev.id,
        )
        text_key = "grabbed" if act.type == "redpacket_rain" else "right"
        key = f"activity:{act.id}:win:{rank}"
        return [_reply(ctx, ev, key, text_key, f"{text_key}.reason", act, prize=prize, rank=rank)]
    if act.confirm:
        key = f"activity:{act.id}:entered:{ev.channel}:{ev.member}"
        return [_reply(ctx, ev, key, "entered", "entered.reason", act, end=_end_text(act, ctx))]
    return []


def _arm(ctx: Context, cfg: ActivitiesSection) -> None:
    """Schedule each activity's start and end once (per timing), while it is still ahead."""
    marks = ctx.book(MarksBook)
    for act in cfg.items:
        key = f"activity:armed:{act.id}:{act.timing()}"
        if ctx.now >= act.ends_at or marks.done(key):
            continue
        marks.mark(key, ctx.now)
        payload = {"id": act.id, "timing": act.timing()}
        if act.announce:
            start = max(act.starts_at, ctx.now)
            ctx.schedule(START_JOB, f"activity:start:{act.id}:{act.timing()}", start, payload)
        ctx.schedule(END_JOB, f"activity:end:{act.id}:{act.timing()}", act.ends_at, payload)


@rule("engagement", "activities", on=["message.posted", "member.joined", "group.created"])
def take_part(event: Event, ctx: Context) -> Iterable[Decision]:
    """Arm the configured activities; count a message as an entry to those under way."""
    cfg = _cfg(ctx)
    if not cfg.enabled or not cfg.items:
        return ()
    if first_in_run(ctx, "activities:arm"):
        _arm(ctx, cfg)
    if not isinstance(event.data, MessagePostedData):
        return ()
    decisions: list[Decision] = []
    for act in cfg.items:
        if act.starts_at <= event.at < act.ends_at and (
            not act.groups or event.group in act.groups
        ):
            decisions += _enter(act, event, event.data, ctx)
    return decisions


# --- Start and end -----------------------------------------------------------------------------


def _current(ctx: Context, job: Job) -> Activity | None:
    cfg = _cfg(ctx)
    act = cfg.get(job.payload["id"])
    if not cfg.enabled or act is None or act.timing() != job.payload["timing"]:
        return None  # removed or re-timed since: the new timing has its own jobs
    return act


def _targets(ctx: Context, act: Activity) -> list[GroupRow]:
    return [g for g in live_groups(ctx) if not act.groups or g.group in act.groups]


@job_handler("engagement", "activities", kind=START_JOB)
def announce_start(job: Job, ctx: Context) -> Iterable[Decision]:
    act = _current(ctx, job)
    if act is None:
        return ()
    locale = ctx.workspace.locale
    text = _say(
        f"start.{act.type}",
        locale,
        title=act.name,
        keyword=act.entry_keyword,
        end=_end_text(act, ctx),
        winners=act.winners,
        prize=_prize(act, locale),
        question=act.question or "",
    )
    return [
        Decision(
            ActionKind.MESSAGE_SEND,
            _say("start.reason", locale, title=act.name),
            group=g.group,
            data={"text": text, "activity": act.id},
            key=f"activity:{act.id}:start:{g.channel}:{g.group}",
            channel=g.channel,
        )
        for g in _targets(ctx, act)
    ]


@job_handler("engagement", "activities", kind=END_JOB)
def close_activity(job: Job, ctx: Context) -> Iterable[Decision]:
    """Draw (lottery, show-your-order day), announce the results, ask staff to pay out."""
    act = _current(ctx, job)
    if act is None:
        return ()
    book = ctx.book(ActivityBook)
    entries = book.entries(act.id)
    locale = ctx.workspace.locale
    if act.type in ("lottery", "show_order") and not book.winners(act.id):
        entrants = sorted(entries)
        seed, picked = draw(act.id, entrants, act.winners)
        prize = _prize(act, locale)
        for rank, index in enumerate(picked, start=1):
            e = entries[entrants[index]]
            book.win(
                act.id,
                Winner(rank, e.channel, e.group, e.member, act.amount_fen, act.points),
                prize,
                seed,
                len(entrants),
                job.due_at,
            )
            _award_points(
                ctx,
                act,
                e.channel,
                e.member,
                e.group,
                act.points,
                f"activity:{act.id}:win:{e.channel}:{e.member}",
                job.due_at,
                None,
            )
    winners = book.winners(act.id)
    names = [
        f"@{nickname(ctx, w.channel, w.group, w.member)}"
        + (f"（{yuan(w.amount_fen)}）" if act.type == "redpacket_rain" else "")
        for w in winners
    ]
    if winners:
        text = _say(
            "results",
            locale,
            title=act.name,
            winners="、".join(names),
            entrants=len(entries),
        )
    else:
        text = _say("results.none", locale, title=act.name, entrants=len(entries))
    targets = _targets(ctx, act)
    decisions = [
        Decision(
            ActionKind.MESSAGE_SEND,
            _say("results.reason", locale, title=act.name),
            group=g.group,
            data={
                "text": text,
                "activity": act.id,
                "mentions": [w.member for w in winners if w.channel == g.channel],
            },
            key=f"activity:{act.id}:results:{g.channel}:{g.group}",
            channel=g.channel,
        )
        for g in targets
    ]
    if winners and (act.amount_fen or act.prize):
        lines = "；".join(
            f"{w.rank}. {nickname(ctx, w.channel, w.group, w.member)}（{w.member}，群 {w.group}）"
            f"{_prize(act, locale, w.amount_fen if act.type == 'redpacket_rain' else None)}"
            for w in winners
        )
        first = winners[0]
        decisions.append(
            Decision(
                ActionKind.STAFF_TASK,
                _say("payout", locale, title=act.name, lines=lines),
                group=first.group,
                data={"activity": act.id, "winners": len(winners)},
                key=f"activity:{act.id}:payout",
                channel=first.channel,
            )
        )
    return decisions


# --- Exports -----------------------------------------------------------------------------------


@register_export(
    "activity_entries",
    ("activity", "channel", "group", "member", "at", "text", "correct", "caused_by"),
)
def _entries(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = activity_entries
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.activity, t.c.at, t.c.id)
    for r in stream(conn, stmt):
        yield {
            "activity": r["activity"],
            "channel": r["channel"],
            "group": r["group_ext"],
            "member": r["member_ext"],
            "at": iso(r["at"]),
            "text": r["text"],
            "correct": r["correct"],
            "caused_by": r["caused_by"],
        }


@register_export(
    "activity_winners",
    (
        "activity",
        "rank",
        "channel",
        "group",
        "member",
        "prize",
        "amount_fen",
        "points",
        "seed",
        "entrants",
        "at",
    ),
)
def _winners(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = activity_winners
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.activity, t.c.rank)
    for r in stream(conn, stmt):
        yield {
            "activity": r["activity"],
            "rank": r["rank"],
            "channel": r["channel"],
            "group": r["group_ext"],
            "member": r["member_ext"],
            "prize": r["prize"],
            "amount_fen": r["amount_fen"],
            "points": r["points"],
            "seed": r["seed"],
            "entrants": r["entrants"],
            "at": iso(r["at"]),
        }
