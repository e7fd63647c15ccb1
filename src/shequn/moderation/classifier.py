"""The text classifier that learns: logistic regression over character 1–3-grams of the
normalised text, trained with scikit-learn on labelled samples, scored in plain Python.

Offer spam without any contact route (loans, "earn ¥800 a week", 代理 / 招商, 超级签) is what
a word list misses and a classifier catches. Training is scikit-learn's; scoring one message
is a few dictionary look-ups (`TextModel.score`), the same number as scikit-learn's
`predict_proba` but without its per-call overhead, so it fits the message path.

A model is named by its `version`: a digest of the algorithm and of the exact samples it was
trained on, in order. Training is deterministic, so the same samples give the same model and
a replay that names the version gets the same scores.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from shequn.moderation.findings import Finding
from shequn.moderation.normalize import Normalized, Normalizer, default_normalizer

__all__ = [
    "ALGORITHM",
    "Score",
    "TextModel",
    "starter_model",
    "starter_samples",
    "train",
    "version_of",
    "workspace_model",
    "write_starter_model",
]

ALGORITHM = "lr-char13-v1"
"""Changes whenever features or training change, so old and new models never share a name."""

# Digits say little about spam but a lot about one ad's id: every run is one "0".
_DIGITS_RE = re.compile(r"[0-9]+")
_C = 30.0  # weak regularisation: n-gram weights are what tells kinds of spam apart
_MIN_DF = 2  # an n-gram seen once is noise, and the model stays small


def features(text: Normalized) -> set[str]:
    """The character 1–3-grams of the spaced normal form, digits collapsed, each once."""
    form = " " + _DIGITS_RE.sub("0", text.spaced) + " "
    size = len(form)
    grams = {form[i : i + n] for n in (1, 2, 3) for i in range(size - n + 1)}
    grams.discard(" ")
    return grams


@dataclass(frozen=True, slots=True)
class Score:
    """A message's spam probability, with the n-grams that pushed it up the most."""

    probability: float
    top: tuple[str, ...]


class TextModel:
    """A trained model as two dictionaries: n-gram → weight, n-gram → squared idf.

    Equal to scikit-learn's TF-IDF (binary, l2-normalised) followed by logistic regression:
    score = sigmoid(bias + Σ weight / √Σ idf²) over the message's known n-grams.
    """

    __slots__ = ("bias", "idf2", "samples", "version", "weights")

    def __init__(
        self,
        version: str,
        weights: dict[str, float],
        idf2: dict[str, float],
        bias: float,
        samples: int,
    ) -> None:
        self.version = version
        self.weights = weights
        self.idf2 = idf2
        self.bias = bias
        self.samples = samples

    def __repr__(self) -> str:
        return f"TextModel({self.version}, {len(self.weights)} n-grams, {self.samples} samples)"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "bias": self.bias,
            "samples": self.samples,
            "ngrams": {gram: [self.weights[gram], self.idf2[gram]] for gram in self.weights},
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TextModel:
        ngrams: dict[str, list[float]] = doc["ngrams"]
        return cls(
            doc["version"],
            {gram: pair[0] for gram, pair in ngrams.items()},
            {gram: pair[1] for gram, pair in ngrams.items()},
            float(doc["bias"]),
            int(doc["samples"]),
        )

    def probability(self, text: Normalized) -> float:
        return self._probability(features(text) & self.weights.keys())

    def _probability(self, known: set[str]) -> float:
        if not known:
            return _sigmoid(self.bias)
        weights, idf2 = self.weights, self.idf2
        norm = math.sqrt(sum([idf2[gram] for gram in known]))
        return _sigmoid(self.bias + sum([weights[gram] for gram in known]) / norm)

    def score(self, text: Normalized, *, top: int = 3) -> Score:
        """The probability and the `top` n-grams that raised it most."""
        known = features(text) & self.weights.keys()
        weights = self.weights
        leading = sorted(known, key=lambda gram: (-weights[gram], gram))[:top]
        top_grams = tuple(g.strip() for g in leading if weights[g] > 0)
        return Score(self._probability(known), top_grams)

    def finding(self, text: Normalized, threshold: float) -> tuple[float, Finding | None]:
        """The score and, at or over `threshold`, a finding that names the model version
        and quotes the n-grams that weighed most (the evidence staff see)."""
        probability = self.probability(text)
        if probability < threshold:
            return probability, None
        found = self.score(text)
        evidence = f"{found.probability:.2f} 「{'」「'.join(found.top)}」" if found.top else ""
        value = f"{self.version} {found.probability:.2f}"
        return found.probability, Finding("classifier", "ads", evidence, "high", value)


