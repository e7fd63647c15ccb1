from __future__ import annotations

import pytest

from shequn.moderation.behaviour import DuplicateDetector, FloodDetector, SpamSamples

AD = "兼职刷单，日结300，加薇信 abc123 详聊"


# --- flooding --------------------------------------------------------------------------


def test_flood_at_the_limit_within_the_window() -> None:
    flood = FloodDetector(max_messages=6, window_seconds=10)
    results = [flood.observe("g1", "u1", at) for at in (0, 1, 2, 3, 4, 9.5)]
    assert results[:5] == [None] * 5
    finding = results[5]
    assert finding is not None
    assert (finding.detector, finding.value, finding.evidence) == (
        "flood",
        "6",
        "6 messages in 9.5 s",
    )
    assert flood.observe("g1", "u1", 10) is not None  # still flooding


def test_no_flood_when_spread_out() -> None:
    flood = FloodDetector(max_messages=6, window_seconds=10)
    assert all(flood.observe("g1", "u1", at * 2.5) is None for at in range(20))


def test_flood_counts_per_member_and_group() -> None:
    flood = FloodDetector(max_messages=3, window_seconds=10)
    assert flood.observe("g1", "u1", 0) is None
    assert flood.observe("g2", "u1", 1) is None
    assert flood.observe("g1", "u2", 2) is None
    assert flood.observe("g1", "u1", 3) is None
    assert flood.observe("g1", "u1", 4) is not None


def test_flood_with_events_out_of_order() -> None:
    flood = FloodDetector(max_messages=3, window_seconds=10)
    assert flood.observe("g", "u", 100) is None
    assert flood.observe("g", "u", 50) is None
    assert flood.observe("g", "u", 95) is None  # 50 is too old: 95, 100 only
    assert flood.observe("g", "u", 99) is not None


def test_flood_prune_forgets_quiet_members() -> None:
    flood = FloodDetector(max_messages=3, window_seconds=10)
    flood.observe("g", "u1", 0)
    flood.observe("g", "u2", 100)
    flood.prune(now=105)
    assert len(flood) == 1


def test_flood_rejects_nonsense_limits() -> None:
    with pytest.raises(ValueError):
        FloodDetector(max_messages=1)


# --- the same text across groups --------------------------------------------------------


def test_same_text_in_three_groups_within_ten_minutes() -> None:
    dup = DuplicateDetector()
    assert dup.observe("g1", "u1", AD, at=0) is None
    assert dup.observe("g2", "u1", AD, at=200) is None
    finding = dup.observe("g3", "u1", AD, at=590)
    assert finding is not None
    assert (finding.detector, finding.value, finding.evidence) == ("duplicate", "3 groups", AD)
    assert dup.groups_with("u1", AD) == ["g1", "g2", "g3"]


def test_copies_that_differ_only_by_evasion_are_the_same_text() -> None:
    dup = DuplicateDetector()
    dup.observe("g1", "u1", AD, at=0)
    dup.observe("g2", "u1", "兼职 刷单😀 日结300 加薇信abc123详聊", at=1)
    assert dup.observe("g3", "u1", "兼職刷單，日結300，加薇信 ABC123 詳聊", at=2) is not None


def test_copies_spread_over_more_than_the_window() -> None:
    dup = DuplicateDetector()
    assert dup.observe("g1", "u1", AD, at=0) is None
    assert dup.observe("g2", "u1", AD, at=400) is None
    assert dup.observe("g3", "u1", AD, at=601) is None  # g1 was 601 s ago
    assert dup.observe("g4", "u1", AD, at=700) is not None


def test_same_group_repeated_is_not_cross_group() -> None:
    dup = DuplicateDetector()
    assert all(dup.observe("g1", "u1", AD, at=t) is None for t in range(5))


def test_short_texts_are_ignored() -> None:
    dup = DuplicateDetector()
    assert all(dup.observe(f"g{i}", "u1", "收到，谢谢", at=i) is None for i in range(5))


def test_scope_member_or_anyone() -> None:
    per_member = DuplicateDetector()
    anyone = DuplicateDetector(scope="anyone")
    for i in range(3):
        assert per_member.observe(f"g{i}", f"u{i}", AD, at=i) is None
    results = [anyone.observe(f"g{i}", f"u{i}", AD, at=i) for i in range(3)]
    assert results[2] is not None


def test_duplicate_prune() -> None:
    dup = DuplicateDetector()
    dup.observe("g1", "u1", AD, at=0)
    dup.observe("g1", "u2", "另一条足够长的测试消息内容", at=1000)
    dup.prune(now=1000)
    assert len(dup) == 1


# --- similarity to marked spam ------------------------------------------------------------


def test_reposted_template_with_new_id_is_similar() -> None:
    samples = SpamSamples()
    sample_id = samples.add(AD)
    finding = samples.check("兼职刷单！日结500～加威信 xyz789 详聊")
    assert finding is not None
    assert (finding.detector, finding.value) == ("similar", sample_id)


def test_unrelated_chat_is_not_similar() -> None:
    samples = SpamSamples()
    samples.add(AD)
    assert samples.check("今天的直播几点开始呀？我想看看新品") is None
    assert samples.check("刷单") is None  # too short to compare


def test_clean_sample_wins_over_spam_sample() -> None:
    samples = SpamSamples()
    samples.add("群里有人发刷单兼职的广告，大家别信")
    assert samples.check("群里有人发刷单兼职广告，大家别信啊") is not None
    samples.add("群里有人发刷单兼职的广告，大家别信", label="clean")
    assert samples.check("群里有人发刷单兼职广告，大家别信啊") is None


def test_remove_sample() -> None:
    samples = SpamSamples()
    samples.add(AD, sample_id="m-42")
    assert samples.remove("m-42")
    assert not samples.remove("m-42")
    assert len(samples) == 0
    assert samples.check(AD) is None


def test_similarity_scores_are_deterministic() -> None:
    samples = SpamSamples(threshold=0.5)
    samples.add("加微信领取福利 abc123", sample_id="first")
    samples.add("加微信领取福利 xyz789", sample_id="second")  # same shingles
    similarity = samples.similarity("加微信领取福利 qwe456")
    assert similarity.spam == 1.0
    assert similarity.spam_sample == "first"  # ties go to the earlier sample
