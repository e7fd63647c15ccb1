"""Contact routes hidden the ways real spam hides them: a number split by spaces or symbols
next to a sound-alike cue (`2591 1478 口`, `+嶶360752391`), an id after a cue (`佳喂：sx111505`),
landlines and 400/800 hotlines, bank-card numbers, and Telegram @handles offered for business.

Each detector wants the number *and* its context, so order numbers, prices, dates and plain
@mentions stay clean.
"""

from __future__ import annotations

import re

from shequn.moderation.findings import Finding
from shequn.moderation.normalize import Normalized
from shequn.moderation.sounds import reads_as

__all__ = ["find_bank_cards", "find_cued_numbers", "find_handles", "find_hotlines", "find_routes"]

# --- numbers next to a cue ---------------------------------------------------------------

# Digit groups that one number was split into: "2591 1478", "75-275-36-36", "1964.7519".
_SPLIT_NUMBER_RE = re.compile(r"(?<![0-9])[0-9]+(?:[ .\-]{1,3}[0-9]+)*")
# QQ cues: q, 扣/口/寇/蔻 (any character read kou), 企鹅 and its sound-alikes, 群 written as 君羊.
_KOU = reads_as("kou", but="区")
_QQ_CUE = f"qq|q|[{_KOU}]|企鹅|乞鹅|鹅|君羊|裙"
# WeChat cues: 微信 (sound-alikes already mapped), v, vx, and 微 alone in its sound-alikes.
_WEI = reads_as("wei", but="为位未味委危尾胃谓魏违唯惟伪伟纬慰畏蔚萎猥韦卫维围")
_WECHAT_CUE = f"微信|v|[{_WEI}]"
_CUE_BEFORE_RE = re.compile(f"(?:{_QQ_CUE}|{_WECHAT_CUE})(?:号码?|是|为|加)?$")
_CUE_AFTER_RE = re.compile(f"^(?:加|\\+)?(?:{_QQ_CUE}|{_WECHAT_CUE})")
# A number followed by one of these is an amount, a count or a date, not an id.
_UNIT_AFTER = frozenset("元块万千百亿米年月日号点分秒人个次天周岁%kw")


_SEPARATORS_RE = re.compile(r"[ .\-]+")
_CUE_SOON_BEFORE_RE = re.compile(f"([{_KOU}]|企鹅|乞鹅|[{_WEI}])[^0-9a-z{_KOU}]$")
_CUE_SOON_AFTER_RE = re.compile(f"^[^0-9a-z]{{0,4}}?([{_KOU}]|企鹅|乞鹅|鹅|君羊|[{_WEI}])")


def _is_latin_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _cue_kind(cue: str) -> str:
    return "wechat" if cue.startswith(("微", "v")) or cue[:1] in _WEI else "qq"


def find_cued_numbers(norm: Normalized) -> list[Finding]:
    """A QQ or WeChat number of 6–11 digits, split or not, right before or after a cue.

    The cue must touch the number (only spaces and symbols between), so 人口 and 口味 in
    a sentence with a price or an order number elsewhere do not count.
    """
    spaced = norm.spaced
    findings: list[Finding] = []
    for run in _SPLIT_NUMBER_RE.finditer(spaced):
        digits = re.sub(r"[^0-9]", "", run.group())
        if not 6 <= len(digits) <= 11 or digits[0] == "0":
            continue
        start, end = run.span()
        if _is_latin_alnum(spaced[end : end + 1]):
            continue  # part of a longer token: a hash, a model number
        after_text = spaced[end : end + 8].lstrip(" .-")
        if after_text[:1] in _UNIT_AFTER:
            continue
        # Separators inside a cue (企-鹅, 口.口) are padding, like those inside the number.
        before = _SEPARATORS_RE.sub("", spaced[max(0, start - 6) : start])
        after = _SEPARATORS_RE.sub("", after_text)
        cue = (
            _CUE_BEFORE_RE.search(before)
            or _CUE_AFTER_RE.search(after)
            # 妹美+口, 寂寞少付口: a Chinese cue a few characters after, at the end of an ad.
            or _CUE_SOON_AFTER_RE.search(after)
            # +口看 2247 1419: a cue one character before.
            or _CUE_SOON_BEFORE_RE.search(before)
        )
        if cue is None:
            continue
        kind = _cue_kind(cue.group(cue.lastindex or 0).lstrip("加+"))
        span = norm.original_span(start, end, spaced=True)
        evidence = norm.original[max(0, span[0] - 3) : span[1] + 3].strip()
        findings.append(Finding(kind, "ads", evidence, "high", digits, span))
    return findings


# --- ids after a sound-alike cue ---------------------------------------------------------

# 佳喂：sx111505, 嶶 abc123: a WeChat sound-alike, then an id with letters and digits.
_CUED_ID_RE = re.compile(f"(?:[{_WEI}]|微信)(?:号|是|为)?([a-z][a-z0-9_-]{{3,19}}[0-9][a-z0-9]*)")


