"""Reading what a member paid from a chat message (比省钱): "我买到 ¥39.9", "39.9元",
"到手价 35", "3块5" — in fen, or None when the message states no single clear price.

A bare number is a price only after a word that says "I paid" (到手, 买到, 实付 …); otherwise
it needs a currency mark (¥ before, 元/块 after). Digits inside longer runs (order numbers,
phone numbers) never count, and list prices (原价, 划线价 …) are not what anyone paid.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

# Full-width digits, ￥ and ． become ASCII under NFKC; a few more marks are folded by hand.
_FOLD = str.maketrans({"。": ".", "，": ","})

_NUMBER = r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d{1,6})(?:\.(\d{1,2}))?(?![\d.]|,\d)"
_PAID = r"(?:到手价?|买到|入手|实付(?:款|金额)?|付了|花了|只花|成交价?|拿下|券后价?|折后价?)"
_LIST = r"(?:原价|划线价|门店价|专柜价|定价|标价|吊牌价|市场价|建议零售价)"
_JOIN = r"[\s:：是为了才仅就共约]*"
_YUAN = r"\s*(?:元|块钱?|rmb|RMB|cny|CNY)"
# "买到2件", "3天到手": a count or a duration, not a price.
_UNIT = (
    r"\s*(?:件|个|只|支|天|斤|公斤|克|盒|瓶|包(?!邮)|袋|份|次|号|点|月|年|日|周|折|%|人|位|单|条|套|箱"
    r"|小时|分钟|kg|g|ml)"
)
_JIAO = rf"(?:(?<=块)|(?<=元))(\d)(?![\d.])(?!{_UNIT})(?:角|毛)?"

_MARKED = re.compile(_PAID + _JOIN + r"¥?\s*" + _NUMBER + rf"(?:{_YUAN}(?:{_JIAO})?|(?!{_UNIT}))")
_CURRENCY_BEFORE = re.compile(r"¥\s*" + _NUMBER)
_CURRENCY_AFTER = re.compile(_NUMBER + _YUAN + rf"(?:{_JIAO})?")
_LIST_BEFORE = re.compile(_LIST + _JOIN + r"¥?\s*$")


def _fen(whole: str, decimals: str | None, jiao: str | None = None) -> int:
    amount = Decimal(whole.replace(",", ""))
    if decimals:
        amount += Decimal(f"0.{decimals}")
    elif jiao:
        amount += Decimal(jiao) / 10  # "3块5" is three yuan fifty
    return int(amount * 100)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def parse_price(text: str | None) -> int | None:
    """The price in fen a message says was paid, or None (no price, or several unmarked)."""
    if not text:
        return None
    folded = _normal(text)
    for m in _MARKED.finditer(folded):
        return _fen(m.group(1), m.group(2), m.group(3))  # the first "I paid" price wins
    found: dict[int, int] = {}  # position -> fen, so "¥39元" counts once
    for pattern in (_CURRENCY_BEFORE, _CURRENCY_AFTER):
        for m in pattern.finditer(folded):
            start = m.start(1)
            if _LIST_BEFORE.search(folded[: m.start()]):
                continue  # "原价 ¥59": what it cost elsewhere, not what was paid
            jiao = m.group(3) if pattern is _CURRENCY_AFTER else None
            found[start] = _fen(m.group(1), m.group(2), jiao)
    prices = set(found.values())
    return prices.pop() if len(prices) == 1 else None
