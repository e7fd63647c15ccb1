"""Fraud signals of an invite, scored with reasons. Pure functions over what the referral book
gathered: a flagged reward waits for staff review rather than being silently refused."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shequn.config.growth import FraudSignal

_NOISE = re.compile(r"[\d\s_\-.·•~!！?？,，。、()（）\[\]【】*#@]+")


def skeleton(nickname: str | None) -> str:
    """A nickname without digits, spaces and punctuation, case-folded: 小明01 ≈ 小明 02."""
    if not nickname:
        return ""
    return _NOISE.sub("", unicodedata.normalize("NFKC", nickname)).casefold()


@dataclass(frozen=True, slots=True)
class InviteFacts:
    """What is known about one invite when it is judged."""

    at: datetime
    invitee_devices: frozenset[str] = frozenset()
    invitee_networks: frozenset[str] = frozenset()
    inviter_devices: frozenset[str] = frozenset()
    inviter_networks: frozenset[str] = frozenset()
    upline_devices: frozenset[str] = frozenset()
    """Devices of the inviter's own inviters and of the inviter's other invitees."""
    recent_joins: Sequence[datetime] = ()
    """When the inviter's invitees joined (this one included)."""
    nickname: str | None = None
    sibling_nicknames: Sequence[str | None] = ()
    """Nicknames of the inviter's other invitees."""
    siblings_left_quickly: int = 0
    siblings_judged: int = 0
    left_after_reward: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    score: int
    reasons: tuple[str, ...] = field(default_factory=tuple)


def signals(facts: InviteFacts, burst_count: int, burst_minutes: int) -> list[FraudSignal]:
    """The names of the fraud signals present, in a stable order."""
    found: list[FraudSignal] = []
    if facts.invitee_devices & facts.inviter_devices:
        found.append("same_device")
    if facts.invitee_networks & facts.inviter_networks:
        found.append("same_network")
    window = timedelta(minutes=burst_minutes)
    if sum(1 for t in facts.recent_joins if facts.at - window <= t <= facts.at) >= burst_count:
        found.append("burst")
    if facts.invitee_devices & facts.upline_devices:
        found.append("ring")
    if facts.siblings_judged >= 3 and facts.siblings_left_quickly * 2 >= facts.siblings_judged:
        found.append("instant_leavers")
    mine = skeleton(facts.nickname)
    if mine and sum(1 for n in facts.sibling_nicknames if skeleton(n) == mine) >= 2:
        found.append("look_alike")
    if facts.left_after_reward > 0:
        found.append("left_early")
    return found


def score(found: Iterable[FraudSignal], weights: Mapping[FraudSignal, int]) -> Verdict:
    names = tuple(found)
    return Verdict(sum(weights.get(n, 0) for n in names), names)
