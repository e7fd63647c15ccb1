"""Straightforward Python computations of each analytic from the raw events, written from the
definitions in the analytics modules' docstrings and nothing else: what the DuckDB queries
are checked against."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
CHECKIN = ("签到", "打卡")


@dataclass
class Ev:
    seq: int
    type: str
    group: str | None
    member: str | None
    at: datetime
    data: dict[str, Any]

    @property
    def day(self) -> date:
        return self.at.astimezone(SH).date()


def parse(raw_events: list[dict[str, Any]]) -> list[Ev]:
    return [
        Ev(i, e["type"], e["group"], e["member"], datetime.fromisoformat(e["at"]), e["data"])
        for i, e in enumerate(raw_events)
    ]


def first_joins(evs: list[Ev]) -> dict[str, Ev]:
    out: dict[str, Ev] = {}
    for e in sorted(evs, key=lambda e: (e.at, e.seq)):
        if e.type == "member.joined" and e.member not in out:
            out[e.member] = e
    return out


def source(join: Ev, channels: dict[str, str]) -> str:
    d = join.data
    if d.get("state") in channels:
        return channels[d["state"]]
    if d.get("state"):
        return d["state"]
    if d.get("code"):
        return d["code"]
    return "referral" if d.get("inviter") else "direct"


def valid_invites(evs: list[Ev], hold_hours: int = 24) -> list[tuple[str, datetime, str]]:
    """(inviter, time, invitee) of invites whose invitee stayed through the hold."""
    out = []
    for member, join in first_joins(evs).items():
        inviter = join.data.get("inviter")
        if not inviter or inviter == member:
            continue
        left_soon = any(
            e.type == "member.left"
            and e.member == member
            and e.group == join.group
            and join.at <= e.at <= join.at + timedelta(hours=hold_hours)
            for e in evs
        )
        if not left_soon:
            out.append((inviter, join.at, member))
    return out


def funnel_reached(
    evs: list[Ev], since: date, until: date, window: int = 30, activation: int = 7, later: int = 7
) -> list[int]:
    """Who did each step at all within the window after joining, in any order."""
    joins = {m: j for m, j in first_joins(evs).items() if since <= j.day <= until}
    invites: dict[str, list[datetime]] = defaultdict(list)
    for inviter, at, _ in valid_invites(evs, 24):
        invites[inviter].append(at)
    counts = [0] * 5
    for member, join in joins.items():
        t1, end = join.at, join.at + timedelta(days=window)
        mine = [e for e in evs if e.member == member and t1 <= e.at < end]
        spoke = [e.at for e in mine if e.type == "message.posted"]
        counts[0] += 1
        counts[1] += any(t < t1 + timedelta(days=min(activation, window)) for t in spoke)
        counts[2] += any(t >= t1 + timedelta(days=later) for t in spoke)
        counts[3] += any(e.type == "order.paid" for e in mine)
        counts[4] += any(t1 <= t < end for t in invites[member])
    return counts


def funnel(
    evs: list[Ev],
    since: date,
    until: date,
    window: int = 30,
    activation: int = 7,
    later: int = 7,
    hold: int = 24,
) -> list[int]:
    joins = {m: j for m, j in first_joins(evs).items() if since <= j.day <= until}
    msgs: dict[str, list[datetime]] = defaultdict(list)
    orders: dict[str, list[datetime]] = defaultdict(list)
    for e in evs:
        if e.type == "message.posted":
            msgs[e.member].append(e.at)
        elif e.type == "order.paid":
            orders[e.member].append(e.at)
    invites: dict[str, list[datetime]] = defaultdict(list)
    for inviter, at, _ in valid_invites(evs, hold):
        invites[inviter].append(at)
    counts = [0] * 5
    for member, join in joins.items():
        t1 = join.at
        end = t1 + timedelta(days=window)
        counts[0] += 1
        t2 = min(
            (t for t in msgs[member] if t1 <= t < t1 + timedelta(days=min(activation, window))),
            default=None,
        )
        if t2 is None:
            continue
        counts[1] += 1
        start3 = max(t2, t1 + timedelta(days=later))
        t3 = min((t for t in msgs[member] if start3 <= t < end), default=None)
        if t3 is None:
            continue
        counts[2] += 1
        t4 = min((t for t in orders[member] if t3 <= t < end), default=None)
        if t4 is None:
            continue
        counts[3] += 1
        if any(t4 <= t < end for t in invites[member]):
            counts[4] += 1
    return counts


def week(d: date) -> date:
    return d - timedelta(days=d.weekday())


def retention(
    evs: list[Ev], since: date, until: date, unit: str, mode: str, measure: str
) -> dict[tuple[date, int], int]:
    """(cohort, n) -> retained count, n = 0 being the cohort's size."""
    trunc = week if unit == "week" else (lambda d: d)
    step = 7 if unit == "week" else 1
    active: dict[str, set[date]] = defaultdict(set)
    for e in evs:
        if e.type == "message.posted" and e.day <= until:
            active[e.member].add(trunc(e.day))
    cohorts: list[tuple[date, str]] = []
    if mode == "first":
        cohorts = [
            (trunc(j.day), m) for m, j in first_joins(evs).items() if since <= j.day <= until
        ]
    else:
        seen = set()
        for e in evs:
            if e.type == "message.posted" and since <= e.day <= until:
                seen.add((trunc(e.day), e.member))
        cohorts = sorted(seen)
    out: dict[tuple[date, int], int] = Counter()
    last = trunc(until)
    for p0, member in cohorts:
        out[(p0, 0)] += 1
        for n in range(1, (last - p0).days // step + 1):
            target = p0 + timedelta(days=n * step)
            periods = active[member]
            hit = target in periods if measure == "on" else any(p >= target for p in periods)
            if hit:
                out[(p0, n)] += 1
    return out


def health(evs: list[Ev], since: date, until: date) -> dict[tuple[str, date], dict[str, Any]]:
    inside: dict[tuple[str, str], bool] = {}
    delta: dict[tuple[str, date], int] = Counter()
    joins: dict[tuple[str, date], int] = Counter()
    leaves: dict[tuple[str, date], int] = Counter()
    messages: dict[tuple[str, date], int] = Counter()
    speakers: dict[tuple[str, date], set[str]] = defaultdict(set)
    born: dict[str, date] = {}
    for e in sorted(evs, key=lambda e: (e.at, e.seq)):
        if e.group is None or e.day > until:
            continue
        born.setdefault(e.group, e.day)
        key = (e.group, e.day)
        if e.type == "member.joined":
            joins[key] += 1
            if not inside.get((e.group, e.member)):
                delta[key] += 1
            inside[(e.group, e.member)] = True
        elif e.type == "member.left":
            leaves[key] += 1
            if inside.get((e.group, e.member)):
                delta[key] -= 1
            inside[(e.group, e.member)] = False
        elif e.type == "message.posted":
            messages[key] += 1
            speakers[key].add(e.member)
    out = {}
    for group, first in born.items():
        day = max(first, since)
        members = sum(v for (g, d), v in delta.items() if g == group and d < day)
        while day <= until:
            members += delta[(group, day)]
            window = [day - timedelta(days=i) for i in range(7)]
            before = [day - timedelta(days=i) for i in range(7, 14)]
            out[(group, day)] = {
                "members": members,
                "speakers": len(speakers[(group, day)]),
                "messages": messages[(group, day)],
                "joins": joins[(group, day)],
                "leaves": leaves[(group, day)],
                "speakers7": len(set().union(*(speakers[(group, d)] for d in window))),
                "net7": sum(joins[(group, d)] - leaves[(group, d)] for d in window),
                "messages7": sum(messages[(group, d)] for d in window),
                "messages_prev7": sum(messages[(group, d)] for d in before),
            }
            day += timedelta(days=1)
    return out


def roi(
    evs: list[Ev], since: date, until: date, per_member: dict[str, int], channels: dict[str, str]
) -> dict[str, dict[str, int]]:
    joins = {m: j for m, j in first_joins(evs).items() if since <= j.day <= until}
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"members": 0, "revenue": 0, "paying": 0})
    net: dict[str, int] = Counter()
    paid: set[str] = set()
    for e in evs:
        if e.day > until or e.member not in joins:
            continue
        if e.type == "order.paid":
            net[e.member] += e.data["amount_fen"]
            paid.add(e.member)
        elif e.type == "order.refunded":
            net[e.member] -= e.data["amount_fen"]
    for member, join in joins.items():
        row = out[source(join, channels)]
        row["members"] += 1
        row["revenue"] += net[member]
        row["paying"] += member in paid
    for name, row in out.items():
        row["cost"] = per_member.get(name, 0) * row["members"]
    return dict(out)


