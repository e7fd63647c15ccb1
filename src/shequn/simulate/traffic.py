"""Benchmark chat traffic: a fast, valid stream of mostly messages, with joins and leaves.

Unlike the world simulator it models nothing beyond validity (groups first, a member posts
only while in their group) and a skew towards a few talkative members; it is built for
generating hundreds of thousands of events per second.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shequn.simulate import texts
from shequn.simulate.clock import SHANGHAI

JOIN_SHARE = 0.03
LEAVE_SHARE = 0.005
_WARM_UP = 0.2
"""Until this share of members is in, joins come far more often so there is someone to talk."""
_POOL = 512


def chat_traffic(
    n_events: int,
    groups: int = 20,
    members: int = 2000,
    seed: int = 1,
    start: datetime = datetime(2026, 10, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
) -> Iterator[dict[str, Any]]:
    """Exactly `n_events` contract events: group.created first, then chat with some churn."""
    if groups < 1 or members < 1:
        raise ValueError("chat traffic needs at least one group and one member")
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    rng = random.Random(seed)
    lines = [texts.chat_line(rng, 9 + i % 14, False) for i in range(_POOL)]
    nicknames = [texts.nickname(rng) for _ in range(_POOL)]
    group_ids = [f"g-{g + 1:03d}" for g in range(groups)]
    member_ids = [f"u-{m + 1:05d}" for m in range(members)]
    prefix = f"ct{seed}-"
    origin = start.astimezone(SHANGHAI)
    at = origin.isoformat()
    capacity = max(500, math.ceil(members / groups))

    def event(
        n: int, etype: str, group: str, member: str | None, data: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": f"{prefix}{n:09d}",
            "type": etype,
            "channel": "sandbox",
            "group": group,
            "member": member,
            "at": at,
            "data": data,
        }

    made = min(groups, n_events)
    for g in range(made):
        data = {"name": f"{texts.BRAND} {g + 1}群", "capacity": capacity, "owner": "staff-01"}
        yield event(g, "group.created", group_ids[g], None, data)

    # `present` keeps the order members came in; speakers are drawn with a bias towards its
    # front, which gives a heavy tail without per-member state.
    order = list(range(members))
    rng.shuffle(order)
    absent = deque(order)
    present: list[int] = []
    warm = max(1, int(members * _WARM_UP))
    random_ = rng.random
    second = 0
    for n in range(made, n_events):
        if random_() < 0.5:
            second += 1
            at = (origin + timedelta(seconds=second)).isoformat()
        roll = random_()
        if absent and (not present or roll < JOIN_SHARE or (len(present) < warm and roll < 0.5)):
            who = absent.pop()
            present.append(who)
            data = {"nickname": nicknames[who % _POOL], "scene": "qr"}
            yield event(n, "member.joined", group_ids[who % groups], member_ids[who], data)
        elif roll < JOIN_SHARE + LEAVE_SHARE and len(present) > 1:
            index = int(random_() * len(present))
            who = present[index]
            present[index] = present[-1]
            present.pop()
            absent.appendleft(who)
            data = {"reason": "left"}
            yield event(n, "member.left", group_ids[who % groups], member_ids[who], data)
        else:
            who = present[int(len(present) * random_() ** 3)]
            data = {"message_id": f"m-{n}", "kind": "text", "text": lines[n % _POOL]}
            yield event(n, "message.posted", group_ids[who % groups], member_ids[who], data)
