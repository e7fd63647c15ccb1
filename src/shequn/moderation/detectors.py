"""Content detectors: what a single message says or carries that makes it an ad.

Each detector is a pure function of the message (mirroring the data of `message.posted`)
and a small `ScanConfig`; `scan` runs them all. It is on the ingest path of every message,
so patterns are compiled once, the text is normalised once, and each detector first makes
a cheap test that lets ordinary chat through without running its expensive part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol
from urllib.parse import urlsplit

from shequn.moderation.findings import Finding
from shequn.moderation.normalize import Normalized, Normalizer, default_normalizer
from shequn.moderation.reputation import link_severity
from shequn.moderation.routes import find_routes
from shequn.moderation.wordlist import WordMatcher, builtin_matcher

__all__ = [
    "CARD_KINDS",
    "Message",
    "MessageLike",
    "ScanConfig",
    "domain_allowed",
    "find_cards",
    "find_contacts",
    "find_links",
    "find_mentions",
    "find_phones",
    "find_qr",
    "find_words",
    "normalize_domains",
    "scan",
]

CARD_KINDS = frozenset({"card", "miniprogram", "link"})


class MessageLike(Protocol):
    """The fields of a `message.posted` event that detectors read."""

    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def qr(self) -> str | None: ...
    @property
    def mentions(self) -> Sequence[str] | None: ...


@dataclass(frozen=True, slots=True)
class Message:
    """A message as the detectors see it; event data with the same fields works too."""

    text: str | None = None
    kind: str = "text"
    url: str | None = None
    qr: str | None = None
    mentions: Sequence[str] | None = None


def normalize_domains(domains: Sequence[str]) -> frozenset[str]:
    """Allow-list entries as hosts: `https://Shop.Example.com/x` → `shop.example.com`."""
    hosts = set()
    for entry in domains:
        entry = entry.strip().lower()
        if "//" in entry:
            entry = urlsplit(entry).hostname or ""
        entry = entry.split("/")[0].removeprefix("*.").strip(".")
        if entry:
            hosts.add(entry)
    return frozenset(hosts)


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """What `scan` looks for. The default is the out-of-the-box configuration.

    `allowed_domains` are the workspace's own domains; their subdomains are allowed too.
    """

    words: WordMatcher | None = field(default_factory=builtin_matcher)
    allowed_domains: frozenset[str] = frozenset()
    mention_threshold: int = 5
    links: bool = True
    phones: bool = True
    contacts: bool = True
    qr: bool = True
    cards: bool = True
    mentions: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_domains", normalize_domains(tuple(self.allowed_domains)))

    @property
    def normalizer(self) -> Normalizer:
        return self.words.normalizer if self.words is not None else default_normalizer()


def domain_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Whether `host` is an allowed domain or a subdomain of one."""
    if not allowed:
        return False
    host = host.lower().strip(".")
    while True:
        if host in allowed:
            return True
        dot = host.find(".")
        if dot < 0:
            return False
        host = host[dot + 1 :]


# --- links -------------------------------------------------------------------------------

# Top-level domains spammers use, plus the common ones. A bare "x.y" needs one of these, so
# version numbers (1.2.3), prices (39.9) and file names (node.js) are not links.
_TLDS = frozenset({
    "com", "cn", "net", "org", "xyz", "top", "vip", "cc", "me", "io", "info", "club", "site",
    "online", "shop", "store", "app", "link", "live", "ltd", "wang", "ink", "fun", "icu", "tk",
    "ml", "ga", "cf", "gq", "co", "tv", "biz", "pw", "win", "bid", "hk", "tw", "us", "uk", "jp",
    "kr", "la", "ai", "pro", "work", "asia", "mobi", "red", "ren", "xin", "kim", "run", "space",
    "website", "today", "life", "world", "news", "one", "cyou", "buzz", "monster", "rest", "bar",
    "art", "ws", "to", "im", "gg", "sh", "fm", "ly", "su", "ru", "de", "fr", "sg",
})  # fmt: skip
_TLD = "|".join(sorted(_TLDS, key=lambda tld: (-len(tld), tld)))
# In the spaced form "。．点" and friends are ".", punctuation is " " and a link such as
# "abc . com", "abc点com" or "abc dot com" keeps its shape.
_SEP = r"(?: ?[.点] ?| dot )"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_BARE_DOMAIN_RE = re.compile(rf"(?<![a-z0-9-])((?:{_LABEL}{_SEP})+(?:{_TLD}))(?![a-z0-9])")
_SCHEME_RE = re.compile(rf"(?<![a-z])(?:https?|ftp) +((?:{_LABEL}{_SEP})+{_LABEL})")
_SEP_RE = re.compile(_SEP)
# Cheap tests: a domain needs a letter or digit, a separator, then a letter; a scheme-led
# link needs "http" or "ftp". Most chat fails both before any of the regexes above runs.
_DOMAIN_SHAPE_RE = re.compile(r"[a-z0-9](?: ?[.点] ?| dot )[a-z]")


