from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shequn.moderation.normalize import Normalizer, default_normalizer

norm = default_normalizer()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width, case
        ("VX", "微信"),
        ("加 微 信", "加微信"),  # spaces between characters
        ("加*微*信", "加微信"),
        ("加.微.信", "加微信"),
        ("加😀微😀信", "加微信"),  # emoji
        ("加\u200b微\u200d信", "加微信"),  # zero-width characters
        ("加♥微★信", "加微信"),  # symbols
        ("𝐀𝐁𝐂", "abc"),  # styled letters
        ("vх", "微信"),  # Cyrillic х
        ("1️⃣3️⃣8️⃣", "138"),  # keycaps
    ],
)
def test_evasions_are_removed(raw: str, expected: str) -> None:
    assert norm.text(raw) == expected


@pytest.mark.parametrize(
    "variant", ["V信", "薇信", "威信", "微x", "vx", "wx", "Ｖ信", "薇♥信", "weixin", "V 信"]
)
def test_wechat_variants_become_wechat(variant: str) -> None:
    assert norm.text(variant) == "微信"


@pytest.mark.parametrize(("variant", "expected"), [("扣扣", "qq"), ("企鹅", "qq"), ("+q", "加q")])
def test_qq_variants(variant: str, expected: str) -> None:
    assert norm.text(variant) == expected


def test_plus_is_add() -> None:
    assert norm.text("+V") == "加v"
    assert norm.text("＋微") == "加微"


def test_hidden_digits_become_digits() -> None:
    assert norm.text("一三八 一二三四 五六七八") == "13812345678"
    assert norm.text("①③⑧①②③④⑤⑥⑦⑧") == "13812345678"
    assert norm.text("幺三八") == "幺三八"  # too short to be a number
    assert norm.text("1 3 八 一 2 3 4") == "1381234"


def test_numerals_in_words_are_kept() -> None:
    assert norm.text("一二三，上山打老虎") == "一二三上山打老虎"
    assert norm.text("周一三五上课") == "周一三五上课"
    # One numeral next to a number is a word, not part of the number.
    assert norm.text("mm66888 一对一") == "mm66888一对一"


def test_traditional_is_simplified_by_default() -> None:
    assert norm.text("賭場網站") == "赌场网站"
    assert Normalizer(traditional=False).text("賭場網站") == "賭場網站"


def test_spaced_form_keeps_boundaries() -> None:
    result = norm("访问 ＷＷＷ．ＡＢＣ。ＣＯＭ，价格139、1299")
    assert result.spaced == "访问 www.abc.com,价格139,1299"
    assert result.text == "访问wwwabccom价格1391299"


def test_has_number() -> None:
    assert norm("电话 138 1234").has_number
    assert norm("扣扣 九八七六五").has_number
    assert not norm("第1234期").has_number


def test_evidence_is_quoted_from_the_original() -> None:
    result = norm("快来 加V信：abc_123 哦")
    start = result.text.index("微信")
    assert result.quote(start, start + 2) == "V信"
    end = result.text.index("哦")
    assert result.quote(start - 1, end) == "加V信：abc_123"


def test_evidence_through_expanding_characters() -> None:
    result = norm("⑩号 加vx")
    assert result.text == "10号加微信"
    assert result.quote(0, 2) == "⑩"
    assert result.quote(3, 6) == "加vx"


_ALPHABET = st.sampled_from(
    list("abcvxqwXQV019 .-,、。，：*♥🙂\u200b⑩⑪一三八扣企鹅薇信微加賭場ＡＢ１𝐀㎏")
)


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(st.text(_ALPHABET, max_size=30))
def test_fast_position_map_matches_reference(raw: str) -> None:
    result = norm(raw)
    fast = (result._spaced_origins(), result._text_origins())
    assert fast == result._slow_origins()
    assert len(fast[0]) == len(result.spaced)
    assert len(fast[1]) == len(result.text)
    assert fast[1] == sorted(fast[1])


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(st.text(_ALPHABET, max_size=30))
def test_normalising_is_idempotent_on_the_compact_form(raw: str) -> None:
    once = norm.text(raw)
    assert norm.text(once) == once


def test_confusable_letters_fold_to_one_skeleton() -> None:
    # Latin o and p inside Cyrillic words, and the reverse, read as the same word.
    n = default_normalizer()
    assert n.text("гoлые") == n.text("голые")
    assert n.text("кpuптoй") == n.text("кpиптoй".replace("и", "u"))
    assert n.text("𝓦𝓧 Ⓠ") == n.text("wx q")


def test_traditional_characters_fold_to_simplified() -> None:
    n = default_normalizer()
    assert n.text("賭場現金髮廊後台") == "赌场现金发廊后台"


def test_sound_alikes_of_wechat_and_qq() -> None:
    n = default_normalizer()
    assert n.text("嶶信 喂心 威芯") == "微信微信微信"
    assert n.text("口口 寇扣") == "qqqq"
    # Everyday words that share a sound stay as they are.
    assert n.text("成为新会员") == "成为新会员"
    assert n.text("未信任的设备") == "未信任的设备"


def test_emoji_that_stand_for_a_contact_route() -> None:
    n = default_normalizer()
    assert n.text("🐧123456") == "qq123456"
    norm = n("☎ 13800000000")
    assert norm.text.startswith("电话")
    assert norm.quote(0, 2) == "☎"
