"""What a detector reports: a `Finding`, with the vocabulary of categories and severities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shequn.config.moderation import CATEGORIES, Action, Category

__all__ = ["CATEGORIES", "Action", "Category", "Finding", "Severity"]

Severity = Literal["low", "medium", "high"]
"""`low` findings (cards, mini-programs) are shown to staff but never punish on their own."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason to think a message is unwanted.

    `evidence` is quoted from the original message where the finding came from its text, so
    staff see what the member wrote, not the normalised form; `value` is the normalised
    thing that matched (domain, digits, id, word); `span` is the evidence's position in
    the original text. `action` is a word list's own action, when it has one.
    """

    detector: str
    category: Category
    evidence: str
    severity: Severity = "high"
    value: str | None = None
    span: tuple[int, int] | None = None
    action: Action | None = None

    @property
    def punishing(self) -> bool:
        return self.severity != "low"
