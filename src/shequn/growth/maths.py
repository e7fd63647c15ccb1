"""The arithmetic of the fission models, pure and deterministic.

Bargain 砍价 and red-packet collection 收红包 share one plan: split a total into exactly N
positive integer steps whose first is at least a configured share of the total, with the
rest shrinking. Every random choice is seeded (by the participant and campaign), so a replay
decides the same amounts.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence

from shequn.config.growth import feasible  # the campaigns' validators ask it too


def seeded(*parts: object) -> random.Random:
    """A random generator fixed by its parts: the same parts, the same draws."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def split_plan(total: int, steps: int, first_share: float, rng: random.Random) -> list[int]:
    """`steps` positive integers summing to `total`, the first ≥ ceil(first_share · total),
    each later one no larger than the one before.

    The first step takes between the share and what leaves 1 fen for every later step; the
    rest is split with a decaying random weight, then evened so no step exceeds the previous.
    """
    if not feasible(total, steps, first_share):
        raise ValueError(
            f"{total} fen cannot be split into {steps} steps with the first ≥ {first_share:.0%}"
        )
    if steps == 1:
        return [total]
    least_first = max(math.ceil(first_share * total), 1)
    most_first = total - (steps - 1)
    first = rng.randint(least_first, most_first) if most_first > least_first else least_first
    rest = total - first
    later = steps - 1
    # Decaying weights: early helpers cut more, as the product intends.
    weights = [rng.uniform(0.6, 1.0) * (0.8**i) for i in range(later)]
    spare = rest - later  # each later step gets 1 fen for sure
    raw = [spare * w / sum(weights) for w in weights]
    shares = [int(x) for x in raw]
    leftover = spare - sum(shares)
    by_fraction = sorted(range(later), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in by_fraction[:leftover]:
        shares[i] += 1
    tail = sorted((1 + s for s in shares), reverse=True)
    # The first must stay the largest: it is ≥ 90 % of the total, the rest ≤ 10 %.
    return [first, *tail]


def plan_bargain(
    price_fen: int, target_fen: int, helpers: int, first_share: float, seed: str
) -> list[int]:
    """Cuts of a bargain: the first takes ≥ first_share of the gap; helper N reaches target."""
    return split_plan(price_fen - target_fen, helpers, first_share, seeded("bargain", seed))


def plan_redpacket(target_fen: int, helpers: int, first_share: float, seed: str) -> list[int]:
    """Helps of a red-packet collection: the first reaches ≥ first_share of the target."""
    return split_plan(target_fen, helpers, first_share, seeded("redpacket", seed))


def ladder_amount(valid_invites: int, steps: Sequence[tuple[int, int]]) -> int:
    """Reward of the n-th valid invite on a ladder of (min_invites, per_invite_fen) steps."""
    amount = 0
    for min_invites, per_invite in steps:
        if valid_invites >= min_invites:
            amount = per_invite
    return amount


def draw_card(names: Sequence[str], weights: Sequence[float], rng: random.Random) -> str:
    """One card by rarity weight."""
    return rng.choices(list(names), weights=list(weights), k=1)[0]


def group_buy_price(base_fen: int, invites: int, thresholds: Sequence[tuple[int, int]]) -> int:
    """The price after invite thresholds (e.g. 30 invites → ¥1, 60 → free)."""
    price = base_fen
    for need, price_fen in sorted(thresholds):
        if invites >= need:
            price = min(price, price_fen)
    return price


def k_factor(participants: int, invites: int, valid: int) -> float | None:
    """Invites per participant × invite conversion (valid / invites)."""
    if participants == 0 or invites == 0:
        return None
    return round((invites / participants) * (valid / invites), 4)
