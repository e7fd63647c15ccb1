"""Link reputation, context words and the policy of second signals."""

from __future__ import annotations

from shequn.moderation.detectors import Message, find_links, scan
from shequn.moderation.findings import Finding
from shequn.moderation.normalize import default_normalizer
from shequn.moderation.reputation import link_severity
from shequn.moderation.verdict import punishing

norm = default_normalizer()


def test_big_platforms_are_no_finding_and_shorteners_or_invites_are_strong() -> None:
    assert link_severity("www.youtube.com") is None
    assert link_severity("github.com") is None
    assert link_severity("app.diagrams.net") is None
    assert link_severity("bit.ly") == "high"
    assert link_severity("t.me") == "high"
    assert link_severity("qm.qq.com") == "high"  # an invite, although qq.com is trusted
    assert link_severity("lucky888.xyz") == "high"  # a TLD spam favours
    assert link_severity("d9623.com") == "high"  # a host made of numbers
    assert link_severity("example.org") == "low"


def test_links_in_chat() -> None:
    assert find_links(norm("教程在 youtube.com/watch?v=abc 看")) == []
    (found,) = find_links(norm("资料见 example.org/guide"))
    assert (found.value, found.severity) == ("example.org", "low")
    (found,) = find_links(norm("加群 t.me/+AbCdEf123"))
    assert (found.value, found.severity) == ("t.me", "high")


def test_russian_initials_are_not_a_domain() -> None:
    # Cyrillic А and То fold to Latin look-alikes; "А. То есть" must not become a.to.
    assert find_links(norm("А. То есть ты прав")) == []
    assert [f.value for f in find_links(norm("go to abc.to now"))] == ["abc.to"]


def test_context_words_need_a_second_signal() -> None:
    findings = scan(Message("键盘敲得啪啪啪的"))
    assert [(f.detector, f.severity) for f in findings] == [("words", "low")]
    assert punishing(findings) == []
    assert punishing(findings, newcomer=True) == findings
    assert punishing(findings, score=0.7) == findings
    # Two weak signals together punish: a context word and an unknown link.
    both = scan(Message("啪啪啪 视频见 example.org/v"))
    assert len(punishing(both)) == 2


def test_strong_findings_punish_alone_and_cards_never() -> None:
    strong = Finding("phone", "ads", "138", "high", "13812345678")
    card = Finding("card", "ads", "card", "low", "miniprogram")
    assert punishing([strong]) == [strong]
    assert punishing([card], newcomer=True) == []
    assert punishing([strong, card]) == [strong]
