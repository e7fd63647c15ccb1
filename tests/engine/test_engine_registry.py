"""The rule registry: one name, one rule."""

from __future__ import annotations

import pytest

from shequn.actions import Decision
from shequn.engine.rules import Context, all_rules, rule
from shequn.events import Event


def test_every_rule_has_a_name_of_its_own() -> None:
    names = [r.qualname for r in all_rules()]
    assert len(names) == len(set(names))
    assert {"engagement.threshold", "engagement.threshold_met"} <= set(names)


def test_a_second_rule_under_a_taken_name_is_refused() -> None:
    all_rules()  # every domain registered
    with pytest.raises(ValueError, match=r"engagement\.threshold is registered twice"):

        @rule("engagement", "threshold", on=["member.left"])
        def another(event: Event, ctx: Context) -> list[Decision]:
            return []
