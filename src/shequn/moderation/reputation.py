"""Link reputation: how much a link says about a message.

Big platforms (the built-in `trusted_domains.txt`) are ordinary chat and no finding at all.
Shorteners hide where they lead and invite links pull members elsewhere: those, hosts on
the TLDs spam favours, and hosts made of numbers (`d9623.com`) are strong findings. Any
other domain is a weak one: it counts for a newcomer or together with a second signal.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from shequn.moderation.findings import Severity
from shequn.moderation.wordlist import parse_words

__all__ = ["INVITE_HOSTS", "SHORTENERS", "link_severity", "trusted_domains"]

SHORTENERS = frozenset({
    "t.cn", "url.cn", "dwz.cn", "suo.im", "bit.ly", "tinyurl.com", "goo.gl", "ow.ly",
    "is.gd", "cutt.ly", "rebrand.ly", "s.id", "v.gd", "rb.gy", "shorturl.at", "tiny.cc",
    "w.url.cn", "u.nu", "dwz.date",
})  # fmt: skip
INVITE_HOSTS = frozenset({
    "t.me", "telegram.me", "telegram.dog", "chat.whatsapp.com", "discord.gg", "discord.com",
    "line.me", "qm.qq.com", "jq.qq.com", "wa.me",
})  # fmt: skip
# TLDs that cost next to nothing and carry most spam links.
SPAM_TLDS = frozenset({
    "xyz", "top", "vip", "cc", "tk", "ml", "ga", "cf", "gq", "icu", "buzz", "cyou", "monster",
    "rest", "bar", "win", "bid", "pw", "club", "site", "online", "fun", "wang", "ink", "ltd",
    "life", "space", "pro", "su", "kim", "ren", "run", "work", "live", "today", "mobi",
})  # fmt: skip


@cache
def trusted_domains() -> frozenset[str]:
    data = resources.files("shequn.moderation") / "data" / "trusted_domains.txt"
    return frozenset(parse_words(data.read_text(encoding="utf-8")))


def _within(host: str, domains: frozenset[str]) -> bool:
    while True:
        if host in domains:
            return True
        dot = host.find(".")
        if dot < 0:
            return False
        host = host[dot + 1 :]


def link_severity(host: str) -> Severity | None:
    """`high` for shorteners, invites, spam TLDs and numeric hosts; None for trusted
    platforms; `low` for any other domain."""
    host = host.lower().strip(".")
    if _within(host, SHORTENERS) or _within(host, INVITE_HOSTS):
        return "high"
    if _within(host, trusted_domains()):
        return None
    labels = host.split(".")
    if labels[-1] in SPAM_TLDS:
        return "high"
    name = labels[-2] if len(labels) > 1 else labels[0]
    if sum(ch.isdigit() for ch in name) >= 3:
        return "high"
    return "low"
