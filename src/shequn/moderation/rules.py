"""Engine rules of moderation: content and behaviour checks on messages, the ban list and
newcomer screening on joins. Every decision is logged as a violation with its evidence."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from shequn.actions import ActionKind, Decision
from shequn.config.moderation import ModerationSection
from shequn.engagement.points import PointsBook
from shequn.engine.rules import Context, rule
from shequn.events import Event, MemberJoinedData, MessagePostedData, ViolationRevertedData
from shequn.moderation.book import ModerationBook, scan_config
from shequn.moderation.detectors import ScanConfig, scan
from shequn.moderation.findings import Finding
from shequn.moderation.normalize import Normalized
from shequn.moderation.texts import say, why
from shequn.moderation.verdict import punishing

_RANK = {"dry_run": 0, "soft": 1, "enforce": 2}
_KIND = {
    "delete": ActionKind.MESSAGE_DELETE,
    "warn": ActionKind.MEMBER_WARN,
    "mute": ActionKind.MEMBER_MUTE,
    "remove": ActionKind.MEMBER_REMOVE,
    "blacklist": ActionKind.MEMBER_BLACKLIST,
    "notify": ActionKind.STAFF_TASK,
}


def violation_id(workspace_id: int, channel: str, event_id: str) -> str:
    digest = hashlib.blake2b(f"{workspace_id}|{channel}|{event_id}".encode(), digest_size=12)
    return f"vio_{digest.hexdigest()}"


def is_exempt(ctx: Context, event: Event) -> bool:
    """Staff, helpers, bots, the whitelist and the group's owner are never punished."""
    return ctx.exempt(event.channel, event.group, event.member or "")


def _content_findings(
    ctx: Context,
    event: Event,
    data: MessagePostedData,
    cfg: ModerationSection,
    scanner: ScanConfig,
    norm: Normalized | None,
) -> list[Finding]:
    if cfg.approve_after:
        member = ctx.state.member(event.channel, event.member or "")
        if member is not None and member.message_count > cfg.approve_after:
            return []  # approved: only behavioural checks keep running
    return scan(data, scanner, norm)


@rule("moderation", "content", on=["message.posted"])
def moderate_message(event: Event, ctx: Context) -> Iterable[Decision]:
    cfg = ctx.settings(event.channel, event.group).moderation
    assert isinstance(event.data, MessagePostedData)
    if not cfg.enabled or is_exempt(ctx, event):
        return ()
    assert event.group is not None and event.member is not None
    book = ctx.book(ModerationBook)
    book.ready(ctx.workspace)
    data = event.data
    # Normalised once for every detector that reads the text.
    scanner = scan_config(cfg)
    norm = scanner.normalizer(data.text) if data.text else None
    findings = _content_findings(ctx, event, data, cfg, scanner, norm)
    findings += book.observe(event.group, event.member, norm, event.at)
    if book.samples is not None and norm is not None:
        similar = book.samples.check(norm)
        if similar is not None:
            findings.append(similar)
    newcomer = _is_newcomer(ctx, event, cfg)
    score = None
    model = book.classifier(ctx.workspace) if norm is not None else None
    if model is not None and norm is not None:
        threshold = cfg.classifier_newcomer_threshold if newcomer else cfg.classifier_threshold
        score, scored = model.finding(norm, threshold)
        if scored is not None:
            findings.append(scored)
    punish = punishing(findings, newcomer=newcomer, score=score)
    if not punish:
        return ()
    return _decide(ctx, event, punish, message_id=data.message_id, text=data.text)


def _is_newcomer(ctx: Context, event: Event, cfg: ModerationSection) -> bool:
    """Within `newcomer_hours` of joining this group: weak findings count on their own."""
    if not cfg.newcomer_hours:
        return False
    ms = ctx.state.membership(event.channel, event.group or "", event.member or "")
    joined = ms.joined_at if ms is not None else None
    return joined is not None and event.at - joined < timedelta(hours=cfg.newcomer_hours)


