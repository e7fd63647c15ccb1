"""Reading the price a member paid from a chat message (比省钱), and what must not count."""

from __future__ import annotations

import pytest

from shequn.engagement.prices import parse_price

COUNTS = [
    ("我买到 ¥39.9", 3990),
    ("39.9元", 3990),
    ("到手价 35", 3500),
    ("到手价：35元，太划算了", 3500),
    ("￥３９．９", 3990),  # full-width digits, yen sign and dot
    ("３９．９元拿下", 3990),
    ("花了3块5", 350),
    ("3块5毛", 350),
    ("花了 12元5角", 1250),
    ("¥39元", 3900),  # one price written with both marks
    ("原价¥59，到手¥39.9", 3990),  # the list price is not what was paid
    ("原价59元 现在39元", 3900),
    ("到手价35，原价59元", 3500),
    ("实付款 1,299.00 元", 129900),
    ("订单号123456 实付 88.8", 8880),  # the order number is not a price
    ("买了2件共79元", 7900),  # a count is not a price
    ("39元2件", 3900),
    ("付了 0.5 元", 50),
    ("券后价29.9包邮", 2990),
]

IGNORED = [
    "今天天气不错",
    "订单号 2023112212345678",
    "我电话13812345678，有事打我",
    "手机 138-1234-5678",
    "39.9",  # a bare number says nothing
    "第3名",
    "买到2件",
    "3天到手",
    "只要3天就到了",
    "¥39 和 ¥45 两个价，不知道买哪个",  # two prices: not a clear entry
    "到手价35.999",  # not money
    "",
]


@pytest.mark.parametrize(("text", "fen"), COUNTS)
def test_prices_people_write_are_read_in_fen(text: str, fen: int) -> None:
    assert parse_price(text) == fen


@pytest.mark.parametrize("text", IGNORED)
def test_messages_that_are_not_entries_give_no_price(text: str) -> None:
    assert parse_price(text) is None
