"""The campaign review 复盘: every figure of DOMAIN.md for one campaign, as data (API, CLI
table) and as an HTML page with charts (inline SVG, no scripts)."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from shequn.community.models import members, memberships
from shequn.community.workspace import WorkspaceInfo
from shequn.config.growth import AnyCampaign
from shequn.engine.models import events
from shequn.growth.campaigns import access_campaign, cost_warnings
from shequn.growth.models import (
    code_scans,
    live_code_groups,
    live_codes,
    participants,
    referrals,
    rewards,
)
from shequn.growth.referrals import referral_graph
from shequn.growth.texts import say

RETENTION_DAYS = (1, 7, 30)


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _window(cond: list[Any], column: Any, start: datetime | None, end: datetime | None) -> None:
    if start is not None:
        cond.append(column >= start)
    if end is not None:
        cond.append(column < end)


def campaign_codes(conn: Connection, ws: WorkspaceInfo, key: str, listed: list[str]) -> list[str]:
    t = live_codes
    tagged = conn.execute(
        select(t.c.code).where(and_(t.c.workspace_id == ws.id, t.c.campaign == key))
    ).scalars()
    return sorted(set(tagged) | set(listed))


def review(conn: Connection, ws: WorkspaceInfo, key: str, *, now: datetime) -> dict[str, Any]:
    """All figures of one campaign at `now`."""
    spec = access_campaign(ws, key)
    start, end = spec.starts_at, spec.ends_at
    codes = campaign_codes(conn, ws, key, spec.codes)

    # Groups made: pool groups of the campaign's codes added within the window.
    p, t = live_code_groups, live_codes
    cond: list[Any] = [t.c.workspace_id == ws.id, t.c.code.in_(codes)]
    _window(cond, p.c.created_at, start, end)
    groups_made = int(
        conn.execute(
            select(func.count()).select_from(p.join(t, t.c.id == p.c.code_id)).where(and_(*cond))
        ).scalar_one()
    )

    # Scans and unique scanners.
    s = code_scans
    cond = [s.c.workspace_id == ws.id, s.c.code.in_(codes)]
    _window(cond, s.c.at, start, end)
    scans, named, anonymous = conn.execute(
        select(
            func.count(),
            func.count(s.c.scanner.distinct()),
            func.coalesce(func.sum(case((s.c.scanner.is_(None), 1), else_=0)), 0),
        ).where(and_(*cond))
    ).one()
    scanners = int(named) + int(anonymous or 0)

    # Joined: members who came in by the campaign's codes or by its invites.
    r, ms, m = referrals, memberships, members
    cond = [ms.c.workspace_id == ws.id, ms.c.code.in_(codes)]
    _window(cond, ms.c.joined_at, start, end)
    by_code = {
        (ch, mem)
        for ch, mem in conn.execute(select(ms.c.channel, ms.c.member_ext).where(and_(*cond)))
    }
    invited = select(r.c.channel, r.c.invitee).where(
        and_(r.c.workspace_id == ws.id, r.c.campaign == key)
    )
    by_invite = {(ch, mem) for ch, mem in conn.execute(invited)}
    joined = by_code | by_invite

    # New members: first touch in this campaign, within the window; net: still in a group.
    cond = [
        m.c.workspace_id == ws.id,
        m.c.first_joined_at.is_not(None),
        or_(m.c.first_code.in_(codes), m.c.ext_id.in_([x[1] for x in by_invite] or [""])),
    ]
    _window(cond, m.c.first_joined_at, start, end)
    newcomers = conn.execute(
        select(m.c.channel, m.c.ext_id, m.c.first_joined_at, m.c.groups_in).where(and_(*cond))
    ).all()
    net_new = sum(1 for row in newcomers if row.groups_in > 0)

    # Posters: forward rate = shared / got a poster.
    pt = participants
    got, shared, total_participants = conn.execute(
        select(
            func.count(pt.c.poster_at),
            func.count(pt.c.shared_at),
            func.count(),
        ).where(and_(pt.c.workspace_id == ws.id, pt.c.campaign == key))
    ).one()
    pass_rate = float(ws.config.growth.posters.forward_pass_rate)
    forward = _ratio(int(shared), int(got))

    # Invites, rewards and cost.
    graph = referral_graph(conn, ws, key)
    rw = rewards
    cost_rows = conn.execute(
        select(rw.c.status, func.count(), func.coalesce(func.sum(rw.c.cost_fen), 0))
        .where(and_(rw.c.workspace_id == ws.id, rw.c.campaign == key))
        .group_by(rw.c.status)
    ).all()
    by_status = {status: (int(n), int(cost)) for status, n, cost in cost_rows}
    reward_cost = sum(by_status.get(st, (0, 0))[1] for st in ("issued", "paid"))
    commission_cost = _commission_cost(conn, ws, key)
    sources = source_costs(conn, ws, codes, start, end, now)
    source_cost = sum(c["cost_fen"] for c in sources)
    total_cost = reward_cost + commission_cost + source_cost

    figures = {
        "campaign": key,
        "name": spec.name,
        "model": spec.model,
        "owner": spec.owner,
        "window": {
            "starts_at": start.isoformat() if start else None,
            "ends_at": end.isoformat() if end else None,
        },
        "codes": codes,
        "groups_made": groups_made,
        "scans": int(scans),
        "scanners": scanners,
        "joined": len(joined),
        "join_rate": _ratio(len(joined), scanners),
        "participants": max(int(total_participants), graph["participants"]),
        "posters": int(got),
        "shared": int(shared),
        "forward_rate": forward,
        "forward_pass_rate": pass_rate,
        "forward_pass": None if forward is None else forward >= pass_rate,
        "new_members": len(newcomers),
        "net_new_members": net_new,
        "invites": graph["invites"],
        "valid_invites": graph["valid"],
        "invalid_invites": graph["invalid"],
        "pending_invites": graph["pending"],
        "k_factor": graph["k_factor"],
        "rewards": {st: {"count": n, "cost_fen": c} for st, (n, c) in sorted(by_status.items())},
        "reward_cost_fen": reward_cost,
        "commission_cost_fen": commission_cost,
        "sources": sources,
        "source_cost_fen": source_cost,
        "cost_fen": total_cost,
        "cost_per_new_member_fen": total_cost // net_new if net_new else None,
        "budget_fen": spec.budget_fen,
        "budget_left_fen": None
        if spec.budget_fen is None
        else spec.budget_fen
        - sum(by_status.get(st, (0, 0))[1] for st in ("issued", "paid", "review")),
        "retention": _retention(
            conn, ws, [(row.channel, row.ext_id, row.first_joined_at) for row in newcomers], now
        ),
        "goal_forecast_actual": _goals(spec, groups_made, net_new, _ratio(len(joined), scanners)),
        "warnings": cost_warnings(spec, ws.locale),
    }
    return figures


def code_sources(conn: Connection, ws: WorkspaceInfo, codes: list[str]) -> dict[str, str]:
    """The configured acquisition source each code belongs to, by the rule first touch
    credits it with (`AnalyticsSection.code_source`)."""
    t = live_codes
    found = conn.execute(
        select(t.c.code, t.c.state, t.c.source).where(
            and_(t.c.workspace_id == ws.id, t.c.code.in_(codes))
        )
    ).all()
    known = {code: (state, source) for code, state, source in found}
    out: dict[str, str] = {}
    for code in codes:
        state, source = known.get(code, (None, None))
        name = ws.config.analytics.code_source(code, state, source)
        if name is not None:
            out[code] = name
    return out


def source_costs(
    conn: Connection,
    ws: WorkspaceInfo,
    codes: list[str],
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """What the acquisition sources of the campaign's codes cost over its window (its start to
    its end or `now`; without a start, all history as `source list`), by the one definition of
    source cost (`report roi`). A source shared with other campaigns counts whole."""
    wanted = set(code_sources(conn, ws, codes).values())
    if not wanted:
        return []
    from shequn.analytics.service import source_roi
    from shequn.analytics.source import Period

    period = None
    if start is not None:
        last = min(end, now) if end is not None else now
        since = start.astimezone(ws.tz).date()
        until = (last - timedelta(microseconds=1)).astimezone(ws.tz).date()
        period = Period(since, max(since, until), ws.tz)
    _, rows = source_roi(conn, ws, period, now=now)
    cost = {r["source"]: int(r["cost_fen"]) for r in rows}
    return [{"source": name, "cost_fen": cost.get(name, 0)} for name in sorted(wanted)]


def _commission_cost(conn: Connection, ws: WorkspaceInfo, key: str) -> int:
    from shequn.commerce.distribution import campaign_commissions_fen

    return campaign_commissions_fen(conn, ws.id, key)


def _retention(
    conn: Connection, ws: WorkspaceInfo, cohort: list[tuple[str, str, datetime]], now: datetime
) -> dict[str, Any]:
    """DN: of the members N days past their join, the share active on or after day N."""
    out: dict[str, Any] = {}
    ev = events
    last_active: dict[tuple[str, str], datetime] = {}
    ids = [member for _, member, _ in cohort]
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for channel, member, at in conn.execute(
            select(ev.c.channel, ev.c.member_ext, func.max(ev.c.at))
            .where(
                and_(
                    ev.c.workspace_id == ws.id,
                    ev.c.type == "message.posted",
                    ev.c.member_ext.in_(part),
                )
            )
            .group_by(ev.c.channel, ev.c.member_ext)
        ):
            last_active[(channel, member)] = at
    for days in RETENTION_DAYS:
        span = timedelta(days=days)
        eligible = [(ch, mem, j) for ch, mem, j in cohort if j + span <= now]
        kept = sum(
            1
            for ch, mem, j in eligible
            if (seen := last_active.get((ch, mem))) and seen >= j + span
        )
        out[f"d{days}"] = {
            "eligible": len(eligible),
            "retained": kept,
            "rate": _ratio(kept, len(eligible)),
        }
    return out


def _goals(
    spec: AnyCampaign, groups_made: int, net_new: int, join_rate: float | None
) -> list[dict[str, Any]]:
    goal, forecast = spec.goal, spec.forecast
    return [
        {
            "figure": "new_members",
            "goal": goal.new_members,
            "forecast": forecast.new_members,
            "actual": net_new,
        },
        {
            "figure": "groups",
            "goal": goal.groups,
            "forecast": forecast.groups,
            "actual": groups_made,
        },
        {
            "figure": "join_rate",
            "goal": goal.join_rate,
            "forecast": forecast.join_rate,
            "actual": join_rate,
        },
    ]


# --- Presentation -----------------------------------------------------------------------------

LABELS: dict[str, tuple[str, str]] = {
    "groups_made": ("裂变群数", "groups made"),
    "scans": ("扫码次数", "scans"),
    "scanners": ("扫码人数", "scanners"),
    "joined": ("进群人数", "joined"),
    "join_rate": ("进群率", "join rate"),
    "forward_rate": ("海报转发率", "poster forward rate"),
    "new_members": ("新增用户量", "new members"),
    "net_new_members": ("净增用户量", "net new members"),
    "valid_invites": ("有效邀请", "valid invites"),
    "invalid_invites": ("无效邀请", "invalid invites"),
    "k_factor": ("K 因子", "K-factor"),
    "reward_cost_fen": ("奖励成本（元）", "reward cost (¥)"),
    "commission_cost_fen": ("佣金（元）", "commissions (¥)"),
    "source_cost_fen": ("渠道成本（元）", "source cost (¥)"),
    "cost_fen": ("总成本（元）", "total cost (¥)"),
    "cost_per_new_member_fen": ("拉新成本（元/人）", "cost per new member (¥)"),
    "budget_left_fen": ("预算余额（元）", "budget left (¥)"),
}


def label(key: str, locale: str) -> str:
    zh, en = LABELS.get(key, (key, key))
    return zh if locale == "zh-CN" else en


def show(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key.endswith("_fen"):
        return f"{value / 100:,.2f}"
    if key in ("join_rate", "forward_rate") or isinstance(value, float):
        return f"{value:.1%}" if key.endswith("rate") else f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table_rows(figures: dict[str, Any], locale: str) -> list[tuple[str, str]]:
    out = [(label(k, locale), show(k, figures[k])) for k in LABELS]
    passed = figures["forward_pass"]
    mark = "—" if passed is None else ("✓" if passed else "✗")
    out.insert(6, (f"  ≥ {figures['forward_pass_rate']:.0%}", mark))
    zh = locale == "zh-CN"
    for name, d in figures["retention"].items():
        shown = "—" if d["rate"] is None else f"{d['rate']:.1%} ({d['retained']}/{d['eligible']})"
        out.append((f"{name.upper()} 留存" if zh else f"{name.upper()} retention", shown))
    for g in figures["goal_forecast_actual"]:
        key = "net_new_members" if g["figure"] == "new_members" else g["figure"]
        name = (
            f"{label(key, locale)} 目标/预测/实际"
            if zh
            else f"{label(key, locale)}: goal/forecast/actual"
        )
        out.append(
            (name, " / ".join(show(g["figure"], g[k]) for k in ("goal", "forecast", "actual")))
        )
    return out


def _bars(title: str, items: list[tuple[str, float]], fmt: str = "{:,.0f}") -> str:
    """A horizontal bar chart as inline SVG."""
    width, row, left = 640, 30, 170
    top = max((v for _, v in items), default=0) or 1
    height = row * len(items) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img"'
        f' aria-label="{html.escape(title)}"><text x="0" y="18" font-size="15" font-weight="bold">'
        f"{html.escape(title)}</text>"
    ]
    for i, (name, value) in enumerate(items):
        y = 32 + i * row
        w = int((width - left - 90) * (value / top))
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="13">{html.escape(name)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{max(w, 1)}" height="18" fill="#17BEBB"/>'
            f'<text x="{left + w + 6}" y="{y + 16}" font-size="13">'
            f"{html.escape(fmt.format(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(figures: dict[str, Any], locale: str = "zh-CN") -> str:
    title = f"{say('report.title', locale)} · {figures['name']}"
    funnel = [
        (label(k, locale), float(figures[k] or 0))
        for k in ("scans", "scanners", "joined", "valid_invites", "net_new_members")
    ]
    retention = [
        (name.upper(), 100.0 * (d["rate"] or 0.0)) for name, d in figures["retention"].items()
    ]
    goals = []
    for g in figures["goal_forecast_actual"]:
        for k in ("goal", "forecast", "actual"):
            if g[k] is not None:
                goals.append(
                    (
                        f"{g['figure']} · {k}",
                        float(g[k]) * (100 if g["figure"] == "join_rate" else 1),
                    )
                )
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in table_rows(figures, locale)
    )
    warnings = "".join(f'<p class="warn">{html.escape(w)}</p>' for w in figures["warnings"])
    return (
        f'<!doctype html><html lang="{html.escape(locale)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#2E282A}"
        "table{border-collapse:collapse;margin:1em 0}"
        "th,td{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}"
        "td{text-align:right}.warn{color:#B00020}"
        f"</style></head><body><h1>{html.escape(title)}</h1>{warnings}"
        f"<table>{rows}</table>"
        f"{_bars('漏斗 Funnel', funnel)}"
        f"{_bars('留存 Retention (%)', retention, '{:.1f}')}"
        f"{_bars('目标/预测/实际 Goal / forecast / actual', goals, '{:,.1f}')}"
        "</body></html>"
    )
