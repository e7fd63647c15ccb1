"""Detection quality on the labelled corpus, with the default configuration.

A message counts as caught (or, for clean chat, as punished) when `scan` returns at least
one punishing finding, i.e. anything but the low-severity card and mini-program ones.
"""

from __future__ import annotations

from pathlib import Path

from shequn.moderation.detectors import Message, scan

CORPUS = Path(__file__).parent / "data" / "corpus.tsv"


def load_corpus() -> list[tuple[str, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((label, text))
    return rows


def punished(text: str) -> bool:
    return any(finding.punishing for finding in scan(Message(text)))


def test_corpus_is_big_and_balanced() -> None:
    rows = load_corpus()
    labels = [label for label, _ in rows]
    assert set(labels) == {"ad", "clean"}
    assert len(rows) >= 300
    assert 0.4 <= labels.count("ad") / len(rows) <= 0.6
    texts = [text for _, text in rows]
    assert len(set(texts)) == len(texts)


def test_recall_and_false_punishments() -> None:
    rows = load_corpus()
    ads = [text for label, text in rows if label == "ad"]
    clean = [text for label, text in rows if label == "clean"]
    missed = [text for text in ads if not punished(text)]
    wrongly = [text for text in clean if punished(text)]
    recall = 1 - len(missed) / len(ads)
    false_punish_rate = len(wrongly) / len(clean)
    print(f"\nmoderation corpus: {len(ads)} ads, {len(clean)} clean")
    print(f"recall on ads: {recall:.3f}  missed: {missed}")
    print(f"clean messages punished: {false_punish_rate:.3%}  {wrongly}")
    assert recall >= 0.95
    assert false_punish_rate <= 0.01