def find_cued_ids(norm: Normalized) -> list[Finding]:
    findings = []
    for match in _CUED_ID_RE.finditer(norm.text):
        start, end = match.span()
        span = norm.original_span(start, end)
        evidence = norm.original[span[0] : span[1]]
        findings.append(Finding("wechat", "ads", evidence, "high", match.group(1), span))
    return findings


# --- landlines, 400/800 hotlines ---------------------------------------------------------

# 010-12345678, 0755 1234 5678; 400-123-4567, 800 820 8820. Written grouped, or with a cue.
_LANDLINE_RE = re.compile(r"(?<![0-9])(0[1-9][0-9]{1,2})[ \-]([0-9]{3,4}[ \-]?[0-9]{4})(?![0-9])")
_HOTLINE_RE = re.compile(r"(?<![0-9])([48]00)[ \-]?([0-9]{3,4})[ \-]?([0-9]{3,4})(?![0-9])")
_PHONE_CUES = ("电话", "热线", "致电", "来电", "座机", "客服", "tel", "咨询", "联系", "拨打")


def find_hotlines(norm: Normalized) -> list[Finding]:
    spaced = norm.spaced
    findings = []
    for regex in (_LANDLINE_RE, _HOTLINE_RE):
        for match in regex.finditer(spaced):
            digits = re.sub(r"[^0-9]", "", match.group())
            if regex is _HOTLINE_RE:
                if len(digits) != 10:
                    continue
                grouped = " " in match.group() or "-" in match.group()
                if not grouped and not _cued(spaced, match.start()):
                    continue
            elif not 10 <= len(digits) <= 12:
                continue
            span = norm.original_span(*match.span(), spaced=True)
            findings.append(
                Finding("phone", "ads", norm.original[span[0] : span[1]], "high", digits, span)
            )
    return findings


def _cued(spaced: str, start: int) -> bool:
    before = spaced[max(0, start - 8) : start]
    return any(cue in before for cue in _PHONE_CUES)


# --- bank cards --------------------------------------------------------------------------

_CARD_RE = re.compile(r"(?<![0-9])[0-9]{4}(?:[ \-]?[0-9]{4}){3}(?:[ \-]?[0-9]{1,3})?(?![0-9])")
_CARD_CUES = ("卡号", "银行", "账号", "收款", "转账", "汇款", "打款", "尾号", "工行", "建行")


def _luhn(digits: str) -> bool:
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = int(ch)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def find_bank_cards(norm: Normalized) -> list[Finding]:
    """A 16–19 digit card number that passes the Luhn check, with a banking cue nearby or
    written in groups of four (an order number is neither)."""
    spaced = norm.spaced
    findings = []
    for match in _CARD_RE.finditer(spaced):
        digits = re.sub(r"[^0-9]", "", match.group())
        if not 16 <= len(digits) <= 19 or not _luhn(digits):
            continue
        grouped = match.group().count(" ") + match.group().count("-") >= 3
        near = spaced[max(0, match.start() - 10) : match.start()]
        if not grouped and not any(cue in near for cue in _CARD_CUES):
            continue
        span = norm.original_span(*match.span(), spaced=True)
        findings.append(
            Finding("bank_card", "ads", norm.original[span[0] : span[1]], "high", digits, span)
        )
    return findings


# --- Telegram handles --------------------------------------------------------------------

_HANDLE_RE = re.compile(r"(?<![A-Za-z0-9_.])@([A-Za-z][A-Za-z0-9_]{4,31})(?![A-Za-z0-9_])")
# Words that offer business or contact; a plain @mention in chat has none of them.
_BUSINESS_CUES = re.compile(
    "联系|咨询|对接|私聊|私信|客服|详情|合作|商务|担保|主号|频道|进群|入群|下单|购买|代理|招|"
    "需要|承接|项目|出售|收购|接单|价格|了解|骗子|测试|ad|dm"
)


def find_handles(norm: Normalized) -> list[Finding]:
    """Telegram @handles offered for business: the handle plus a business cue in the text."""
    original = norm.original
    if "@" not in original:
        return []
    matches = list(_HANDLE_RE.finditer(original))
    if not matches or _BUSINESS_CUES.search(norm.text) is None:
        return []
    return [
        Finding("telegram", "ads", match.group(), "high", match.group(1).lower(), match.span())
        for match in matches
    ]


_CUED_ID_HINT_RE = re.compile(f"[{_WEI}微][^0-9]*[0-9]")


def find_routes(norm: Normalized) -> list[Finding]:
    """Every hidden contact route of this module, one finding per value.

    Each detector runs only when its cheap precondition holds (a long number, a WeChat
    sound-alike before a digit, an @), so ordinary chat costs a few searches.
    """
    findings: list[Finding] = []
    if norm.has_number:
        findings += find_cued_numbers(norm)
        findings += find_hotlines(norm)
        findings += find_bank_cards(norm)
    if _CUED_ID_HINT_RE.search(norm.text) is not None:
        findings += find_cued_ids(norm)
    if "@" in norm.original:
        findings += find_handles(norm)
    if len(findings) < 2:
        return findings
    seen: set[str | None] = set()
    unique = []
    for finding in findings:
        if finding.value not in seen:
            seen.add(finding.value)
            unique.append(finding)
    return unique
