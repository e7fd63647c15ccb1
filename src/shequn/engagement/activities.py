"""Group activities: lottery 抽奖, red-packet rain 红包雨, Q&A red packet 问答红包 (the first right
answers win), show-your-order day 晒单日 and price hunt 比省钱 (the lowest prices paid win).

Each activity has a window, target groups and entry rules (a keyword, a minimum level or
balance, a CRM segment). Entries and winners are logged; draws use a generator seeded from the
activity id and the sorted entrants, so the same entries always draw the same winners, whoever
replays them; a price hunt ranks by price, earlier post first on a tie. Results are announced
in the groups, @mentioning the winners, once per group; prizes are liabilities for staff to pay
out (Shequn moves no money), so a staff task lists them.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select, update

from shequn.actions import ActionKind, Decision
from shequn.community.workspace import WorkspaceInfo
from shequn.config import WorkspaceConfig
from shequn.config.engagement import ActivitiesSection, Activity
from shequn.engagement.points import PointsBook
from shequn.engagement.prices import parse_price
from shequn.engagement.robot import (
    GroupRow,
    MarksBook,
    is_exempt,
    live_groups,
    members_of,
    nickname,
)
from shequn.engagement.robot_models import activity_entries, activity_winners
from shequn.engagement.segments import in_segment
from shequn.engine.books import Book, register_book
from shequn.engine.jobs import Job
from shequn.engine.rules import Context, job_handler, rule
from shequn.events import Event, MessagePostedData
from shequn.exports import iso, register_export, stream
from shequn.i18n import Texts
from shequn.platform.db import insert_ignore

START_JOB = "engagement.activity.start"
END_JOB = "engagement.activity.end"
LOWEST_PRICE = "lowest-price"  # the "seed" of a price hunt: no chance, the lowest prices win
ENTRY_TEXT_MAX = 2000  # what is kept of an entry's message, and read back for its price

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
    "start.price_hunt": {
        "zh-CN": "🏷️ 比省钱「{title}」开始啦！晒出你买「{product}」的到手价（如「到手价 39.9元」）"
        "{proof}，{end} 截止，价格最低的 {winners} 位获得：{prize}",
        "en": "🏷️ Price hunt “{title}”: post what you paid for {product} (e.g. “到手价 39.9元”)"
        "{proof}. Until {end}; the {winners} lowest price(s) win {prize}",
    },
    "proof": {"zh-CN": "并附订单截图", "en": " with an order screenshot"},
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
    "list.separator": {"zh-CN": "、", "en": ", "},
    "payout.separator": {"zh-CN": "；", "en": "; "},
    "payout.line": {
        "zh-CN": "{rank}. {nickname}（{member}，群 {group}）{prize}",
        "en": "{rank}. {nickname} ({member}, group {group}) {prize}",
    },
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
    "priced": {
        "zh-CN": "@{nickname} 已记录你的到手价 {price}{proof}，{end} 公布结果",
        "en": "@{nickname} your price {price} is in{proof}; results at {end}",
    },
    "priced.proof": {
        "zh-CN": "（还差一张订单截图才算数）",
        "en": " (it counts once you post an order screenshot)",
    },
    "ineligible": {
        "zh-CN": "@{nickname} 暂不满足「{title}」的参与条件：{why}",
        "en": "@{nickname} you cannot enter “{title}” yet: {why}",
    },
    "ineligible.reason": {"zh-CN": "活动「{title}」参与条件不满足", "en": "{title}: not eligible"},
    "why.level": {"zh-CN": "等级需达到「{level}」", "en": "level {level} needed"},
    "why.points": {"zh-CN": "积分需达到 {points}", "en": "{points} points needed"},
    "why.segment": {
        "zh-CN": "本活动仅限指定会员参与",
        "en": "this activity is for selected members",
    },
    "points.reason": {"zh-CN": "活动「{title}」奖励", "en": "activity {title} reward"},
    "prize.points": {"zh-CN": "{points} 积分", "en": "{points} points"},
    "prize.none": {"zh-CN": "神秘奖品", "en": "a surprise"},
}
_say = Texts(_TEXTS)


def _cfg(ctx: Context) -> ActivitiesSection:
    return ctx.config.activities


def _price_of(act: Activity, text: str | None) -> int | None:
    """The believable price a price-hunt message states, or None."""
    price = parse_price((text or "")[:ENTRY_TEXT_MAX])
    if price is None or act.max_price_fen is None:
        return None
    return price if act.min_price_fen <= price <= act.max_price_fen else None


# --- The book of entries and winners -----------------------------------------------------------


@dataclass(slots=True)
class Entry:
    channel: str
    group: str
    member: str
    at: datetime
    correct: bool | None  # Q&A: a right answer; price hunt: proof (a screenshot) was posted
    text: str | None = None


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
        # Keyed by (activity, channel, member): a price hunt may better an entry of this batch.
        self._new_entries: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._changed_entries: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._new_winners: list[dict[str, Any]] = []

    def _load(self, activity: str) -> None:
        if activity in self._entries:
            return
        e, w = activity_entries, activity_winners
        self._entries[activity] = {
            (r.channel, r.member_ext): Entry(
                r.channel, r.group_ext, r.member_ext, r.at, r.correct, r.text
            )
            for r in self.conn.execute(
                select(e.c.channel, e.c.group_ext, e.c.member_ext, e.c.at, e.c.correct, e.c.text)
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
        kept = (text or "")[:ENTRY_TEXT_MAX] or None
        entry = Entry(ev.channel, ev.group, ev.member, ev.at, correct, kept)
        self.entries(activity)[(ev.channel, ev.member)] = entry
        self._new_entries[(activity, ev.channel, ev.member)] = {
            "workspace_id": self.workspace_id,
            "activity": activity,
            "channel": ev.channel,
            "group_ext": ev.group,
            "member_ext": ev.member,
            "at": ev.at,
            "text": kept,
            "correct": correct,
            "caused_by": ev.id,
        }
        return entry

    def better(self, activity: str, entry: Entry, ev: Event | None, proof: bool) -> None:
        """A price hunt's entry takes a lower price (the post `ev`) or its proof."""
        changes: dict[str, Any] = {}
        if ev is not None and isinstance(ev.data, MessagePostedData):
            assert ev.group is not None
            entry.group, entry.at = ev.group, ev.at
            entry.text = (ev.data.text or "")[:ENTRY_TEXT_MAX] or None
            changes.update(group_ext=ev.group, at=ev.at, text=entry.text, caused_by=ev.id)
        if proof:
            entry.correct = True
            changes["correct"] = True
        key = (activity, entry.channel, entry.member)
        pending = self._new_entries.get(key)
        if pending is not None:
            pending.update(changes)
        else:
            self._changed_entries.setdefault(key, {}).update(changes)

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
        e = activity_entries
        insert_ignore(self.conn, e, list(self._new_entries.values()))
        for (activity, channel, member), changes in self._changed_entries.items():
            self.conn.execute(
                update(e)
                .where(e.c.workspace_id == self.workspace_id, e.c.activity == activity)
                .where(e.c.channel == channel, e.c.member_ext == member)
                .values(**changes)
            )
        insert_ignore(self.conn, activity_winners, self._new_winners)
        self._new_entries, self._changed_entries, self._new_winners = {}, {}, []


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
    locale = ctx.workspace.locale
    # Evaluated at the entry's time; a segment deleted since the apply admits no one.
    if act.segment is not None and not in_segment(ctx, act.segment, channel, member):
        return _say("why.segment", locale)
    if act.min_level is None and not act.min_points:
        return None
    book = ctx.book(PointsBook)
    book.standings.load(book.conn, book.workspace_id, [(channel, member)])
    standing = book.standings.get((channel, member))
    balance = standing.balance if standing is not None else 0
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


