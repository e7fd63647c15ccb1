from __future__ import annotations

from shequn.moderation.findings import CATEGORIES
from shequn.moderation.wordlist import (
    WordList,
    WordMatcher,
    builtin_lists,
    format_words,
    parse_words,
)


def test_parse_ignores_comments_blank_lines_and_repeats() -> None:
    text = "# 广告词\n\n刷单\n  兼职日结  \n# another comment\n刷单\n\n"
    assert parse_words(text) == ["刷单", "兼职日结"]


def test_plain_text_round_trip() -> None:
    words = ["刷单", "兼职日结", "bet365", "加 微 信"]
    text = format_words(words, header=["list: ads", "category: ads"])
    assert text.startswith("# list: ads\n# category: ads\n")
    assert parse_words(text) == words


def test_word_list_round_trip_keeps_words_and_says_what_it_is() -> None:
    original = WordList("competitors", "competitors", ("某某社群", "竞品app"), action="notify")
    text = original.to_text()
    assert "# action: notify" in text
    again = WordList.from_text("competitors", "competitors", text, action="notify")
    assert again == original


def test_extending_a_list_keeps_order_and_drops_repeats() -> None:
    base = WordList("ads", "ads", ("刷单", "网赚"))
    assert base.extended(["网赚", " 代刷 ", ""]).words == ("刷单", "网赚", "代刷")


def test_builtin_lists() -> None:
    lists = {lst.name: lst for lst in builtin_lists()}
    assert set(lists) == {
        "ads", "gambling", "porn", "ads-context", "gambling-context", "porn-context"
    }  # fmt: skip
    assert all(lst.category in CATEGORIES for lst in lists.values())
    assert sum(len(lst.words) for lst in lists.values()) >= 300
    assert "兼职刷单" in lists["ads"].words
    assert "百家乐" in lists["gambling"].words
    # Context words (written ~word in the files) are weak findings of their own list.
    assert "老虎机" in lists["gambling-context"].words
    assert "啪啪啪" not in lists["porn"].words
    assert {lst.severity for name, lst in lists.items() if name.endswith("-context")} == {"low"}
    assert all(not w.startswith("~") for lst in lists.values() for w in lst.words)


def test_matching_resists_evasion_and_reports_the_list() -> None:
    matcher = WordMatcher(
        [
            WordList("ads", "ads", ("刷单", "加微信")),
            WordList("gambling", "gambling", ("赌场",), action="remove"),
        ]
    )
    found = matcher.find("兼职 刷😀单，加 V 信，賭場")
    assert [(m.word, m.list.name) for m in found] == [
        ("刷单", "ads"),
        ("加微信", "ads"),
        ("赌场", "gambling"),
    ]
    assert found[2].list.action == "remove"


def test_words_are_normalised_before_compiling() -> None:
    matcher = WordMatcher([WordList("ads", "ads", ("ＶＸ刷单",))])
    assert [m.normalized for m in matcher.find("微信刷单")] == ["微信刷单"]


def test_longest_word_wins() -> None:
    matcher = WordMatcher([WordList("ads", "ads", ("刷单", "刷单兼职"))])
    assert [m.word for m in matcher.find("急招刷单兼职")] == ["刷单兼职"]


def test_same_word_in_two_lists_is_reported_for_each() -> None:
    matcher = WordMatcher(
        [WordList("a", "ads", ("网赚",)), WordList("b", "competitors", ("網賺",))]
    )
    assert len(matcher) == 1
    assert [(m.word, m.list.name) for m in matcher.find("网赚项目")] == [
        ("网赚", "a"),
        ("網賺", "b"),
    ]


def test_latin_words_need_word_boundaries() -> None:
    matcher = WordMatcher([WordList("gambling", "gambling", ("bet365", "pk10"))])
    assert [m.word for m in matcher.find("来玩bet365，北京pk10")] == ["bet365", "pk10"]
    assert matcher.find("alphabet3651") == []


def test_empty_words_are_skipped() -> None:
    matcher = WordMatcher([WordList("ads", "ads", ("★", "刷单"))])
    assert len(matcher) == 1