def _decide(
    ctx: Context,
    event: Event,
    findings: list[Finding],
    *,
    message_id: str | None,
    text: str | None,
) -> list[Decision]:
    cfg = ctx.settings(event.channel, event.group).moderation
    locale = ctx.workspace.locale
    assert event.group is not None and event.member is not None
    mode = max((cfg.mode_of(f.detector) for f in findings), key=_RANK.__getitem__)
    primary = findings[0]
    reason_why = "；".join(dict.fromkeys(why(f.detector, f.value, locale) for f in findings))
    book = ctx.book(ModerationBook)
    since = event.at - timedelta(days=cfg.window_days)
    offence = book.offences(event.channel, event.member, since) + 1
    decisions: list[Decision] = []
    taken: list[str] = []
    if mode == "soft":
        taken = ["notify"]
        decisions.append(
            Decision(
                ActionKind.STAFF_TASK,
                say(
                    "soft",
                    locale,
                    member=event.member,
                    group=event.group,
                    evidence=primary.evidence[:100],
                    why=reason_why,
                ),
                group=event.group,
                member=event.member,
                data={"message_id": message_id},
            )
        )
    elif mode == "enforce":
        step = cfg.ladder[min(offence, len(cfg.ladder)) - 1]
        taken = list(step.actions)
        reason = say("reason", locale, offence=offence, why=reason_why)
        decisions += [_action(ctx, event, a, reason, reason_why, message_id) for a in taken]
        if "blacklist" in taken:
            book.ban(event.channel, event.member, reason, event.at, "moderation")
            member = ctx.state.member(event.channel, event.member)
            if member is not None:
                member.blacklisted = True
                ctx.state.members.touch((event.channel, event.member))
        _deduct_points(ctx, event, reason)
    book.record(
        {
            "id": violation_id(ctx.workspace.id, event.channel, event.id),
            "workspace_id": ctx.workspace.id,
            "channel": event.channel,
            "group_ext": event.group,
            "member_ext": event.member,
            "message_id": message_id,
            "detector": primary.detector,
            "category": primary.category,
            "findings": [_finding_json(f) for f in findings],
            "text": (text or "")[:2000],
            "mode": mode,
            "offence": offence if mode == "enforce" else 0,
            "actions": taken,
            "caused_by": event.id,
            "at": event.at,
            "reverted_at": None,
            "reverted_by": None,
        }
    )
    return decisions


def _action(
    ctx: Context,
    event: Event,
    action: str,
    reason: str,
    reason_why: str,
    message_id: str | None,
) -> Decision:
    data: dict[str, Any] = {}
    if action == "delete":
        data["message_id"] = message_id
    elif action == "warn":
        ms = ctx.state.membership(event.channel, event.group or "", event.member or "")
        nickname = (ms.nickname if ms else None) or event.member
        data["text"] = say("warn", ctx.workspace.locale, nickname=nickname, why=reason_why)
        data["mentions"] = [event.member]
    elif action == "mute":
        data["seconds"] = 24 * 3600
    return Decision(_KIND[action], reason, group=event.group, member=event.member, data=data)


def _deduct_points(ctx: Context, event: Event, reason: str) -> None:
    penalty = ctx.settings(event.channel, event.group).moderation.points_penalty
    if penalty <= 0:
        return
    book = ctx.book(PointsBook)
    levels = ctx.config.levels
    standing = book.standing(event.channel, event.member or "", levels.level_for(0))
    book.post(
        standing,
        delta=-penalty,
        kind="violation",
        key=f"violation:{violation_id(ctx.workspace.id, event.channel, event.id)}",
        reason=reason,
        rule="moderation.content",
        at=event.at,
        level_for=levels.level_for,
        caused_by=event.id,
        group=event.group,
        allow_negative=ctx.config.points.allow_negative,
    )


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "detector": f.detector,
        "category": f.category,
        "evidence": f.evidence,
        "severity": f.severity,
        "value": f.value,
    }


@rule("moderation", "newcomers", on=["message.posted"])
def hold_newcomer_media(event: Event, ctx: Context) -> Iterable[Decision]:
    """Links and media from a member in their first hours are taken down with a kind word."""
    cfg = ctx.settings(event.channel, event.group).moderation
    assert isinstance(event.data, MessagePostedData)
    if not cfg.enabled or not cfg.newcomer_hours or event.data.kind not in cfg.newcomer_blocked:
        return ()
    if is_exempt(ctx, event) or event.id in ctx.book(ModerationBook).judged:
        return ()  # exempt, or already handled as a violation
    ms = ctx.state.membership(event.channel, event.group or "", event.member or "")
    joined = ms.joined_at if ms is not None else None
    if joined is None or event.at - joined >= timedelta(hours=cfg.newcomer_hours):
        return ()
    locale = ctx.workspace.locale
    nickname = (ms.nickname if ms else None) or event.member
    reason = say("newcomer_media.reason", locale, hours=cfg.newcomer_hours, kind=event.data.kind)
    return [
        Decision(
            ActionKind.MESSAGE_DELETE,
            reason,
            group=event.group,
            member=event.member,
            data={"message_id": event.data.message_id},
        ),
        Decision(
            ActionKind.MESSAGE_SEND,
            reason,
            group=event.group,
            member=event.member,
            data={
                "text": say("newcomer_media", locale, nickname=nickname, hours=cfg.newcomer_hours),
                "mentions": [event.member],
            },
        ),
    ]


