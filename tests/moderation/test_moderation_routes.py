"""Hidden contact routes and their clean look-alikes, written for these tests."""

from __future__ import annotations

import pytest

from shequn.moderation.detectors import Message, scan
from shequn.moderation.normalize import default_normalizer
from shequn.moderation.routes import (
    find_bank_cards,
    find_cued_numbers,
    find_handles,
    find_hotlines,
    find_routes,
)

norm = default_normalizer()


@pytest.mark.parametrize(
    ("text", "kind", "digits"),
    [
        ("看片加 2591 1478 口", "qq", "25911478"),  # split by a space, cue after
        ("迦筘 8899 6677 12 进群", "qq", "8899667712"),  # sound-alike cue before
        ("企鹅 1234 56789 资源群", "qq", "123456789"),
        ("🐧 778899001 看福利", "qq", "778899001"),  # the emoji stands for QQ
        ("75-275-36-36/+企/*鹅", "qq", "752753636"),  # dashes and symbols between
        ("妹子好看 6144 44232 资源+口", "qq", "614444232"),  # the cue a few characters on
        ("556677889 靓-企-鹅", "qq", "556677889"),  # the cue padded with dashes
        ("+口看 3321 6678", "qq", "33216678"),  # one character between cue and number
        ("+嶶360752391 私聊", "wechat", "360752391"),  # 嶶 reads wei
        ("喂：93026860 了解一下", "wechat", "93026860"),
    ],
)
def test_numbers_next_to_a_cue_are_contact_routes(text: str, kind: str, digits: str) -> None:
    found = find_cued_numbers(norm(text))
    assert [(f.detector, f.value) for f in found] == [(kind, digits)]
    assert found[0].evidence  # quoted from the original for staff


@pytest.mark.parametrize(
    "text",
    [
        "订单号 2026112212345678 已发货",
        "这个口味 128000 元太贵了",  # an amount after the number
        "人口普查登记了 3 次",
        "我家有三口人，住在 12 楼",
        "会员价 1299 元，12月5日截止",
        "等于：1679091C5A880FAF6FB5 的哈希",  # a number inside a longer token
        "口令是 123456789 吗",  # 口令 is a word: the cue must touch the number
    ],
)
def test_numbers_without_a_cue_stay_clean(text: str) -> None:
    assert find_routes(norm(text)) == []


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("贷款热线 0755-12345678", "075512345678"),
        ("咨询 010 8765 4321", "01087654321"),
        ("办证请拨 400-800-1234", "4008001234"),
        ("客服电话 4001234567", "4001234567"),
    ],
)
def test_landlines_and_hotlines(text: str, digits: str) -> None:
    assert [f.value for f in find_hotlines(norm(text))] == [digits]


def test_hotline_digits_without_grouping_or_cue_are_an_order_number() -> None:
    assert find_hotlines(norm("订单 4001234567 已取消")) == []


def test_bank_cards_need_luhn_and_a_cue_or_groups_of_four() -> None:
    assert [f.value for f in find_bank_cards(norm("转账到 6222 0212 3456 7890 128"))] == [
        "6222021234567890128"
    ]
    assert [f.value for f in find_bank_cards(norm("收款卡号6222021234567890128"))] == [
        "6222021234567890128"
    ]
    # The same digits as an order number: no cue, not grouped.
    assert find_bank_cards(norm("订单6222021234567890128")) == []
    # Grouped, but the Luhn check fails.
    assert find_bank_cards(norm("转账到 6222 0212 3456 7890 127")) == []


def test_telegram_handles_offered_for_business() -> None:
    found = find_handles(norm("大额出U 联系 @vip_kefu888 咨询"))
    assert [(f.detector, f.value) for f in found] == [("telegram", "vip_kefu888")]
    assert find_handles(norm("@xiaoming 你说得对，明天见")) == []
    assert find_handles(norm("邮箱 name@example.com 联系我")) == []


def test_scan_reports_a_route_once() -> None:
    findings = scan(Message("加 V 信 happy_2025 领取"))
    assert [f.value for f in findings if f.detector == "wechat"] == ["happy2025"]
