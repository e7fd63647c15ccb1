"""The world simulator: valid, ordered, reproducible and believable community life."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pytest

from shequn.events import Event, parse_event
from shequn.simulate import (
    ACQUISITION_CHANNELS,
    World,
    WorldSpec,
    build_world,
    chat_traffic,
    generate_events,
)

SMALL = WorldSpec(groups=3, members=150, days=7, seed=7)
CONTACT = re.compile(
    r"(?<!\d)1[3-9]\d{9}(?!\d)|https?://|微信(?!支付)|v信|vx|wx|威信|薇信|\+v|v❤|qq|扣扣|电话",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldSpec())


def _at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["at"])


def _has_contact(data: dict[str, Any]) -> bool:
    if data.get("qr") or data.get("url"):
        return True
    # Spammers hide numbers in full-width digits and split words with separators.
    text = unicodedata.normalize("NFKC", data.get("text") or "")
    return CONTACT.search(re.sub(r"[\s*\-]", "", text)) is not None


def _replay(events: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """Walk the stream as a consumer would, asserting every membership rule on the way."""
    owners: dict[str, str] = {}
    present: dict[str, set[str]] = defaultdict(set)
    messages: dict[str, str] = {}
    for event in events:
        group, member, data = event["group"], event["member"], event["data"]
        etype = event["type"]
        if etype == "group.created":
            assert group not in owners
            owners[group] = data.get("owner", "")
            continue
        if group is not None:
            assert group in owners, f"{event['id']} uses {group} before it was created"
        if etype == "member.joined":
            assert member not in present[group]
            present[group].add(member)
            assert len(present[group]) <= 500
            if data["scene"] == "invite":
                assert data["inviter"] in present[group]
        elif etype == "member.left":
            assert member in present[group]
            present[group].discard(member)
            if data["reason"] == "removed":
                assert data["by"] == owners[group]
        elif etype in ("message.posted", "member.renamed"):
            assert member in present[group], f"{event['id']}: {member} is not in {group}"
        if etype == "message.posted":
            assert data["message_id"] not in messages
            messages[data["message_id"]] = group
            if "reply_to" in data:
                assert messages[data["reply_to"]] == group
            for mentioned in data.get("mentions", ()):
                assert mentioned in present[group]
    return present


def test_same_seed_gives_the_same_world_and_another_seed_does_not() -> None:
    first = list(generate_events(SMALL))
    assert first == list(generate_events(SMALL))
    other = list(generate_events(WorldSpec(groups=3, members=150, days=7, seed=8)))
    assert first != other


def test_the_world_does_not_depend_on_string_hashing() -> None:
    code = (
        "import hashlib, json; from shequn.simulate import WorldSpec, generate_events; "
        "spec = WorldSpec(groups=2, members=80, days=5, seed=3); "
        "print(hashlib.sha256(json.dumps(list(generate_events(spec))).encode()).hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.add(result.stdout.strip())
    spec = WorldSpec(groups=2, members=80, days=5, seed=3)
    here = hashlib.sha256(json.dumps(list(generate_events(spec))).encode()).hexdigest()
    assert digests == {here}


def test_every_event_validates_against_the_contract(world: World) -> None:
    for index, raw in enumerate(world.events):
        assert isinstance(parse_event(raw, index), Event), (raw, parse_event(raw, index))
    ids = [e["id"] for e in world.events]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("sim1-") for i in ids)
    assert {e["channel"] for e in world.events} == {"sandbox"}
    assert all(e["at"].endswith("+08:00") for e in world.events)


def test_default_world_size(world: World) -> None:
    assert 10_000 <= len(world.events) <= 40_000
    types = Counter(e["type"] for e in world.events)
    assert types["group.created"] == 5
    assert types["member.joined"] >= 500
    for etype in ("code.scanned", "member.left", "member.renamed", "order.paid", "poster.shared"):
        assert types[etype] > 0, etype


def test_events_are_in_time_order_inside_the_window(world: World) -> None:
    times = [_at(e) for e in world.events]
    assert times == sorted(times)
    spec = WorldSpec()
    assert times[0] == spec.start
    assert (times[-1] - spec.start).days < spec.days


def test_members_act_only_in_groups_they_are_in(world: World) -> None:
    present = _replay(world.events)
    sizes = [len(members) for members in present.values()]
    assert len(sizes) == 5
    assert min(sizes) > 0.5 * max(sizes), "members are spread over the groups"


def test_a_full_group_sends_newcomers_to_a_new_one() -> None:
    events = list(generate_events(WorldSpec(groups=1, members=900, days=7, seed=2)))
    _replay(events)
    created = [e for e in events if e["type"] == "group.created"]
    assert len(created) >= 2
    assert all(e["data"]["capacity"] == 500 for e in created)


def test_activity_is_heavy_tailed(world: World) -> None:
    joined = {e["member"] for e in world.events if e["type"] == "member.joined"}
    posts = Counter(e["member"] for e in world.events if e["type"] == "message.posted")
    ranked = sorted(posts.values(), reverse=True)
    top = ranked[: len(ranked) // 10]
    assert sum(top) > 0.5 * sum(ranked)
    assert len(posts) < 0.5 * len(joined)


def test_chat_follows_the_shanghai_day(world: World) -> None:
    hours = Counter(_at(e).hour for e in world.events if e["type"] == "message.posted")
    night = sum(hours[h] for h in range(2, 6))
    evening = sum(hours[h] for h in range(20, 22))
    assert evening > 10 * night
    morning_check_ins = [
        e
        for e in world.events
        if e["type"] == "message.posted" and e["data"].get("text") in ("签到", "打卡")
    ]
    assert morning_check_ins and all(6 <= _at(e).hour <= 9 for e in morning_check_ins)


def test_messages_are_mostly_text_with_replies_and_mentions(world: World) -> None:
    messages = [e["data"] for e in world.events if e["type"] == "message.posted"]
    kinds = Counter(m["kind"] for m in messages)
    assert kinds["text"] > 0.8 * len(messages)
    assert {"image", "link", "voice", "redpacket"} <= set(kinds)
    assert any("reply_to" in m for m in messages)
    assert any("mentions" in m for m in messages)
    texts = " ".join(m.get("text") or "" for m in messages)
    for phrase in ("大家好", "¥", "订单号 2026", "微信支付"):
        assert phrase in texts


def test_ad_accounts_post_contact_details_within_minutes(world: World) -> None:
    assert world.ad_accounts
    joined_at: dict[tuple[str, str], datetime] = {}
    first_post: dict[tuple[str, str], dict[str, Any]] = {}
    for event in world.events:
        key = (event["group"], event["member"])
        if event["member"] not in world.ad_accounts:
            continue
        if event["type"] == "member.joined":
            joined_at[key] = _at(event)
        elif event["type"] == "message.posted":
            first_post.setdefault(key, event)
    assert first_post.keys() == joined_at.keys()
    for key, post in first_post.items():
        assert (_at(post) - joined_at[key]).total_seconds() <= 10 * 60
        assert _has_contact(post["data"]), post


def test_only_ad_accounts_are_removed_and_some_leave_by_themselves(world: World) -> None:
    ad_exits = Counter(
        e["data"]["reason"]
        for e in world.events
        if e["type"] == "member.left" and e["member"] in world.ad_accounts
    )
    assert ad_exits["removed"] > 0 and ad_exits["left"] > 0
    removed = {
        e["member"]
        for e in world.events
        if e["type"] == "member.left" and e["data"]["reason"] == "removed"
    }
    assert removed <= world.ad_accounts


def test_ordinary_members_rarely_look_like_ads(world: World) -> None:
    ordinary = [
        e["data"]
        for e in world.events
        if e["type"] == "message.posted"
        and e["member"] not in world.ad_accounts
        and e["data"]["kind"] == "text"
    ]
    assert sum(_has_contact(m) for m in ordinary) < 0.02 * len(ordinary)


def test_joins_carry_channel_attribution_and_referrals(world: World) -> None:
    codes = {c.code: c.state for c in ACQUISITION_CHANNELS}
    joins = [e for e in world.events if e["type"] == "member.joined"]
    scanned = {e["data"]["scanner"] for e in world.events if e["type"] == "code.scanned"}
    qr = [e for e in joins if e["data"]["scene"] == "qr"]
    assert len(qr) > 0.5 * len(joins)
    assert all(codes[e["data"]["code"]] == e["data"]["state"] for e in qr)
    assert sum(e["member"] in scanned for e in qr) > 0.8 * len(qr)
    invites = Counter(e["data"]["inviter"] for e in joins if e["data"]["scene"] == "invite")
    assert invites and max(invites.values()) >= 5, "a few members invite many"
    assert {e["data"]["scene"] for e in joins} >= {"qr", "invite", "link", "direct"}


def test_low_quality_channels_lose_more_members() -> None:
    built = build_world(WorldSpec(members=2000, seed=4))
    left = {e["member"] for e in built.events if e["type"] == "member.left"}
    joined = {e["member"] for e in built.events if e["type"] == "member.joined"}

    def leave_rate(channel: str) -> float:
        members = [m for m in joined if built.first_touch[m] == channel]
        return sum(m in left for m in members) / len(members)

    assert leave_rate("ads") > 2 * leave_rate("store_qr")


def test_commerce_is_consistent(world: World) -> None:
    paid = {e["data"]["order_id"]: e for e in world.events if e["type"] == "order.paid"}
    assert len(paid) == sum(e["type"] == "order.paid" for e in world.events)
    assert all(isinstance(e["data"]["amount_fen"], int) for e in paid.values())
    assert any("promoter" in e["data"] for e in paid.values())
    refunds = [e for e in world.events if e["type"] == "order.refunded"]
    assert refunds
    for refund in refunds:
        order = paid[refund["data"]["order_id"]]
        assert refund["member"] == order["member"]
        assert refund["data"]["amount_fen"] == order["data"]["amount_fen"]
        assert _at(refund) > _at(order)


def test_size_scales_with_members_and_days() -> None:
    small = len(list(generate_events(WorldSpec(members=200, days=14, seed=5))))
    large = len(list(generate_events(WorldSpec(members=800, days=14, seed=5))))
    assert 2 * small < large < 8 * small


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError):
        build_world(WorldSpec(groups=0))
    with pytest.raises(ValueError):
        build_world(WorldSpec(start=datetime(2026, 10, 1)))


@pytest.mark.parametrize("n", [0, 3, 5_000])
def test_chat_traffic_gives_exactly_n_valid_events(n: int) -> None:
    events = list(chat_traffic(n, groups=5, members=300, seed=2))
    assert len(events) == n
    for index, raw in enumerate(events):
        assert isinstance(parse_event(raw, index), Event)
    assert len({e["id"] for e in events}) == n
    _replay(events)
    times = [_at(e) for e in events]
    assert times == sorted(times)


def test_chat_traffic_is_mostly_messages_and_reproducible() -> None:
    events = list(chat_traffic(20_000, seed=3))
    assert events == list(chat_traffic(20_000, seed=3))
    types = Counter(e["type"] for e in events)
    assert types["group.created"] == 20
    assert types["message.posted"] > 0.9 * len(events)
    assert types["member.joined"] > 0 and types["member.left"] > 0
    _replay(events)
