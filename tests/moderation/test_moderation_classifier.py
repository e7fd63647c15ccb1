"""The text classifier: equal to scikit-learn's model, versioned by its samples, explained."""

from __future__ import annotations

import math

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from shequn.moderation.classifier import (
    ALGORITHM,
    features,
    starter_model,
    starter_samples,
    train,
    workspace_model,
)
from shequn.moderation.normalize import default_normalizer

norm = default_normalizer()

# A kind of spam the word lists do not know, written for this test: airdrop scams.
SPAM = [
    f"{coin}空投活动第{i}期开始，连接钱包即可领取{i * 50}枚"
    for i in range(1, 16)
    for coin in ("BTC", "新币")
]
CLEAN = [f"第{i}次提醒大家，钱包助记词不要发给任何人，注意安全" for i in range(1, 16)] + [
    f"今天第{i}节课讲区块链的原理，作业周五交" for i in range(1, 16)
]
SAMPLES = [(True, t) for t in SPAM] + [(False, t) for t in CLEAN]


def test_scores_equal_scikit_learn() -> None:
    model = train(SAMPLES)
    assert model is not None
    # The same pipeline in scikit-learn, scored the usual way.
    grams = [sorted(features(norm(text))) for _, text in SAMPLES]
    vectorizer = TfidfVectorizer(analyzer=lambda g: g, binary=True, norm="l2", min_df=2)
    matrix = vectorizer.fit_transform(grams)
    reference = LogisticRegression(C=30.0, max_iter=5000, class_weight="balanced")
    reference.fit(matrix, [spam for spam, _ in SAMPLES])
    for text in ("ETH空投活动开始，连接钱包领取200枚", "助记词不要发给别人", "今天天气不错"):
        expected = reference.predict_proba(vectorizer.transform([sorted(features(norm(text)))]))
        assert math.isclose(model.probability(norm(text)), expected[0][1], rel_tol=1e-6)


def test_training_is_deterministic_and_versioned_by_the_samples() -> None:
    first, again = train(SAMPLES), train(SAMPLES)
    assert first is not None and again is not None
    assert first.version == again.version and first.version.startswith(ALGORITHM)
    assert first.weights == again.weights
    other = train(SAMPLES[:-1])
    assert other is not None and other.version != first.version


def test_a_finding_names_the_model_and_its_evidence() -> None:
    model = train(SAMPLES)
    assert model is not None
    score, finding = model.finding(norm("ETH空投活动开始了，连接钱包就能领取300枚"), 0.8)
    assert finding is not None and score >= 0.8
    assert finding.detector == "classifier" and finding.value is not None
    assert finding.value.startswith(model.version)
    assert "「" in finding.evidence  # the n-grams that weighed most
    score, finding = model.finding(norm("钱包助记词一定要备份好"), 0.8)
    assert finding is None and score < 0.8


def test_one_label_alone_trains_nothing() -> None:
    assert train([(True, "a"), (True, "b")]) is None


def test_the_starter_model_and_a_workspace_model() -> None:
    starter = starter_model()
    assert workspace_model([]) is starter
    # An offer without any contact route, in the starter corpus's kinds.
    assert starter.probability(norm("低息贷款当天到账，不看征信，有需要的私聊")) > 0.9
    assert starter.probability(norm("明天下午三点开会，大家别迟到")) < 0.5
    own = workspace_model(SAMPLES)
    assert own is not None and own.version != starter.version
    assert workspace_model(SAMPLES) is own  # trained once per set of samples
    assert own.probability(norm("新币空投活动开始，连接钱包即可领取100枚")) > 0.9


def test_the_shipped_starter_model_is_the_starter_corpus_trained() -> None:
    shipped = starter_model()
    fresh = train(starter_samples())
    assert fresh is not None
    # Edit starter.tsv, then `python -m shequn.moderation.classifier` writes the model again.
    assert shipped.version == fresh.version
    assert shipped.weights.keys() == fresh.weights.keys()
    assert all(
        math.isclose(shipped.weights[g], fresh.weights[g], rel_tol=1e-4, abs_tol=1e-6)
        for g in fresh.weights
    )
    text = norm("低息贷款当天到账，不看征信")
    assert math.isclose(shipped.probability(text), fresh.probability(text), rel_tol=1e-4)