def kol(evs: list[Ev], since: date, until: date) -> dict[str, dict[str, int]]:
    author = {
        e.data["message_id"]: e.member for e in evs if e.type == "message.posted" and e.day <= until
    }
    days: dict[str, set[date]] = defaultdict(set)
    answers: dict[str, int] = Counter()
    received: dict[str, int] = Counter()
    for e in evs:
        if e.type != "message.posted" or not since <= e.day <= until:
            continue
        days[e.member].add(e.day)
        target = author.get(e.data.get("reply_to"))
        if target is not None and target != e.member:
            answers[e.member] += 1
            received[target] += 1
        for m in e.data.get("mentions") or []:
            if m != e.member:
                received[m] += 1
    joins = first_joins(evs)
    return {
        m: {
            "answers": answers[m],
            "received": received[m],
            "active_days": len(d),
            "tenure": max(0, (until - joins[m].day).days) if m in joins else 0,
        }
        for m, d in days.items()
    }


def kol_score(row: dict[str, int], top_a: int, top_r: int, days: int) -> float:
    return round(
        40 * row["answers"] / (top_a or 1)
        + 30 * row["received"] / (top_r or 1)
        + 20 * row["active_days"] / days
        + 10 * min(row["tenure"], 90) / 90,
        2,
    )


