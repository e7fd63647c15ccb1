"""Which findings punish: the policy between detectors and the ladder.

Strong findings (a contact route, a listed ad word, a shortener) punish on their own. Weak
ones — a context word such as 啪啪啪 or 老虎机, a link to an unknown domain — punish only with
a second signal: another finding, a classifier score above `second_signal`, or a member
still in their newcomer window. Cards and mini-programs are shown to staff and never punish.
"""

from __future__ import annotations

from collections.abc import Sequence

from shequn.moderation.findings import Finding

__all__ = ["SECOND_SIGNAL", "punishing"]

SECOND_SIGNAL = 0.5
"""A classifier score that makes a weak finding count."""

_NEVER_ALONE = frozenset({"card"})


def punishing(
    findings: Sequence[Finding],
    *,
    newcomer: bool = False,
    score: float | None = None,
    second_signal: float = SECOND_SIGNAL,
) -> list[Finding]:
    """The findings that punish, strong first; empty when the message stays up."""
    strong = [f for f in findings if f.severity != "low"]
    weak = [f for f in findings if f.severity == "low" and f.detector not in _NEVER_ALONE]
    if not weak:
        return strong
    distinct = {(f.detector, f.value) for f in weak}
    if strong or newcomer or len(distinct) >= 2 or (score is not None and score >= second_signal):
        return strong + weak
    return strong
