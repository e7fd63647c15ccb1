"""Detection quality on a labelled file: recall on spam, false positives on clean messages,
what caught what, and the worst misses — so rules and models are judged on real traffic.

The file is one message a line, `label<TAB>text`; a label of 1/spam/ad is spam and 0/clean/
ham is clean. `--train` fits the classifier on another labelled file first (a workspace's
imported history); `folds` cross-validates instead: each fold is judged by a model trained
on the other folds, as if the rest had been imported.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shequn.config.moderation import ModerationSection
from shequn.moderation.classifier import TextModel, workspace_model
from shequn.moderation.detectors import Message, ScanConfig, scan
from shequn.moderation.findings import Finding
from shequn.moderation.verdict import punishing

__all__ = ["Labelled", "QualityReport", "load_labelled", "measure", "parse_labelled", "split_folds"]

_SPAM_LABELS = frozenset({"1", "spam", "ad", "ads"})
_CLEAN_LABELS = frozenset({"0", "clean", "ham"})

# How many misses and false positives a report quotes, and how much of each text.
_QUOTED = 10
_QUOTE_CHARS = 120


@dataclass(frozen=True, slots=True)
class Labelled:
    spam: bool
    text: str


class LabelError(ValueError):
    """A line of a labelled file has no known label."""


def parse_labelled(lines: Iterable[str]) -> list[Labelled]:
    """Labelled messages from `label<TAB>text` lines; blank lines and `#` comments skipped."""
    rows: list[Labelled] = []
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        label, tab, text = line.partition("\t")
        label = label.strip().lower()
        if not tab or label not in _SPAM_LABELS | _CLEAN_LABELS:
            raise LabelError(f"line {number}: expected label<TAB>text with label 1/0 or spam/clean")
        if text.strip():
            rows.append(Labelled(label in _SPAM_LABELS, text))
    return rows


def load_labelled(path: Path) -> list[Labelled]:
    with path.open(encoding="utf-8") as file:
        return parse_labelled(file)


def split_folds(rows: Sequence[Labelled], folds: int) -> list[list[Labelled]]:
    """`folds` parts by a hash of each text: the same file always splits the same way."""
    parts: list[list[Labelled]] = [[] for _ in range(folds)]
    for row in rows:
        digest = hashlib.blake2b(row.text.encode(), digest_size=4).digest()
        parts[int.from_bytes(digest) % folds].append(row)
    return parts


Judge = Callable[[str], Sequence[Finding]]
"""The punishing findings on one text: empty means the message stays up."""


@dataclass
class QualityReport:
    spam: int = 0
    clean: int = 0
    caught: int = 0
    punished: int = 0
    caught_by: Counter[str] | None = None
    punished_by: Counter[str] | None = None
    misses: list[str] | None = None
    false_positives: list[tuple[str, str]] | None = None

    def __post_init__(self) -> None:
        self.caught_by = Counter()
        self.punished_by = Counter()
        self.misses = []
        self.false_positives = []

    @property
    def recall(self) -> float:
        return self.caught / self.spam if self.spam else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.punished / self.clean if self.clean else 0.0

    def add(self, row: Labelled, findings: Sequence[Finding]) -> None:
        assert self.caught_by is not None and self.punished_by is not None
        assert self.misses is not None and self.false_positives is not None
        detectors = sorted({f.detector for f in findings})
        if row.spam:
            self.spam += 1
            if findings:
                self.caught += 1
                self.caught_by.update(detectors)
            else:
                self.misses.append(row.text)
        else:
            self.clean += 1
            if findings:
                self.punished += 1
                self.punished_by.update(detectors)
                evidence = "; ".join(f"{f.detector}:{f.value or f.evidence}" for f in findings)
                self.false_positives.append((row.text, evidence))

    def as_json(self) -> dict[str, Any]:
        assert self.caught_by is not None and self.punished_by is not None
        assert self.misses is not None and self.false_positives is not None
        # The worst misses: the longest texts that went through (short ones such as 口上 are
        # hopeless without context; a long ad that passes is what an operator notices).
        worst = sorted(self.misses, key=lambda text: (-len(text), text))[:_QUOTED]
        return {
            "spam": self.spam,
            "clean": self.clean,
            "recall": round(self.recall, 4),
            "false_positive_rate": round(self.false_positive_rate, 4),
            "caught_by": dict(self.caught_by.most_common()),
            "punished_by": dict(self.punished_by.most_common()),
            "worst_misses": [text[:_QUOTE_CHARS] for text in worst],
            "false_positives": [
                {"text": text[:_QUOTE_CHARS], "evidence": evidence[:_QUOTE_CHARS]}
                for text, evidence in self.false_positives[:_QUOTED]
            ],
        }


def measure(
    rows: Iterable[Labelled], judge: Judge, report: QualityReport | None = None
) -> QualityReport:
    report = report if report is not None else QualityReport()
    for row in rows:
        report.add(row, judge(row.text))
    return report


def content_judge(
    model: TextModel | None,
    *,
    newcomer: bool = False,
    config: ScanConfig | None = None,
    section: ModerationSection | None = None,
) -> Judge:
    """What the `moderation.content` rule decides on a text, without the behavioural checks:
    the scan, the classifier at the member's (or newcomer's) threshold, and the policy."""
    config = config or ScanConfig()
    section = section or ModerationSection()
    threshold = section.classifier_newcomer_threshold if newcomer else section.classifier_threshold
    normalizer = config.normalizer

    def judge(text: str) -> list[Finding]:
        norm = normalizer(text)
        findings = scan(Message(text), config, norm)
        score = None
        if model is not None:
            score, scored = model.finding(norm, threshold)
            if scored is not None:
                findings.append(scored)
        return punishing(findings, newcomer=newcomer, score=score)

    return judge


_PATHS = {"rules": (False, False), "member": (True, False), "newcomer": (True, True)}
"""The figures reported: the rule path alone, and rules with the classifier for a member and
for a newcomer (whose weak findings count and whose threshold is lower)."""


def bench_quality(
    corpus: Path, train: Path | None = None, folds: int | None = None
) -> list[dict[str, Any]]:
    """The figures of `shequn bench moderation-quality`, one JSON object per path.

    Without `train` or `folds` the classifier is the shipped starter model; with `train` it
    is retrained with that file as the workspace's samples; with `folds` each fold is judged
    by a model retrained with the other folds.
    """
    rows = load_labelled(corpus)
    if folds:
        parts = split_folds(rows, folds)
        plans = [
            (part, [(r.spam, r.text) for j, other in enumerate(parts) if j != i for r in other])
            for i, part in enumerate(parts)
        ]
        training = f"{folds}-fold cross-validation"
    elif train is not None:
        plans = [(rows, [(r.spam, r.text) for r in load_labelled(train)])]
        training = train.name
    else:
        plans = [(rows, [])]
        training = "starter"
    reports = {path: QualityReport() for path in _PATHS}
    versions = []
    for part, samples in plans:
        model = workspace_model(samples)
        versions.append(model.version if model is not None else None)
        for path, (classify, newcomer) in _PATHS.items():
            judge = content_judge(model if classify else None, newcomer=newcomer)
            measure(part, judge, reports[path])
    return [
        {
            "workload": "moderation-quality",
            "figure": f"moderation-quality {corpus.name} {path}",
            "corpus": corpus.name,
            "path": path,
            "training": training,
            "models": versions,
            **report.as_json(),
        }
        for path, report in reports.items()
    ]