def _host(raw: str) -> str:
    return _SEP_RE.sub(".", raw)


def find_links(norm: Normalized, allowed: frozenset[str] = frozenset()) -> list[Finding]:
    """Links and bare domains in the text, except the allowed domains and the big platforms;
    their severity is the host's reputation (`reputation.link_severity`)."""
    spaced = norm.spaced
    if "." not in spaced and "点" not in spaced and " dot " not in spaced:
        return []
    if _DOMAIN_SHAPE_RE.search(spaced) is None:
        return []
    findings: list[Finding] = []
    seen: set[str] = set()
    regexes = (_SCHEME_RE, _BARE_DOMAIN_RE) if "tp" in spaced else (_BARE_DOMAIN_RE,)
    for regex in regexes:
        for match in regex.finditer(spaced):
            host = _host(match.group(1))
            if host in seen or domain_allowed(host, allowed):
                continue
            seen.add(host)
            span = norm.original_span(*match.span(), spaced=True)
            evidence = norm.original[span[0] : span[1]]
            if regex is _BARE_DOMAIN_RE and _other_script(evidence):
                continue  # "А. То есть" is Russian, not a link to a.to
            severity = link_severity(host)
            if severity is not None:
                findings.append(Finding("link", "ads", evidence, severity, host, span))
    return findings


def _other_script(evidence: str) -> bool:
    """Greek, Cyrillic or Armenian letters in a bare domain: words folded to Latin look-alikes
    by the normaliser, not a domain someone typed."""
    return any("\u0370" <= ch <= "\u058f" for ch in evidence)


# --- phone numbers -----------------------------------------------------------------------

_ELEVEN_DIGITS_RE = re.compile(r"[0-9]{11}")
_DIGIT_RUN_RE = re.compile(r"[0-9]+(?:[ .-]+[0-9]+)*")
_DIGIT_GROUP_RE = re.compile(r"[0-9]+")
_MOBILE_PREFIXES = ("13", "14", "15", "16", "17", "18", "19")
# How people split a mobile number when they write it; other splits of 11 digits are lists
# of prices, dates or counts that happen to add up.
_PHONE_GROUPINGS = frozenset({(3, 4, 4), (3, 8), (7, 4), (4, 7), (4, 3, 4), (3, 3, 5)})


def _is_mobile(digits: str) -> bool:
    return len(digits) == 11 and digits.startswith(_MOBILE_PREFIXES)


def _strip_country_code(digits: str, after_plus: bool) -> str:
    # A bare 86 is a country code only after "+": tracking numbers start with 86 too.
    for prefix in ("0086", "86") if after_plus else ("0086",):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            return digits[len(prefix) :]
    return digits


def _mobile_in_run(groups: list[re.Match[str]], after_plus: bool) -> tuple[int, int, str] | None:
    """A mobile number in one run of digit groups, as (first group, last group, digits)."""
    for index, group in enumerate(groups):
        digits = _strip_country_code(group.group(), after_plus and index == 0)
        if _is_mobile(digits):
            return (index, index, digits)
    sizes = [len(g.group()) for g in groups]
    for first in range(len(groups)):
        total = 0
        for last in range(first, len(groups)):
            total += sizes[last]
            if total > 11:
                break
            if total < 11 or last == first:
                continue
            shape = tuple(sizes[first : last + 1])
            if shape in _PHONE_GROUPINGS or set(shape) == {1}:
                digits = "".join(g.group() for g in groups[first : last + 1])
                if _is_mobile(digits):
                    return (first, last, digits)
    return None