def presets(evs: list[Ev], asof: date) -> dict[str, set[str]]:
    msgs: dict[str, list[date]] = defaultdict(list)
    for e in evs:
        if e.type == "message.posted" and asof - timedelta(days=89) <= e.day <= asof:
            msgs[e.member].append(e.day)
    ranked = sorted(msgs, key=lambda m: -len(msgs[m]))
    floor = len(msgs[ranked[math.ceil(len(ranked) / 4) - 1]]) if ranked else 0
    inactive = {
        m
        for m, ds in msgs.items()
        if len(ds) >= floor and asof - timedelta(days=28) <= max(ds) <= asof - timedelta(days=7)
    }
    new_active = set()
    for m, j in first_joins(evs).items():
        if asof - timedelta(days=29) <= j.day <= asof:
            days = {
                e.day
                for e in evs
                if e.type == "message.posted" and e.member == m and j.day <= e.day <= asof
            }
            if len(days) >= 2:
                new_active.add(m)
    return {"new_and_active": new_active, "recently_inactive": inactive}


def month_love(evs: list[Ev], first: date, last: date) -> dict[str, int]:
    weights = {"message.posted": 1, "order.paid": 5, "poster.shared": 3}
    love: dict[str, int] = Counter()
    for e in evs:
        if e.type in weights and first <= e.day <= last:
            love[e.member] += weights[e.type]
    for inviter, at, _ in valid_invites(evs):
        if first <= at.astimezone(SH).date() <= last:
            love[inviter] += 10
    return love


def orbit_level(love: int) -> int:
    return 1 if love >= 100 else 2 if love >= 30 else 3 if love >= 5 else 4


def month_population(evs: list[Ev], first: date, last: date) -> dict[str, int]:
    """member -> level for one month (present at its start, joined in it, or with love)."""
    inside: dict[tuple[str, str], bool] = {}
    count: dict[str, int] = Counter()
    joined_in: set[str] = set()
    for e in sorted(evs, key=lambda e: (e.at, e.seq)):
        if e.type not in ("member.joined", "member.left") or e.day > last:
            continue
        if e.day >= first:
            if e.type == "member.joined":
                joined_in.add(e.member)
            continue
        was = inside.get((e.group, e.member), False)
        now = e.type == "member.joined"
        count[e.member] += (now and not was) - (was and not now)
        inside[(e.group, e.member)] = now
    love = month_love(evs, first, last)
    people = {m for m, c in count.items() if c > 0} | joined_in | {m for m, v in love.items() if v}
    return {m: orbit_level(love.get(m, 0)) for m in people}
