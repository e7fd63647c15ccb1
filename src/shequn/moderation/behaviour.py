"""Behavioural detectors: small state machines the engine keeps per workspace.

Flooding, the same text across groups, and similarity to spam samples staff have marked.
They take explicit timestamps in seconds (e.g. `event.at.timestamp()`) and never read the
clock, so replaying a history gives the same findings.
"""

from __future__ import annotations

import re
from bisect import insort
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from shequn.moderation.findings import Finding
from shequn.moderation.normalize import Normalized, Normalizer, default_normalizer

__all__ = ["DuplicateDetector", "FloodDetector", "Similarity", "SpamSamples"]

# State for keys idle longer than their window is dropped every this many observations,
# so memory follows the active members, not everyone ever seen.
_PRUNE_EVERY = 4096


class FloodDetector:
    """Flooding 刷屏: `max_messages` or more from one member in one group within
    `window_seconds`. Every message at or over the limit gets a finding."""

    def __init__(self, max_messages: int = 6, window_seconds: float = 10.0) -> None:
        if max_messages < 2 or window_seconds <= 0:
            raise ValueError("flooding needs at least 2 messages and a positive window")
        self.max_messages = max_messages
        self.window_seconds = window_seconds
        self._recent: dict[tuple[str, str], list[float]] = {}
        self._observed = 0

    def observe(self, group: str, member: str, at: float) -> Finding | None:
        times = self._recent.setdefault((group, member), [])
        insort(times, at)  # events may arrive slightly out of order
        if len(times) > self.max_messages:
            del times[0]
        self._observed += 1
        if self._observed % _PRUNE_EVERY == 0:
            self.prune(at)
        span = times[-1] - times[0]
        if len(times) < self.max_messages or span > self.window_seconds:
            return None
        evidence = f"{len(times)} messages in {span:g} s"
        return Finding("flood", "spam", evidence, "medium", str(len(times)))

    def prune(self, now: float) -> None:
        """Forget members whose last message is older than the window."""
        horizon = now - self.window_seconds
        stale = [key for key, times in self._recent.items() if times[-1] < horizon]
        for key in stale:
            del self._recent[key]

    def __len__(self) -> int:
        return len(self._recent)


@dataclass(slots=True)
class _Sighting:
    at: float
    member: str


class DuplicateDetector:
    """The same text in `min_groups` or more groups within `window_seconds`.

    Texts are compared by their normalised form, so emoji, spacing and full-width tricks
    do not make copies different. With `scope="member"` (the default) one member must
    post all copies: many people forwarding the same greeting is not spam; with
    `scope="anyone"` copies from different members count too (spam rings).
    Texts shorter than `min_length` normalised characters (签到, 收到, +1) are ignored.
    """

    def __init__(
        self,
        min_groups: int = 3,
        window_seconds: float = 600.0,
        *,
        min_length: int = 8,
        scope: Literal["member", "anyone"] = "member",
        normalizer: Normalizer | None = None,
    ) -> None:
        if min_groups < 2 or window_seconds <= 0:
            raise ValueError("duplicates need at least 2 groups and a positive window")
        self.min_groups = min_groups
        self.window_seconds = window_seconds
        self.min_length = min_length
        self.scope = scope
        self.normalizer = normalizer or default_normalizer()
        self._seen: dict[tuple[str, str], dict[str, _Sighting]] = {}
        self._observed = 0

    def observe(self, group: str, member: str, text: Normalized | str, at: float) -> Finding | None:
        norm = text if isinstance(text, Normalized) else self.normalizer(text)
        fingerprint = norm.text
        if len(fingerprint) < self.min_length:
            return None
        key = (member if self.scope == "member" else "", fingerprint)
        groups = self._seen.setdefault(key, {})
        horizon = at - self.window_seconds
        for old_group in [g for g, seen in groups.items() if seen.at < horizon]:
            del groups[old_group]
        previous = groups.get(group)
        groups[group] = _Sighting(max(at, previous.at) if previous else at, member)
        self._observed += 1
        if self._observed % _PRUNE_EVERY == 0:
            self.prune(at)
        if len(groups) < self.min_groups:
            return None
        evidence = norm.original[:200]
        return Finding("duplicate", "spam", evidence, "high", f"{len(groups)} groups")

    def groups_with(self, member: str, text: Normalized | str) -> list[str]:
        """The groups where `text` was seen recently (for the evidence of a decision)."""
        norm = text if isinstance(text, Normalized) else self.normalizer(text)
        key = (member if self.scope == "member" else "", norm.text)
        return sorted(self._seen.get(key, {}))

    def prune(self, now: float) -> None:
        """Forget texts not seen within the window."""
        horizon = now - self.window_seconds
        stale = [
            key
            for key, groups in self._seen.items()
            if all(seen.at < horizon for seen in groups.values())
        ]
        for key in stale:
            del self._seen[key]

    def __len__(self) -> int:
        return len(self._seen)