def find_phones(norm: Normalized) -> list[Finding]:
    """Chinese mobile numbers, also spaced, dashed, full-width or in Chinese numerals.

    Longer digit strings (order and tracking numbers) are not phones even when eleven of
    their digits look like one.
    """
    if not norm.has_number or _ELEVEN_DIGITS_RE.search(norm.text) is None:
        return []
    findings: list[Finding] = []
    spaced = norm.spaced
    for run in _DIGIT_RUN_RE.finditer(spaced):
        if run.end() - run.start() < 11:
            continue
        groups = list(_DIGIT_GROUP_RE.finditer(run.group()))
        after_plus = run.start() > 0 and spaced[run.start() - 1] == "加"
        found = _mobile_in_run(groups, after_plus)
        if found is None:
            continue
        first, last, digits = found
        start = run.start() + groups[first].start()
        end = run.start() + groups[last].end()
        span = norm.original_span(start, end, spaced=True)
        evidence = norm.original[span[0] : span[1]]
        findings.append(Finding("phone", "ads", evidence, "high", digits, span))
    return findings


# --- WeChat ids, QQ numbers, Telegram handles -------------------------------------------

_ID_WORDS = "(?:号码?|id|账号|是|为|搜索?|加)*"
# An id: WeChat ids are 6–20 letters and digits; numbers (QQ, phone) from 5 digits. A
# number followed by 元/块/万 is an amount ("微信转了12800元" is not an id).
_ID = r"[a-z][a-z0-9]{5,19}|[0-9][a-z0-9]{4,19}"
_NOT_AMOUNT = r"(?![0-9元块万])"
# Markers after normalisation: 薇信/V信/vx/wx/威信 are 微信 by now, +V is 加v, 扣扣/企鹅 qq.
_WECHAT_RE = re.compile(rf"(加微信|加微|加v|微信|薇)({_ID_WORDS})({_ID}){_NOT_AMOUNT}")
# 裙 ("skirt") stands in for 群 in "Q裙".
_QQ_RE = re.compile(
    rf"(?:qq|(?<![a-z])q)(?:号码?|[群裙]号?|是|为)*([1-9][0-9]{{4,10}}){_NOT_AMOUNT}"
)
_TELEGRAM_RE = re.compile(
    r"(?:(?<![a-z])(?:telegram|tg)|纸飞机|飞机)(?:号|id|账号)?([a-z][a-z0-9]{4,31})"
)
# "V: abc123" keeps the boundary after a lone v only in the spaced form.
_LONE_V_RE = re.compile(r"(?<![a-z0-9])v[ .]+([a-z0-9]{6,20})(?![a-z0-9])")
_WECHAT_HINT_RE = re.compile("[微薇加]")
_TELEGRAM_HINT_RE = re.compile("tg|telegram|飞机")
# Any of the contact markers: 微信/加v/薇 (WeChat), q (QQ), t/飞 (Telegram); the lone v of
# "V: abc123" is tested separately.
_CONTACT_HINT_RE = re.compile("[微薇加qt飞]")


def _is_wechat_contact(norm: Normalized, match: re.Match[str]) -> bool:
    marker, id_words, contact = match.groups()
    if not contact.isalpha():
        return True
    if marker == "薇":
        return False
    if marker != "微信" or id_words:
        return True
    # 微信 written out before a plain word is chat ("微信windows版打不开"); an evasive
    # spelling (vx, 薇信, V信) before one is an id.
    return norm.quote(*match.span(1)) != "微信"


def find_contacts(norm: Normalized) -> list[Finding]:
    """WeChat ids, QQ numbers and Telegram handles offered as contact.

    Talk about WeChat or QQ without an id after it (微信支付, 微信群, QQ音乐) is clean.
    """
    text = norm.text
    found: dict[str, Finding] = {}
    if _WECHAT_HINT_RE.search(text) is not None:
        for match in _WECHAT_RE.finditer(text):
            if _is_wechat_contact(norm, match):
                _add_contact(found, norm, "wechat", match)
    if norm.has_number and "q" in text:
        for match in _QQ_RE.finditer(text):
            _add_contact(found, norm, "qq", match)
    if _TELEGRAM_HINT_RE.search(text) is not None:
        for match in _TELEGRAM_RE.finditer(text):
            _add_contact(found, norm, "telegram", match)
    if "v" in norm.spaced:
        for match in _LONE_V_RE.finditer(norm.spaced):
            _add_contact(found, norm, "wechat", match, spaced=True)
    return list(found.values())