@rule("moderation", "banlist", on=["member.joined"])
def enforce_ban_list(event: Event, ctx: Context) -> Iterable[Decision]:
    """A member on the workspace's ban list is removed from any group they join."""
    cfg = ctx.settings(event.channel, event.group).moderation
    if not cfg.enabled or event.member is None:
        return ()
    if not ctx.book(ModerationBook).banned(event.channel, event.member):
        return ()
    return [
        Decision(
            ActionKind.MEMBER_REMOVE,
            say("banned", ctx.workspace.locale),
            group=event.group,
            member=event.member,
        )
    ]


@rule("moderation", "screening", on=["member.joined"])
def screen_newcomer(event: Event, ctx: Context) -> Iterable[Decision]:
    """Ad words in the nickname, or a burst of joins across groups: staff take a look."""
    cfg = ctx.settings(event.channel, event.group).moderation
    assert isinstance(event.data, MemberJoinedData)
    if not cfg.enabled or event.member is None or event.group is None:
        return ()
    book = ctx.book(ModerationBook)
    book.ready(ctx.workspace)
    groups_joined = book.note_join(event.channel, event.member, event.group, event.at)
    if not cfg.screen_joins or is_exempt(ctx, event):
        return ()
    findings: list[Finding] = []
    scanner = scan_config(cfg)
    nick = scan_nickname(event.data.nickname, scanner)
    if nick is not None:
        findings.append(nick)
    if groups_joined >= cfg.join_burst:
        findings.append(Finding("join_burst", "spam", f"{groups_joined} groups", "medium"))
    if not findings:
        return ()
    locale = ctx.workspace.locale
    reason_why = "；".join(why(f.detector, f.value, locale) for f in findings)
    return [
        Decision(
            ActionKind.STAFF_TASK,
            say("suspicious", locale, member=event.member, group=event.group, why=reason_why),
            group=event.group,
            member=event.member,
            data={"findings": [_finding_json(f) for f in findings]},
        )
    ]


def scan_nickname(nickname: str, scanner: Any) -> Finding | None:
    """A nickname made to advertise: listed words, or the 'AAA' prefix that sorts first."""
    if nickname.upper().startswith("AAA") or nickname.startswith("Ａ"):
        return Finding("nickname", "ads", nickname, "medium", "AAA")
    if scanner.words is not None:
        norm = scanner.normalizer(nickname)
        hits = scanner.words.find_indexes(norm.text)
        if hits:
            return Finding("nickname", "ads", nickname, "medium", nickname)
    return None


@rule("moderation", "revert", on=["violation.reverted"])
def revert_violation(event: Event, ctx: Context) -> Iterable[Decision]:
    """Staff undid a false positive: the violation stops counting, its points come back, a
    removed member comes off the ban list (staff are asked to invite them back), and its
    text is learnt as clean. A violation already reverted, or absent from a replay run
    with another configuration, is left alone."""
    data = event.data
    assert isinstance(data, ViolationRevertedData)
    book = ctx.book(ModerationBook)
    v = book.violation(violation_id(ctx.workspace.id, event.channel, data.event))
    if v is None or v["reverted_at"] is not None:
        return ()
    book.revert(v, event.at, data.by)
    _refund_points(ctx, v, event.at)
    decisions: list[Decision] = []
    if {"remove", "blacklist"} & set(v["actions"]):
        book.lift_ban(v["channel"], v["member_ext"], event.at)
        decisions.append(
            Decision(
                ActionKind.STAFF_TASK,
                say("restore", ctx.workspace.locale, member=v["member_ext"], group=v["group_ext"]),
                group=v["group_ext"],
                member=v["member_ext"],
            )
        )
    if v["text"]:
        book.add_sample(ctx.workspace, v["text"], "clean", v["id"], data.by, event.at)
    return decisions


def revert_key(violation: str) -> str:
    """The ledger key of a reverted violation's refund."""
    return f"revert:{violation}"


def _refund_points(ctx: Context, v: dict[str, Any], at: datetime) -> None:
    book = ctx.book(PointsBook)
    deducted = book.entry_delta(f"violation:{v['id']}")
    if not deducted:
        return
    levels = ctx.config.levels
    standing = book.standing(v["channel"], v["member_ext"], levels.level_for(0))
    book.post(
        standing,
        delta=-deducted,
        kind="revert",
        key=revert_key(v["id"]),
        reason=say("refund", ctx.workspace.locale),
        rule="moderation.revert",
        at=at,
        level_for=levels.level_for,
        caused_by=v["caused_by"],
        group=v["group_ext"],
        earns=False,
    )