def _sigmoid(z: float) -> float:
    if z < -60:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def version_of(samples: Sequence[tuple[bool, str]]) -> str:
    digest = hashlib.blake2b(ALGORITHM.encode(), digest_size=6)
    for spam, text in samples:
        digest.update(b"1" if spam else b"0")
        digest.update(text.encode())
        digest.update(b"\x00")
    return f"{ALGORITHM}-{digest.hexdigest()}"


def train(
    samples: Iterable[tuple[bool, str]], normalizer: Normalizer | None = None
) -> TextModel | None:
    """A model from (spam?, text) samples; None without both spam and clean ones."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [(spam, text) for spam, text in samples if text.strip()]
    labels = [spam for spam, _ in rows]
    if len(set(labels)) < 2:
        return None
    normalize = normalizer or default_normalizer()
    grams = [features(normalize(text)) for _, text in rows]
    vectorizer = TfidfVectorizer(
        analyzer=_identity, binary=True, norm="l2", min_df=min(_MIN_DF, len(rows))
    )
    matrix = vectorizer.fit_transform(grams)
    model = LogisticRegression(C=_C, max_iter=5000, class_weight="balanced")
    model.fit(matrix, labels)
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    idf = vectorizer.idf_
    coef = model.coef_[0]
    weights = {gram: float(coef[i] * idf[i]) for gram, i in vocabulary.items()}
    idf2 = {gram: float(idf[i] ** 2) for gram, i in vocabulary.items()}
    return TextModel(version_of(rows), weights, idf2, float(model.intercept_[0]), len(rows))


def _identity(grams: set[str]) -> list[str]:
    return sorted(grams)


def starter_samples() -> list[tuple[bool, str]]:
    """The shipped starter corpus: ads and clean chat written for Shequn, free to ship."""
    data = resources.files("shequn.moderation") / "data" / "starter.tsv"
    rows = []
    for line in data.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, _, text = line.partition("\t")
            rows.append((label == "ad", text))
    return rows


STARTER_MODEL = "starter_model.json"
"""The starter model as shipped: trained on `starter.tsv` by `write_starter_model`, so a
workspace without samples never loads scikit-learn or waits for training."""


@cache
def starter_model() -> TextModel:
    """The model of the starter corpus alone: what a workspace without samples uses."""
    data = resources.files("shequn.moderation") / "data" / STARTER_MODEL
    return TextModel.from_json(orjson.loads(data.read_bytes()))


def write_starter_model(path: Path) -> TextModel:
    """Train the starter model on the starter corpus and write it (run after editing
    `starter.tsv`: `python -m shequn.moderation.classifier`; a test checks it is current)."""
    model = train(starter_samples())
    assert model is not None
    path.write_bytes(orjson.dumps(model.to_json(), option=orjson.OPT_SORT_KEYS) + b"\n")
    return model


if __name__ == "__main__":
    target = Path(__file__).parent / "data" / STARTER_MODEL
    print(write_starter_model(target))


_TRAINED: dict[str, TextModel | None] = {}
_KEEP_MODELS = 16


def workspace_model(own: Sequence[tuple[bool, str]]) -> TextModel | None:
    """The model for a workspace with these samples (in the order they were taken): the
    starter model when there are none, else the starter corpus and the samples trained
    together. Trained once per distinct set of samples in a process."""
    if not own:
        return starter_model()
    rows = [*starter_samples(), *own]
    version = version_of(rows)
    if version not in _TRAINED:
        if len(_TRAINED) >= _KEEP_MODELS:
            _TRAINED.pop(next(iter(_TRAINED)))
        _TRAINED[version] = train(rows)
    return _TRAINED[version]