# Ids, phone numbers and amounts: any Latin/digit token with a digit in it.
_TOKEN_WITH_DIGITS = re.compile(r"[a-z]*[0-9][a-z0-9]*")


@dataclass(frozen=True, slots=True)
class Similarity:
    """The closest spam and clean samples to a text, by Jaccard similarity of shingles."""

    spam: float
    spam_sample: str | None
    clean: float
    clean_sample: str | None


@dataclass(frozen=True, slots=True)
class _Sample:
    sample_id: str
    label: Literal["spam", "clean"]
    shingles: frozenset[str]
    order: int


class SpamSamples:
    """Similarity to messages staff marked as spam (and, after a revert, as clean).

    Texts are compared as sets of character 3-grams of their normalised form, with every
    id, number or amount (a Latin/digit token containing a digit) collapsed to "0", so a
    template reposted with a new id or phone number still matches. A text is flagged when
    its best spam sample reaches `threshold` and is closer than any clean sample.
    """

    def __init__(
        self,
        threshold: float = 0.6,
        *,
        min_length: int = 6,
        normalizer: Normalizer | None = None,
    ) -> None:
        if not 0 < threshold <= 1:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.min_length = min_length
        self.normalizer = normalizer or default_normalizer()
        self._samples: dict[str, _Sample] = {}
        self._index: dict[str, set[str]] = {}
        self._next_id = 0

    def __len__(self) -> int:
        return len(self._samples)

    def shingles(self, text: Normalized | str) -> frozenset[str]:
        compact = text.text if isinstance(text, Normalized) else self.normalizer.text(text)
        compact = _TOKEN_WITH_DIGITS.sub("0", compact)
        if len(compact) < 3:
            return frozenset((compact,)) if compact else frozenset()
        return frozenset(compact[i : i + 3] for i in range(len(compact) - 2))

    def add(
        self,
        text: Normalized | str,
        *,
        label: Literal["spam", "clean"] = "spam",
        sample_id: str | None = None,
    ) -> str:
        """Store a sample and return its id (given, or made up as `s<number>`)."""
        self._next_id += 1
        if sample_id is None:
            sample_id = f"s{self._next_id}"
        self.remove(sample_id)
        sample = _Sample(sample_id, label, self.shingles(text), self._next_id)
        self._samples[sample_id] = sample
        for shingle in sample.shingles:
            self._index.setdefault(shingle, set()).add(sample_id)
        return sample_id

    def remove(self, sample_id: str) -> bool:
        sample = self._samples.pop(sample_id, None)
        if sample is None:
            return False
        for shingle in sample.shingles:
            ids = self._index[shingle]
            ids.discard(sample_id)
            if not ids:
                del self._index[shingle]
        return True

    def similarity(self, text: Normalized | str) -> Similarity:
        shingles = self.shingles(text)
        overlap: Counter[str] = Counter()
        for shingle in shingles:
            overlap.update(self._index.get(shingle, ()))
        # Ranked by score, then by age, so ties never depend on set iteration order.
        best: dict[str, tuple[float, int, str | None]] = {
            "spam": (0.0, 0, None),
            "clean": (0.0, 0, None),
        }
        for sample_id, shared in overlap.items():
            sample = self._samples[sample_id]
            score = shared / (len(shingles) + len(sample.shingles) - shared)
            if (score, -sample.order) > best[sample.label][:2]:
                best[sample.label] = (score, -sample.order, sample_id)
        spam, clean = best["spam"], best["clean"]
        return Similarity(spam[0], spam[2], clean[0], clean[2])

    def check(self, text: Normalized | str) -> Finding | None:
        norm = text if isinstance(text, Normalized) else self.normalizer(text)
        if len(norm.text) < self.min_length or not self._samples:
            return None
        found = self.similarity(norm)
        if found.spam < self.threshold or found.clean >= found.spam:
            return None
        evidence = norm.original[:200]
        return Finding("similar", "spam", evidence, "high", found.spam_sample)