def _crown(
    ctx: Context,
    act: Activity,
    winner: Winner,
    prize: str,
    seed: str,
    entrants: int,
    at: datetime,
    caused_by: str | None = None,
) -> None:
    """Record a winner and award their points; the points' key is the win's, so a replay
    awards them once."""
    ctx.book(ActivityBook).win(act.id, winner, prize, seed, entrants, at)
    key = f"activity:{act.id}:win:{winner.channel}:{winner.member}"
    _award_points(
        ctx, act, winner.channel, winner.member, winner.group, winner.points, key, at, caused_by
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
        winner = Winner(rank, ev.channel, ev.group, ev.member, amount, act.points)
        _crown(ctx, act, winner, prize, seed, len(book.entries(act.id)), ev.at, ev.id)
        text_key = "grabbed" if act.type == "redpacket_rain" else "right"
        key = f"activity:{act.id}:win:{rank}"
        return [_reply(ctx, ev, key, text_key, f"{text_key}.reason", act, prize=prize, rank=rank)]
    if act.confirm:
        key = f"activity:{act.id}:entered:{ev.channel}:{ev.member}"
        return [_reply(ctx, ev, key, "entered", "entered.reason", act, end=_end_text(act, ctx))]
    return []


def _enter_price_hunt(
    act: Activity, ev: Event, data: MessagePostedData, ctx: Context
) -> list[Decision]:
    """A member's entry is their lowest believable price; an image is their proof."""
    assert ev.group is not None and ev.member is not None
    on_topic = act.keyword is None or act.keyword in (data.text or "")
    price = _price_of(act, data.text) if on_topic else None
    proof = act.proof and data.kind == "image"
    if price is None and not proof:
        return []  # neither a price nor a screenshot: just chat
    group = ctx.state.group(ev.channel, ev.group)
    if is_exempt(ctx, ev.member, group.owner if group is not None else None):
        return []
    book = ctx.book(ActivityBook)
    entry = book.entries(act.id).get((ev.channel, ev.member))
    if entry is None:
        why = _ineligible(act, ctx, ev.channel, ev.member)
        if why is not None:
            key = f"activity:{act.id}:ineligible:{ev.channel}:{ev.member}"
            return [_reply(ctx, ev, key, "ineligible", "ineligible.reason", act, why=why)]
        text = data.text if price is not None else None
        entry = book.enter(act.id, ev, text, True if proof else (False if act.proof else None))
    else:
        before = _price_of(act, entry.text)
        # Only a strictly lower price replaces: the same price posted again keeps the earlier.
        lower = price is not None and (before is None or price < before)
        if not lower and not (proof and not entry.correct):
            return []
        book.better(act.id, entry, ev if lower else None, proof)
        if not lower:
            return []  # the proof arrived: nothing to say
    if not act.confirm or price is None:
        return []
    locale = ctx.workspace.locale
    missing = _say("priced.proof", locale) if act.proof and not entry.correct else ""
    return [
        _reply(
            ctx,
            ev,
            f"activity:{act.id}:priced:{ev.id}",
            "priced",
            "entered.reason",
            act,
            price=yuan(price),
            proof=missing,
            end=_end_text(act, ctx),
        )
    ]


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


def _has_activities(config: WorkspaceConfig) -> bool:
    cfg = config.activities
    return cfg.enabled and bool(cfg.items)


# Activities are a workspace section (not group-scoped): the group's configuration the plan
# asks `_has_activities` about holds the workspace's activities.
@rule(
    "engagement",
    "activities_arm",
    on=["message.posted", "member.joined", "group.created"],
    when=_has_activities,
    once_per_channel=True,
)
def arm_activities(event: Event, ctx: Context) -> Iterable[Decision]:
    """Schedule the configured activities' starts and ends while there is traffic."""
    _arm(ctx, _cfg(ctx))
    return ()


@rule("engagement", "activities", on=["message.posted"], when=_has_activities)
def take_part(event: Event, ctx: Context) -> Iterable[Decision]:
    """Count a message as an entry to the activities under way."""
    cfg = _cfg(ctx)
    assert isinstance(event.data, MessagePostedData)
    decisions: list[Decision] = []
    for act in cfg.items:
        if act.starts_at <= event.at < act.ends_at and (
            not act.groups or event.group in act.groups
        ):
            enter = _enter_price_hunt if act.type == "price_hunt" else _enter
            decisions += enter(act, event, event.data, ctx)
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
        product=act.product or "",
        proof=_say("proof", locale) if act.proof else "",
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
    """Draw (lottery, show-your-order day) or rank (price hunt), announce the results with the
    winners @mentioned, ask staff to pay out."""
    act = _current(ctx, job)
    if act is None:
        return ()
    book = ctx.book(ActivityBook)
    entries = book.entries(act.id)
    locale = ctx.workspace.locale
    if act.type == "price_hunt" and not book.winners(act.id):
        _rank_prices(act, ctx, book, job.due_at)
    if act.type in ("lottery", "show_order") and not book.winners(act.id):
        entrants = sorted(entries)
        seed, picked = draw(act.id, entrants, act.winners)
        prize = _prize(act, locale)
        for rank, index in enumerate(picked, start=1):
            e = entries[entrants[index]]
            winner = Winner(rank, e.channel, e.group, e.member, act.amount_fen, act.points)
            _crown(ctx, act, winner, prize, seed, len(entrants), job.due_at)
    winners = book.winners(act.id)
    names = [
        f"@{nickname(ctx, w.channel, w.group, w.member)}{_shown(act, w, entries)}" for w in winners
    ]
    took_part = len(_valid_prices(act, entries)) if act.type == "price_hunt" else len(entries)
    if winners:
        text = _say(
            "results",
            locale,
            title=act.name,
            winners=_say("list.separator", locale).join(names),
            entrants=took_part,
        )
    else:
        text = _say("results.none", locale, title=act.name, entrants=took_part)
    decisions = [
        Decision(
            ActionKind.MESSAGE_SEND,
            _say("results.reason", locale, title=act.name),
            group=g.group,
            data={"text": text, "activity": act.id, "mentions": _present(ctx, g, winners)},
            key=f"activity:{act.id}:results:{g.channel}:{g.group}",
            channel=g.channel,
        )
        for g in _targets(ctx, act)
    ]
    if winners and (act.amount_fen or act.prize):
        lines = _say("payout.separator", locale).join(
            _say(
                "payout.line",
                locale,
                rank=w.rank,
                nickname=nickname(ctx, w.channel, w.group, w.member),
                member=w.member,
                group=w.group,
                prize=_prize(act, locale, w.amount_fen if act.type == "redpacket_rain" else None),
            )
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


def _valid_prices(act: Activity, entries: dict[tuple[str, str], Entry]) -> list[tuple[int, Entry]]:
    """(price, entry) of the entries that count: a believable price, and proof if required."""
    found = []
    for entry in entries.values():
        price = _price_of(act, entry.text)
        if price is not None and (not act.proof or entry.correct):
            found.append((price, entry))
    return found


def _rank_prices(act: Activity, ctx: Context, book: ActivityBook, at: datetime) -> None:
    """The lowest prices win; a tie goes to the earlier post (then a stable member order)."""
    valid = _valid_prices(act, book.entries(act.id))
    valid.sort(key=lambda pe: (pe[0], pe[1].at, pe[1].channel, pe[1].member))
    prize = _prize(act, ctx.workspace.locale)
    for rank, (_price, e) in enumerate(valid[: act.winners], start=1):
        winner = Winner(rank, e.channel, e.group, e.member, act.amount_fen, act.points)
        _crown(ctx, act, winner, prize, LOWEST_PRICE, len(valid), at)


def _present(ctx: Context, g: GroupRow, winners: list[Winner]) -> list[str]:
    """The winners in this group, in rank order: only they can be @mentioned there."""
    here = members_of(
        ctx, g.channel, g.group, [w.member for w in winners if w.channel == g.channel]
    )
    return [w.member for w in winners if w.channel == g.channel and w.member in here]


def _shown(act: Activity, w: Winner, entries: dict[tuple[str, str], Entry]) -> str:
    """What a winner's name is shown with: the packet grabbed, or the price paid."""
    if act.type == "redpacket_rain":
        return f"（{yuan(w.amount_fen)}）"
    if act.type == "price_hunt":
        entry = entries.get((w.channel, w.member))
        price = _price_of(act, entry.text) if entry is not None else None
        return f"（{yuan(price)}）" if price is not None else ""
    return ""


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