def _add_contact(
    found: dict[str, Finding],
    norm: Normalized,
    detector: str,
    match: re.Match[str],
    *,
    spaced: bool = False,
) -> None:
    value = match.group(match.lastindex or 0)
    if value in found:
        return
    start, end = match.span()
    span = norm.original_span(start, end, spaced=spaced)
    evidence = norm.original[span[0] : span[1]]
    found[value] = Finding(detector, "ads", evidence, "high", value, span)


# --- word lists --------------------------------------------------------------------------


def find_words(
    norm: Normalized, matcher: WordMatcher, hits: list[tuple[int, int, int]] | None = None
) -> list[Finding]:
    """Listed words, once per (list, word), quoted from the original text.

    `hits` are the matcher's raw hits on `norm.text` when the caller already has them.
    """
    compact = norm.text
    if hits is None:
        hits = matcher.find_indexes(compact)
    if not hits:
        return []
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for entries, start, end in matcher.accepted(compact, hits):
        span = norm.original_span(start, end)
        evidence = norm.original[span[0] : span[1]]
        for word, lst in entries:
            if (lst.name, word) not in seen:
                seen.add((lst.name, word))
                findings.append(
                    Finding("words", lst.category, evidence, lst.severity, word, span, lst.action)
                )
    return findings


# --- what the message carries ------------------------------------------------------------


def _url_host(url: str) -> str | None:
    candidate = url.strip()
    if "//" not in candidate:
        candidate = "//" + candidate
    try:
        return urlsplit(candidate).hostname
    except ValueError:
        return None


def find_qr(qr: str | None, allowed: frozenset[str] = frozenset()) -> list[Finding]:
    """A QR code in an image, unless it points to an allowed domain (the workspace's own
    live codes and posters)."""
    if not qr:
        return []
    host = _url_host(qr) if "." in qr else None
    if host is not None and domain_allowed(host, allowed):
        return []
    return [Finding("qr", "ads", qr[:200], "high", host)]


def find_cards(kind: str, url: str | None, allowed: frozenset[str] = frozenset()) -> list[Finding]:
    """Cards, mini-programs and link cards: worth a look, not a punishment on their own."""
    if kind not in CARD_KINDS:
        return []
    host = _url_host(url) if url else None
    if host is not None and domain_allowed(host, allowed):
        return []
    return [Finding("card", "ads", url or kind, "low", host or kind)]


def find_mentions(
    mentions: Sequence[str] | None, text: str | None, threshold: int = 5
) -> list[Finding]:
    """Mass @mentions: `threshold` or more members mentioned in one message."""
    count = len(set(mentions)) if mentions is not None else (text or "").count("@")
    if count < threshold:
        return []
    return [Finding("mentions", "ads", f"{count} mentions", "medium", str(count))]


def scan(
    message: MessageLike, config: ScanConfig | None = None, norm: Normalized | None = None
) -> list[Finding]:
    """Every content detector over one message; an empty list means clean.

    The detectors' cheap tests are repeated here so that a clean message costs no calls.
    `norm` is the text already normalised by `config.normalizer`, when the caller has it.
    """
    config = config or _default_config()
    findings: list[Finding] = []
    text = message.text
    if text:
        norm = norm or config.normalizer(text)
        compact = norm.text
        words = config.words
        if words is not None:
            hits = words.find_indexes(compact)
            if hits:
                findings.extend(find_words(norm, words, hits))
        if config.links and ("." in norm.spaced or "点" in compact or "dot" in compact):
            findings.extend(find_links(norm, config.allowed_domains))
        if config.phones and norm.has_number:
            findings.extend(find_phones(norm))
        if config.contacts and (_CONTACT_HINT_RE.search(compact) or "v" in compact):
            findings.extend(find_contacts(norm))
        if config.contacts:
            _add_routes(findings, find_routes(norm))
    if config.qr and message.qr:
        findings.extend(find_qr(message.qr, config.allowed_domains))
    if config.cards and message.kind in CARD_KINDS:
        findings.extend(find_cards(message.kind, message.url, config.allowed_domains))
    if config.mentions and (message.mentions or (text and "@" in text)):
        findings.extend(find_mentions(message.mentions, text, config.mention_threshold))
    return findings


def _add_routes(findings: list[Finding], routes: list[Finding]) -> None:
    """Hidden routes not already found by the plain contact and phone detectors."""
    if routes:
        known = {f.value for f in findings}
        findings.extend(f for f in routes if f.value not in known)


@cache
def _default_config() -> ScanConfig:
    return ScanConfig()
