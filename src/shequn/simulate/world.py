"""A seeded, believable stretch of life in a brand's customer groups, as contract events.

Members arrive through acquisition channels and referrals, speak on a heavy-tailed daily
rhythm that fades for poor channels, check in, buy, share posters and leave; ad accounts join,
post contact details within minutes and are removed or drift off. The same seed always gives
the same events, so demos, benchmarks and backtests are reproducible.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from heapq import heappop, heappush
from typing import Any
from zoneinfo import ZoneInfo

from shequn.simulate import texts
from shequn.simulate.ads import Ad, ad_nickname, advert
from shequn.simulate.channels import (
    ACQUISITION_CHANNELS,
    REFERRAL_QUALITY,
    AcquisitionChannel,
    Quality,
)
from shequn.simulate.clock import DAY, HOUR, Clock, hour_of, moment_in_day, poisson
from shequn.simulate.traffic import chat_traffic

__all__ = [
    "ACQUISITION_CHANNELS",
    "AcquisitionChannel",
    "Quality",
    "World",
    "WorldSpec",
    "build_world",
    "chat_traffic",
    "generate_events",
]

AD_SHARE = 0.03
REFERRAL_SHARE = 0.18
INVITER_SHARE = 0.12
"""Members who ever invite anyone; their reach is Pareto-distributed, so a few invite many."""
CAPACITY = 500
NEVER = 1 << 62

# A speaker's daily message rate is scale * Lomax(alpha): most say little, a few say a lot.
_RATE_SCALE = 3.0
_RATE_ALPHA = 1.0
_MAX_RATE = 80.0
_CAMPAIGNS = ("camp-national-day", "camp-autumn-bread", "camp-member-invite")
_CHANNEL_SHARES = tuple(c.share for c in ACQUISITION_CHANNELS)
# Spammers come in through whatever public code they find.
_AD_CHANNELS = tuple(
    c for c in ACQUISITION_CHANNELS if c.name in {"poster", "douyin", "xiaohongshu"}
)


@dataclass(frozen=True)
class WorldSpec:
    groups: int = 5
    members: int = 500
    days: int = 28
    seed: int = 1
    start: datetime = datetime(2026, 10, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    channel: str = "sandbox"


@dataclass(frozen=True)
class World:
    """The generated events, plus the ground truth behind them for measuring detectors."""

    events: tuple[dict[str, Any], ...]
    ad_accounts: frozenset[str]
    first_touch: dict[str, str]
    """Member id -> the acquisition channel name, or "referral"."""


def generate_events(spec: WorldSpec) -> Iterator[dict[str, Any]]:
    """Contract-shaped event dicts in non-decreasing `at` order."""
    yield from build_world(spec).events


def build_world(spec: WorldSpec) -> World:
    if spec.groups < 1 or spec.members < 0 or spec.days < 1:
        raise ValueError("a world needs at least one group, one day and no negative members")
    return _Builder(spec).build()


@dataclass(slots=True)
class _Group:
    id: str
    owner: str
    leave_times: list[int] = field(default_factory=list)
    """A heap holding when each current member will leave (NEVER if they stay)."""

    def size_at(self, t: int) -> int:
        while self.leave_times and self.leave_times[0] <= t:
            heappop(self.leave_times)
        return len(self.leave_times)

    def has_room(self, t: int) -> bool:
        return self.size_at(t) < CAPACITY


@dataclass(slots=True)
class _Member:
    id: str
    quality: Quality
    group: _Group
    joined: int
    leaves: int
    inviter: str | None


@dataclass(frozen=True, slots=True)
class _Say:
    """A message to post; its id, and for small talk its words, are settled in time order."""

    kind: str = "text"
    text: str | None = None
    url: str | None = None
    qr: str | None = None
    improvise: bool = False
    spam: bool = False


_Raw = tuple[int, int, str, str | None, str | None, dict[str, Any] | _Say]


class _Builder:
    def __init__(self, spec: WorldSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.clock = Clock(spec.start, spec.days)
        self.raw: list[_Raw] = []
        self.groups: list[_Group] = []
        self.inviters: list[_Member] = []
        self.invite_weights: list[float] = []
        """Running totals of the inviters' reach, for weighted picks by bisection."""
        self.ads: list[str] = []
        self.first_touch: dict[str, str] = {}
        self.people = 0
        self.orders = 0
        self.coupons = 0

    def build(self) -> World:
        for _ in range(self.spec.groups):
            self._open_group(self.clock.start)
        for t in self._arrival_times():
            self._arrive(t)
        events = _Renderer(self.spec, self.clock, self.rng).render(self.raw)
        return World(tuple(events), frozenset(self.ads), self.first_touch)

    def _emit(self, t: int, etype: str, group: str | None, member: str | None, data: Any) -> None:
        if self.clock.start <= t < self.clock.end:
            self.raw.append((t, len(self.raw), etype, group, member, data))

    def _person(self) -> str:
        self.people += 1
        return f"u-{self.people:05d}"

    # --- groups and arrivals ---------------------------------------------------------

    def _open_group(self, t: int) -> _Group:
        number = len(self.groups) + 1
        group = _Group(f"g-{number:03d}", f"staff-{(number - 1) % 3 + 1:02d}")
        self.groups.append(group)
        data = {
            "name": f"{texts.BRAND} {number}群",
            "blueprint": "bakery-members",
            "capacity": CAPACITY,
            "owner": group.owner,
        }
        self._emit(t, "group.created", group.id, None, data)
        return group

    def _route(self, t: int) -> _Group:
        """Like a live code: any group with room, and a new group when all are full."""
        candidates = [g for g in self.groups if g.has_room(t)]
        if not candidates:
            return self._open_group(t - 1)
        return self.rng.choice(candidates)

    def _arrival_times(self) -> list[int]:
        days = list(self.clock.days())
        weights = [self._arrival_weight(i, day) for i, day in enumerate(days)]
        picks = self.rng.choices(days, weights, k=self.spec.members)
        return sorted(self._arrival_in(day) for day in picks)

    def _arrival_in(self, day: int) -> int:
        # The first day may start mid-day; redraw so early arrivals do not pile up at one second.
        earliest = self.clock.start + 300
        for _ in range(20):
            t = moment_in_day(self.rng, day)
            if t >= earliest:
                return t
        return earliest + self.rng.randrange(HOUR)

    def _arrival_weight(self, index: int, day: int) -> float:
        # A launch push that fades, with more sign-ups on weekends when people visit the store.
        weekend = self.clock.local(day * DAY).weekday() >= 5
        return 0.6 + 6.0 * math.exp(-index / 4) + (0.8 if weekend else 0.0)

    def _arrive(self, t: int) -> None:
        roll = self.rng.random()
        if roll < AD_SHARE:
            self._ad_account(t)
            return
        if roll < AD_SHARE + REFERRAL_SHARE:
            inviter = self._pick_inviter(t)
            if inviter is not None:
                self._join_by_invite(t, inviter)
                return
        self._join_by_channel(t)

    def _pick_inviter(self, t: int) -> _Member | None:
        if not self.inviters:
            return None
        for _ in range(4):
            x = self.rng.random() * self.invite_weights[-1]
            candidate = self.inviters[bisect(self.invite_weights, x)]
            present = candidate.joined + 600 < t < candidate.leaves
            if present and candidate.group.has_room(t):
                return candidate
        return None

    def _join_by_channel(self, t: int) -> None:
        channel = self.rng.choices(ACQUISITION_CHANNELS, _CHANNEL_SHARES)[0]
        member = self._member(t, self._route(t), channel.quality, None)
        self.first_touch[member.id] = channel.name
        data = {"nickname": texts.nickname(self.rng), **self._entry(t, member.id, channel)}
        self._emit(t, "member.joined", member.group.id, member.id, data)
        self._stray_scans(t, channel)
        self._live(member)

    def _join_by_invite(self, t: int, inviter: _Member) -> None:
        member = self._member(t, inviter.group, REFERRAL_QUALITY, inviter.id)
        self.first_touch[member.id] = "referral"
        if self.rng.random() < 0.4:
            shared = max(inviter.joined + 60, t - self.rng.randint(300, 2 * HOUR))
            self._emit(shared, "poster.shared", None, inviter.id, {"campaign": self._campaign(t)})
        data = {"nickname": texts.nickname(self.rng), "scene": "invite", "inviter": inviter.id}
        self._emit(t, "member.joined", member.group.id, member.id, data)
        self._live(member)

    def _entry(self, t: int, person: str, channel: AcquisitionChannel) -> dict[str, str]:
        """How a channel member got in: mostly the channel's live code, scanned just before."""
        roll = self.rng.random()
        if roll < 0.85:
            if self.rng.random() < 0.92:
                scan = {"code": channel.code, "state": channel.state, "scanner": person}
                self._emit(t - self.rng.randint(5, 90), "code.scanned", None, None, scan)
            return {"scene": "qr", "code": channel.code, "state": channel.state}
        return {"scene": "link" if roll < 0.95 else "direct"}

    def _stray_scans(self, t: int, channel: AcquisitionChannel) -> None:
        """People who scan a code and never join: they make the join rate what it is."""
        if self.rng.random() < 0.3:
            scan = {"code": channel.code, "state": channel.state, "scanner": self._person()}
            self._emit(t + self.rng.randint(-HOUR, HOUR), "code.scanned", None, None, scan)

    def _member(self, t: int, group: _Group, quality: Quality, inviter: str | None) -> _Member:
        member = _Member(self._person(), quality, group, t, self._leave_time(t, quality), inviter)
        heappush(group.leave_times, member.leaves)
        if self.rng.random() < INVITER_SHARE:
            reach = min(20.0, self.rng.paretovariate(1.5))
            total = self.invite_weights[-1] if self.invite_weights else 0.0
            self.inviters.append(member)
            self.invite_weights.append(total + reach)
        return member

    def _leave_time(self, joined: int, quality: Quality) -> int:
        if self.rng.random() < quality.stay:
            return NEVER
        if self.rng.random() < 0.35:
            # The first impression forms in the first day or two.
            return joined + self.rng.randint(HOUR // 2, 2 * DAY)
        return joined + int(self.rng.expovariate(1 / (10 * DAY))) + 2 * DAY

    def _campaign(self, t: int) -> str:
        return _CAMPAIGNS[((t - self.clock.start) // DAY // 10) % len(_CAMPAIGNS)]

    # --- what a member does while in the group ----------------------------------------

    def _say(self, member: _Member, t: int, say: _Say) -> None:
        if member.joined < t < member.leaves:
            self._emit(t, "message.posted", member.group.id, member.id, say)

    def _live(self, member: _Member) -> None:
        quality = member.quality
        speaks = self.rng.random() < 0.5 * quality.talk
        if (speaks and self.rng.random() < 0.6) or self.rng.random() < 0.04:
            hello = _Say(text=texts.greeting(self.rng))
            self._say(member, member.joined + self.rng.randint(30, 1800), hello)
        if speaks:
            self._chatter(member)
        if self.rng.random() < 0.3 * quality.talk:
            self._check_ins(member)
        if self.rng.random() < 0.12:
            self._rename(member)
        self._shop(member)
        if self.rng.random() < 0.05:
            t = self._moment_while_member(member)
            self._emit(t, "poster.shared", None, member.id, {"campaign": self._campaign(t)})
        if member.leaves < NEVER:
            data = {"reason": "left"}
            self._emit(member.leaves, "member.left", member.group.id, member.id, data)

    def _last_day(self, member: _Member) -> int:
        return (min(member.leaves, self.clock.end) - 1) // DAY

    def _chatter(self, member: _Member) -> None:
        """Messages on each day: a heavy-tailed rate that fades faster for poor channels."""
        rate = min(_MAX_RATE, _RATE_SCALE * (self.rng.paretovariate(_RATE_ALPHA) - 1))
        stay = member.quality.stay
        floor = 0.6 * max(0.0, stay - 0.3)
        fade_days = 2 + 6 * stay
        for day in range(member.joined // DAY, self._last_day(member) + 1):
            age = max(0.0, (day * DAY - member.joined) / DAY)
            expected = rate * (floor + (1 - floor) * math.exp(-age / fade_days))
            self._conversation(member, day, poisson(self.rng, expected))

    def _conversation(self, member: _Member, day: int, count: int) -> None:
        """Messages come in bursts: a few sessions a day, seconds to minutes apart."""
        per_session = math.ceil(count / min(6, 1 + count // 8)) if count else 1
        t = 0
        for index in range(count):
            if index % per_session == 0:
                t = moment_in_day(self.rng, day)
            t += self.rng.randint(5, 150)
            self._say(member, t, _Say(improvise=True))

    def _check_ins(self, member: _Member) -> None:
        keep_going = 0.8 + 0.15 * member.quality.stay
        streak = 0
        for day in range(member.joined // DAY + 1, self._last_day(member) + 1):
            if self.rng.random() < 0.85:
                streak += 1
                t = day * DAY + self.rng.randint(6 * HOUR + 1800, 9 * HOUR + 1800)
                self._say(member, t, _Say(text=texts.checkin(self.rng, streak)))
            else:
                streak = 0
            if self.rng.random() > keep_going:
                return

    def _rename(self, member: _Member) -> None:
        t = member.joined + self.rng.randint(600, 3 * DAY)
        if t < member.leaves:
            data = {"nickname": texts.formatted_nickname(self.rng)}
            self._emit(t, "member.renamed", member.group.id, member.id, data)

    def _moment_while_member(self, member: _Member) -> int:
        day = self.rng.randint(member.joined // DAY, self._last_day(member))
        t = max(member.joined + 60, moment_in_day(self.rng, day))
        return t if t < member.leaves else (member.joined + member.leaves) // 2

    # --- commerce ----------------------------------------------------------------------

    def _shop(self, member: _Member) -> None:
        days_in = (min(member.leaves, self.clock.end) - member.joined) / DAY
        for _ in range(poisson(self.rng, member.quality.buy * 2.5 * days_in / 28)):
            self._order(member, self._moment_while_member(member))
        if self.rng.random() < 0.05:
            self.coupons += 1
            data = {"coupon_id": f"cpn-{self.coupons:05d}"}
            self._emit(self._moment_while_member(member), "coupon.redeemed", None, member.id, data)

    def _order(self, member: _Member, t: int) -> None:
        self.orders += 1
        products = self.rng.sample(texts.PRODUCTS, k=1 if self.rng.random() < 0.7 else 2)
        # Gift boxes and cakes are bought one at a time, bread by the bagful.
        quantities = [1 if p.price_fen > 10_000 else self.rng.randint(1, 3) for p in products]
        pairs = list(zip(products, quantities, strict=True))
        items = [{"sku": p.sku, "qty": qty} for p, qty in pairs]
        amount = sum(p.price_fen * qty for p, qty in pairs)
        date = self.clock.local(t).strftime("%Y%m%d")
        order_id = f"{date}{self.orders:06d}{self.rng.randint(10, 99)}"
        data: dict[str, Any] = {"order_id": order_id, "amount_fen": amount, "items": items}
        if amount >= 3000 and self.rng.random() < 0.15:
            self.coupons += 1
            data["coupon"] = f"cpn-{self.coupons:05d}"
            data["amount_fen"] = amount - (1000 if amount >= 10_000 else 500)
            self._emit(t + 1, "coupon.redeemed", None, member.id, {"coupon_id": data["coupon"]})
        if member.inviter is not None and self.rng.random() < 0.6:
            data["promoter"] = member.inviter
        self._emit(t, "order.paid", None, member.id, data)
        if self.rng.random() < 0.06:
            refund = {"order_id": order_id, "amount_fen": data["amount_fen"]}
            self._emit(
                t + self.rng.randint(HOUR, 3 * DAY), "order.refunded", None, member.id, refund
            )
        if self.rng.random() < 0.3:
            talk = _Say(text=texts.order_talk(self.rng, order_id))
            self._say(member, t + self.rng.randint(300, DAY), talk)

    # --- ad accounts ---------------------------------------------------------------------

    def _ad_account(self, t: int) -> None:
        person = self._person()
        self.ads.append(person)
        nickname = ad_nickname(self.rng, texts.nickname(self.rng))
        channel = self.rng.choice(_AD_CHANNELS)
        self.first_touch[person] = channel.name
        ad = advert(self.rng)
        group = self._route(t)
        hit = [group]
        post = self._spam_group(person, nickname, channel, group, t, ad)
        # Many spammers work several groups in a row with the same text.
        for _ in range((self.rng.random() < 0.4) + (self.rng.random() < 0.2)):
            join = post + self.rng.randint(30, 200)
            others = [g for g in self.groups if g not in hit and g.has_room(join)]
            if not others:
                return
            group = self.rng.choice(others)
            hit.append(group)
            post = self._spam_group(person, nickname, channel, group, join, ad)

    def _spam_group(
        self, person: str, nickname: str, channel: AcquisitionChannel, group: _Group, t: int, ad: Ad
    ) -> int:
        """Join, post the ad within minutes, get removed or leave; returns the first post time."""
        entry: dict[str, str] = {"scene": "link"}
        if self.rng.random() < 0.6:
            entry = self._entry(t, person, channel)
        self._emit(t, "member.joined", group.id, person, {"nickname": nickname, **entry})
        first_post = t + self.rng.randint(20, 400)
        posts = [first_post]
        if self.rng.random() < 0.35:
            posts.append(first_post + self.rng.randint(30, 300))
        for index, post in enumerate(posts):
            message = ad if index == 0 else advert(self.rng)
            say = _Say(message.kind, message.text, message.url, message.qr, spam=True)
            self._emit(post, "message.posted", group.id, person, say)
        if self.rng.random() < 0.6:
            gone = posts[-1] + self.rng.randint(120, HOUR)
            left = {"reason": "removed", "by": group.owner}
        else:
            gone = posts[-1] + self.rng.randint(HOUR, 2 * DAY)
            left = {"reason": "left"}
        heappush(group.leave_times, gone)
        self._emit(gone, "member.left", group.id, person, left)
        return first_post


@dataclass(slots=True)
class _Said:
    message_id: str
    member: str
    text: str
    at: int


@dataclass(slots=True)
class _Room:
    nicknames: dict[str, str] = field(default_factory=dict)
    """Current members and their group nickname."""
    recent: deque[_Said] = field(default_factory=lambda: deque(maxlen=20))


class _Renderer:
    """Replays the raw timeline in order, giving ids and writing the words of small talk.

    Replies and mentions need to know who is in the room and what was just said, which is
    only known once every member's timeline has been merged.
    """

    def __init__(self, spec: WorldSpec, clock: Clock, rng: random.Random) -> None:
        self.spec = spec
        self.clock = clock
        self.rng = rng
        self.rooms: dict[str, _Room] = {}
        self.messages = 0

    def render(self, raw: list[_Raw]) -> list[dict[str, Any]]:
        raw.sort(key=lambda r: (r[0], r[1]))
        events = []
        for number, (t, _, etype, group, member, payload) in enumerate(raw, start=1):
            data = (
                payload if isinstance(payload, dict) else self._message(t, group, member, payload)
            )
            if group is not None and member is not None:
                self._track(etype, self.rooms.setdefault(group, _Room()), member, data)
            events.append(
                {
                    "id": f"sim{self.spec.seed}-{number:08d}",
                    "type": etype,
                    "channel": self.spec.channel,
                    "group": group,
                    "member": member,
                    "at": self.clock.iso(t),
                    "data": data,
                }
            )
        return events

    @staticmethod
    def _track(etype: str, room: _Room, member: str, data: dict[str, Any]) -> None:
        if etype in ("member.joined", "member.renamed"):
            room.nicknames[member] = data["nickname"]
        elif etype == "member.left":
            room.nicknames.pop(member, None)

    def _message(self, t: int, group: str | None, member: str | None, say: _Say) -> dict[str, Any]:
        assert group is not None and member is not None
        self.messages += 1
        message_id = f"m-{self.messages:07d}"
        room = self.rooms.setdefault(group, _Room())
        data = self._improvise(t, room, member) if say.improvise else _said_data(say)
        data = {"message_id": message_id, **data}
        text = data.get("text")
        if text and not say.spam:
            room.recent.append(_Said(message_id, member, text, t))
        return data

    def _improvise(self, t: int, room: _Room, member: str) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.05:
            return {"kind": "image", "url": texts.image_url(self.rng)}
        if roll < 0.09:
            return {"kind": "voice"}
        if roll < 0.12:
            title, url = texts.product_link(self.rng)
            return {"kind": "link", "text": title, "url": url}
        if roll < 0.13:
            return {"kind": "redpacket", "text": texts.redpacket_greeting(self.rng)}
        partner = self._partner(t, room, member)
        if partner is None or self.rng.random() < 0.65:
            return {"kind": "text", "text": self._line(t)}
        text = texts.answer(self.rng) if texts.is_question(partner.text) else self._line(t)
        data: dict[str, Any] = {"kind": "text", "text": text, "reply_to": partner.message_id}
        if self.rng.random() < 0.3:
            data["text"] = f"@{room.nicknames[partner.member]} {text}"
            data["mentions"] = [partner.member]
        return data

    def _partner(self, t: int, room: _Room, member: str) -> _Said | None:
        """Someone else still in the room who spoke in the last half hour."""
        candidates = [
            said
            for said in list(room.recent)[-6:]
            if said.member != member and t - said.at < 1800 and said.member in room.nicknames
        ]
        return self.rng.choice(candidates) if candidates else None

    def _line(self, t: int) -> str:
        date = self.clock.local(t)
        # The National Day golden week colours the chat of the default October world.
        holiday = date.month == 10 and date.day <= 7
        return texts.chat_line(self.rng, hour_of(t), holiday)


def _said_data(say: _Say) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": say.kind}
    for key in ("text", "url", "qr"):
        value = getattr(say, key)
        if value is not None:
            data[key] = value
    return data
