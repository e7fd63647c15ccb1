"""The evasion-removing normaliser: the form in which messages and words are compared.

Spammers hide words and contact details with full-width letters, case, symbols and emoji
between characters, homoglyphs, variant spellings (V信, 薇信, 扣扣) and numbers written in
Chinese numerals or circled digits. Matching happens on the normalised text; evidence is
quoted from the original through the position map kept by `Normalized`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from itertools import compress

from confusable_homoglyphs.confusables import confusables_data
from opencc import OpenCC

from shequn.moderation.sounds import reads_as

__all__ = ["Normalized", "Normalizer", "default_normalizer"]

# One translate table covers the BMP and the supplementary plane that holds emoji and
# styled letters; a list lookup is about twice as fast as a dict, whose misses raise.
_TABLE_SIZE = 0x20000

# The boundaries kept in the spaced form; the compact form drops them all.
_SPACE, _DOT, _DASH, _COMMA = " ", ".", "-", ","
_BOUNDARIES = frozenset((_SPACE, _DOT, _DASH, _COMMA))

# Characters that stand in for the dot of a domain name.
_DOT_LIKE = frozenset(".。·・•∙⋅丶‧˙●﹒")
# Plus signs read as 加 ("add"), as in "+V", "➕微".
_PLUS_LIKE = frozenset("+➕✚✙")
# Enumeration marks separate items of a list ("139、1299、2999"): a harder boundary than a
# space, which people also put inside numbers ("138 1234 5678").
_LIST_MARKS = frozenset(",、;")


def _latin_lookalikes() -> dict[str, str]:
    """Letters of other scripts that read as a Latin letter (Cyrillic о, Greek ν, Cherokee
    Ꮃ …), from the Unicode confusables data: `гoлые` and `кpuптoй` mix scripts so that
    no word list matches; folded to one skeleton they match again.

    Only letter → letter pairs before the CJK blocks: a Cyrillic з that reads as 3 stays a
    letter, and Chinese characters are the traditional/simplified table's business.
    """
    lookalikes: dict[str, str] = {}
    for source, glyphs in sorted(confusables_data.items()):
        if len(source) != 1 or source.isascii() or ord(source) >= 0x2E80 or not source.isalpha():
            continue
        target = next(
            (g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalpha()),
            None,
        )
        if target is not None:
            for form in (source, source.casefold()):
                if len(form) == 1 and not form.isascii():
                    lookalikes.setdefault(form, target.lower())
    return lookalikes


_HOMOGLYPHS = _latin_lookalikes()

# Traditional → simplified, character by character with OpenCC's table (phrases do not
# matter here: matching compares characters).
_T2S_CONVERTER = OpenCC("t2s")
_CJK_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


def _simplified_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for first, last in _CJK_RANGES:
        block = "".join(chr(code) for code in range(first, last))
        converted = _T2S_CONVERTER.convert(block)
        if len(converted) != len(block):  # a character became several: go one by one
            converted = "".join(_T2S_CONVERTER.convert(ch)[:1] or ch for ch in block)
        table.update((t, s) for t, s in zip(block, converted, strict=True) if t != s)
    return table


# Chinese numerals as spammers use them to hide digits (幺 is the spoken "one" of phone
# numbers). Positional numerals (十, 百, 千) are never digit-by-digit and are left alone.
_NUMERALS = "〇0零0一1二2三3四4五5六6七7八8九9幺1壹1贰2貳2叁3肆4伍5陆6陸6柒7捌8玖9"
_NUMERAL_MAP = {ord(_NUMERALS[i]): _NUMERALS[i + 1] for i in range(0, len(_NUMERALS), 2)}
_NUMERAL_CLASS = "0-9" + "".join(_NUMERALS[i] for i in range(0, len(_NUMERALS), 2))
# A run of five or more digit-like characters (separators allowed) with at least two
# Chinese numerals is a hidden number; shorter runs are ordinary words (一二三, 三五).
_NUMERAL_RUN = re.compile(f"[{_NUMERAL_CLASS}](?:[ .-]*[{_NUMERAL_CLASS}]){{4,}}")

# Variant spellings, matched on the compact text (separators already gone, so "V 信" and
# "薇♥信" arrive here as "v信" and "薇信").
_VARIANTS = {
    "weixin": "微信", "wechat": "微信", "wei信": "微信", "v信": "微信", "薇信": "微信",
    "威信": "微信", "维信": "微信", "徽信": "微信", "卫信": "微信", "微x": "微信",
    "薇x": "微信", "微芯": "微信", "v芯": "微信", "卫星": "微信", "加薇": "加微",
    "扣扣": "qq", "叩叩": "qq", "蔻蔻": "qq", "抠抠": "qq", "企鹅": "qq",
}  # fmt: skip
_VARIANT_RE = re.compile("|".join(sorted(map(re.escape, _VARIANTS), key=len, reverse=True)))
# One character of every variant (its first that is not 加): a one-class search is far
# cheaper than the alternation, which the regex engine cannot start with a fast scan.
_VARIANT_HINT = re.compile("[" + "".join(sorted({v.lstrip("加")[0] for v in _VARIANTS})) + "]")


# "vx" and "wx" are WeChat only as a word of their own ("vx：abc", "V X 123"); inside a
# Latin word they are part of an id ("wxqe255") or a domain ("wx88.com"), which only the
# spaced form can tell. The replacement keeps the length, so positions still map back.
_LATIN_VARIANT_RE = re.compile(r"(?<![a-z0-9])[vw]( *)x(?![a-z])(?![0-9]* ?[.点])")


def _latin_variant(match: re.Match[str]) -> str:
    return f"微{match.group(1)}信"


def _variant(match: re.Match[str]) -> str:
    return _VARIANTS[match.group()]


def _map_char(ch: str, traditional: bool) -> str:
    """Map one character (already NFKC-decomposed and case-folded) to its matching form.

    Letters and digits are kept, dots become ".", dashes "-", punctuation and spaces a
    boundary " ", "+" becomes 加 (as in "+V"), and symbols, emoji, marks and format
    characters vanish: they are what spammers put between characters.
    """
    if ch in _DOT_LIKE:
        return _DOT
    if ch in _PLUS_LIKE:
        return "加"
    if ch in _LIST_MARKS:
        return _COMMA
    ch = _HOMOGLYPHS.get(ch, ch)
    category = unicodedata.category(ch)
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    if category[0] in "LN":
        if traditional:
            ch = _T2S.get(ch, ch)
        return ch
    if category == "Pd":
        return _DASH
    if category[0] in "PZ" or category == "Cc":
        return _SPACE
    return ""


_T2S = _simplified_table()


@cache
def _table(traditional: bool) -> list[str | None]:
    table: list[str | None] = []
    for code in range(_TABLE_SIZE):
        ch = chr(code)
        if ch in _STAND_INS:
            table.append(_STAND_INS[ch])
            continue
        folded = unicodedata.normalize("NFKC", ch).casefold()
        mapped = "".join(_map_char(c, traditional) for c in folded)
        if code >= 0x10000 and not mapped.isascii():
            # Outside the BMP only styled letters and digits matter; the rest (emoji,
            # historic scripts) are fillers as far as matching is concerned.
            mapped = ""
        if mapped == ch:
            table.append(ch)
        else:
            table.append(mapped or None)
    return table


# Emoji that stand for a contact route: 🐧 is QQ's mascot, a telephone is a phone number.
_STAND_INS = {"🐧": "企鹅", "☎": "电话", "📞": "电话", "📱": "电话"}

_DROP, _KEEP, _EXPAND = "\x00", "\x01", "\x02"


class _Tables:
    """The translate table and two masks derived from it for mapping positions back.

    Translating the original through a mask gives one byte per character (dropped, kept,
    or expanded into several); `itertools.compress` over those bytes yields the original
    index of every normalised character without a Python loop per character.
    """

    __slots__ = ("compact_mask", "spaced_mask", "table")

    def __init__(self, table: list[str | None]) -> None:
        self.table = table
        self.spaced_mask = [self._mark(out, False) for out in table]
        self.compact_mask = [self._mark(out, True) for out in table]

    @staticmethod
    def _mark(out: str | None, compact: bool) -> str:
        if out and compact:
            out = "".join(ch for ch in out if ch not in _BOUNDARIES)
        if not out:
            return _DROP
        return _KEEP if len(out) == 1 else _EXPAND


@cache
def _tables(traditional: bool) -> _Tables:
    return _Tables(_table(traditional))


def _convert_numerals(spaced: str) -> str:
    for match in _NUMERAL_RUN.finditer(spaced):
        run = match.group()
        converted = run.translate(_NUMERAL_MAP)
        # One numeral next to digits is a word ("66888 一对一"); hiding takes several.
        if sum(a != b for a, b in zip(run, converted, strict=True)) >= 2:
            start, end = match.span()
            spaced = spaced[:start] + converted + spaced[end:]
    return spaced


def _compact_without_variants(spaced: str) -> str:
    # Unconditional: replace() hands back the same string when there is nothing to do.
    return spaced.replace(_SPACE, "").replace(_DOT, "").replace(_COMMA, "").replace(_DASH, "")


def _compact(spaced: str) -> str:
    compact = _compact_without_variants(spaced)
    if _VARIANT_HINT.search(compact) is not None and _VARIANT_RE.search(compact) is not None:
        compact = _VARIANT_RE.sub(_variant, compact)
    if _SOUND_ALIKE_RE.search(compact) is not None:
        compact = _SOUND_ALIKE_RE.sub(_sound_alike, compact)
    return compact


# Sound-alike spellings of 微信 and QQ (嶶信, 威心, 喂芯, 口口, 寇扣), replaced by a form of the
# same length so positions still map back. Characters too common in chat to stand for
# 微 are left out: 为新 and 未信 are words.
_WEI = reads_as("wei", but="为位未味委危尾胃谓魏违唯惟伪伟纬慰畏蔚萎猥韦围")
_XIN = reads_as("xin", but="新寻")
_KOU = reads_as("kou", but="区")
_SOUND_ALIKE_RE = re.compile(f"[{_WEI}][{_XIN}]|[{_KOU}]{{2}}")


def _sound_alike(match: re.Match[str]) -> str:
    found = match.group()
    if found == "微信":
        return found
    return "微信" if found[0] in _WEI else "qq"


class Normalized:
    """A message in matching form, with the way back to the original.

    `spaced` keeps boundaries (" ", and "," between list items), dots and dashes: links
    and grouped phone numbers are read from it. `text` is compact and has variant
    spellings mapped: words, ids and fingerprints are read from it. `has_number` says
    whether a run of five or more digits (or numerals) occurs: phone and QQ numbers need
    one, so their detectors skip texts without.
    Positions map back to `original` on demand, so a clean message never pays for the map.
    """

    __slots__ = (
        "_spaced_origin",
        "_tables",
        "_text_origin",
        "has_number",
        "original",
        "spaced",
        "text",
    )

    def __init__(
        self, original: str, spaced: str, text: str, has_number: bool, tables: _Tables
    ) -> None:
        self.original = original
        self.spaced = spaced
        self.text = text
        self.has_number = has_number
        self._tables = tables
        self._spaced_origin: list[int] | None = None
        self._text_origin: list[int] | None = None

    def __repr__(self) -> str:
        return f"Normalized({self.original!r} → {self.text!r})"

    def original_span(self, start: int, end: int, *, spaced: bool = False) -> tuple[int, int]:
        """The span of `original` that produced `text[start:end]` (or `spaced[...]`)."""
        if end <= start:
            return (0, 0)
        origin = self._spaced_origins() if spaced else self._text_origins()
        return (origin[start], origin[end - 1] + 1)

    def quote(self, start: int, end: int, *, spaced: bool = False) -> str:
        """The original text behind a normalised span: the evidence to show staff."""
        first, last = self.original_span(start, end, spaced=spaced)
        return self.original[first:last]

    def _spaced_origins(self) -> list[int]:
        if self._spaced_origin is None:
            origin = self._masked(self._tables.spaced_mask)
            self._spaced_origin = origin if origin is not None else self._slow_origins()[0]
        return self._spaced_origin

    def _text_origins(self) -> list[int]:
        if self._text_origin is None:
            origin = self._masked(self._tables.compact_mask)
            if origin is None:
                origin = self._slow_origins()[1]
            elif len(origin) != len(self.text):  # a variant spelling changed the length
                compact = _compact_without_variants(self.spaced)
                origin = _variant_origins(compact, origin)
            self._text_origin = origin
        return self._text_origin

    def _masked(self, mask: list[str]) -> list[int] | None:
        try:
            keep = self.original.translate(mask).encode("latin-1")
        except UnicodeEncodeError:  # a character beyond the table
            return None
        if 2 in keep:  # a character normalised into several ("⑩" → "10")
            return None
        return list(compress(range(len(self.original)), keep))

    def _slow_origins(self) -> tuple[list[int], list[int]]:
        origin: list[int] = []
        for index, ch in enumerate(self.original):
            out = _mapped(self._tables.table, ch)
            if out:
                origin.extend([index] * len(out))
        compact_origin = [
            o for ch, o in zip(self.spaced, origin, strict=True) if ch not in _BOUNDARIES
        ]
        compact = _compact_without_variants(self.spaced)
        return origin, _variant_origins(compact, compact_origin)


def _mapped(table: list[str | None], ch: str) -> str | None:
    code = ord(ch)
    return table[code] if code < _TABLE_SIZE else ch


def _variant_origins(compact: str, origin: list[int]) -> list[int]:
    new_origin: list[int] = []
    last = 0
    for match in _VARIANT_RE.finditer(compact):
        start, end = match.span()
        new_origin.extend(origin[last:start])
        # The first character stands for the start of the spelling and the rest for its
        # end, so a span over the replacement quotes the whole original spelling.
        length = len(_VARIANTS[match.group()])
        new_origin.append(origin[start])
        new_origin.extend([origin[end - 1]] * (length - 1))
        last = end
    new_origin.extend(origin[last:])
    return new_origin


class Normalizer:
    """Turns text into its matching form. Instances are immutable and shareable.

    `traditional` also maps a built-in table of common traditional characters to their
    simplified forms, so 賭場 matches 赌场.
    """

    __slots__ = ("_table", "_tables", "traditional")

    def __init__(self, *, traditional: bool = True) -> None:
        self.traditional = traditional
        self._tables = _tables(traditional)
        self._table = self._tables.table

    def __call__(self, text: str) -> Normalized:
        spaced = text.translate(self._table)
        has_number = _NUMERAL_RUN.search(spaced) is not None
        if has_number:
            spaced = _convert_numerals(spaced)
        if "x" in spaced:
            spaced = _LATIN_VARIANT_RE.sub(_latin_variant, spaced)
        return Normalized(text, spaced, _compact(spaced), has_number, self._tables)

    def spaced(self, text: str) -> str:
        """Case-folded, half-width, fillers removed, boundaries kept as single characters."""
        spaced = text.translate(self._table)
        if _NUMERAL_RUN.search(spaced) is not None:
            spaced = _convert_numerals(spaced)
        if "x" in spaced:
            spaced = _LATIN_VARIANT_RE.sub(_latin_variant, spaced)
        return spaced

    def text(self, text: str) -> str:
        """The compact matching form of `text`, without the position map."""
        return _compact(self.spaced(text))


@cache
def default_normalizer() -> Normalizer:
    """The shared normaliser with traditional→simplified mapping on."""
    return Normalizer()
