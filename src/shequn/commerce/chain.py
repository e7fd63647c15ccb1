"""The order-chain 成交接龙 parser: a numbered list members extend in the group, turned into
entries with a name, products and quantities.

    #接龙 周五面包团
    1. 小明 吐司x2
    2、阿强 蛋糕 1个
    3 小红 吐司×1 蛋糕×2
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# A number, then a separator (. 、 : ) or a space), then the entry; NFKC has already folded
# full-width forms (．：）) into their ASCII ones.
_ENTRY = re.compile(r"^\s*(\d{1,4})\s*(?:[.、:)]\s*|\s+)(.*\S)\s*$")
_QTY_AFTER = r"\s*(?:[x×*X]\s*)?(\d{1,4})\s*(?:个|份|袋|盒|只|斤|杯|件|瓶)?"
_GENERIC = re.compile(r"(\S+?)\s*[x×*X]\s*(\d{1,4})")


@dataclass(frozen=True, slots=True)
class Entry:
    number: int
    name: str
    text: str
    items: tuple[tuple[str, int], ...] = ()

    def amount_fen(self, prices: Mapping[str, int]) -> int:
        return sum(prices.get(product, 0) * qty for product, qty in self.items)


@dataclass(frozen=True, slots=True)
class Chain:
    title: str
    entries: tuple[Entry, ...] = field(default_factory=tuple)


def _items(text: str, products: Iterable[str]) -> tuple[tuple[str, int], ...]:
    found: list[tuple[str, int]] = []
    known = sorted(products, key=len, reverse=True)  # longest first: 全麦吐司 before 吐司
    rest = text
    for product in known:
        pattern = re.compile(re.escape(product) + f"(?:{_QTY_AFTER})?")
        for hit in pattern.finditer(rest):
            found.append((product, int(hit.group(1)) if hit.group(1) else 1))
        rest = pattern.sub(" ", rest)
    if not known:
        found = [(p, int(q)) for p, q in _GENERIC.findall(text)]
    return tuple(found)


def parse_chain(text: str, markers: Iterable[str], products: Iterable[str] = ()) -> Chain | None:
    """The chain in a message, or None when the message is not an order chain."""
    if len(text.splitlines()) < 2:
        return None  # a title and at least one entry: most chat ends here, unnormalised
    normal = unicodedata.normalize("NFKC", text)
    marks = [unicodedata.normalize("NFKC", m) for m in markers]
    lines = [line for line in normal.splitlines() if line.strip()]
    if not lines or not any(m in lines[0] for m in marks):
        return None
    title = lines[0]
    for mark in marks:
        title = title.replace(mark, " ")
    entries: list[Entry] = []
    seen: set[int] = set()
    product_list = list(products)
    for line in lines[1:]:
        m = _ENTRY.match(line)
        if m is None:
            if not entries:
                title = f"{title} {line}"
            continue
        number = int(m.group(1))
        body = m.group(2).strip()
        if number in seen or not body:
            continue
        seen.add(number)
        name, _, rest = body.partition(" ")
        entries.append(Entry(number, name, body, _items(rest or body, product_list)))
    if not entries:
        return None
    return Chain(" ".join(title.split()) or "接龙", tuple(entries))
