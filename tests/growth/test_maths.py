"""Property tests of the bargain and red-packet maths, and the small formulas."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from shequn.growth.maths import (
    feasible,
    group_buy_price,
    k_factor,
    ladder_amount,
    plan_bargain,
    plan_redpacket,
    seeded,
    split_plan,
)


@st.composite
def plans(draw: st.DrawFn) -> tuple[int, int, float]:
    steps = draw(st.integers(min_value=1, max_value=60))
    share = draw(st.floats(min_value=0.5, max_value=0.99))
    least = max(math.ceil((steps - 1) / (1 - share)) + 1, steps)
    total = draw(st.integers(min_value=least, max_value=least + 1_000_000))
    return total, steps, share


@settings(max_examples=300, deadline=None)
@given(plans(), st.text(max_size=8))
def test_bargain_cuts(plan: tuple[int, int, float], seed: str) -> None:
    gap, helpers, share = plan
    price, target = gap + 990, 990
    cuts = plan_bargain(price, target, helpers, share, seed)
    assert len(cuts) == helpers  # the target is reached at exactly N helpers …
    assert sum(cuts) == price - target  # … and not before: every cut is positive
    assert all(c >= 1 for c in cuts)
    assert cuts[0] >= math.ceil(share * gap)  # the first cut takes ≥ the share of the gap
    assert all(a >= b for a, b in itertools.pairwise(cuts))  # later cuts shrink
    assert cuts == plan_bargain(price, target, helpers, share, seed)  # a replay agrees


@settings(max_examples=300, deadline=None)
@given(plans(), st.text(max_size=8))
def test_redpacket_helps(plan: tuple[int, int, float], seed: str) -> None:
    target, helpers, share = plan
    helps = plan_redpacket(target, helpers, share, seed)
    assert len(helps) == helpers and sum(helps) == target
    assert min(helps) >= 1 and helps[0] >= math.ceil(share * target)
    progress = 0
    for n, h in enumerate(helps, start=1):
        progress += h
        assert (progress == target) == (n == helpers)


@given(st.integers(1, 100), st.integers(1, 200), st.floats(0.5, 0.99))
def test_infeasible_plans_are_refused(total: int, steps: int, share: float) -> None:
    if feasible(total, steps, share):
        assert sum(split_plan(total, steps, share, seeded(total))) == total
    else:
        try:
            split_plan(total, steps, share, seeded(total))
        except ValueError:
            return
        raise AssertionError("an infeasible plan was accepted")


def test_ladder_thresholds_and_k_factor() -> None:
    steps = [(1, 1000), (5, 2000)]
    assert [ladder_amount(n, steps) for n in (1, 4, 5, 10)] == [1000, 1000, 2000, 2000]
    assert group_buy_price(9900, 29, [(30, 100), (60, 0)]) == 9900
    assert group_buy_price(9900, 30, [(30, 100), (60, 0)]) == 100
    assert group_buy_price(9900, 61, [(30, 100), (60, 0)]) == 0
    assert k_factor(10, 20, 15) == 1.5
    assert k_factor(0, 0, 0) is None
