"""The KOL board 挖掘KOL: members scored on answering others, replies and mentions they
receive, consistency and tenure, over the range.

- answers: their replies to other members' messages;
- received: replies from others to their messages plus mentions of them by others;
- consistency: days they spoke / days in the range;
- tenure: days from their first join to the range's end, counted in full at `tenure_days`.
Score = Σ weight × value / (the largest value on the board), so the best in each scores its
full weight; consistency and tenure are shares already.
"""

from __future__ import annotations

from shequn.analytics.attribution import ensure_first_touch
from shequn.analytics.report import Chart, Column, Report
from shequn.analytics.source import Frame, Period
from shequn.config.analytics import AnalyticsSection

KOL_SQL = """
    WITH msgs AS (
        SELECT channel, member, msg_id, reply_to, mentions, lday
        FROM ev WHERE type = 'message.posted' AND lday BETWEEN $since AND $until
    ), authors AS (
        SELECT channel, msg_id, member FROM ev
        WHERE type = 'message.posted' AND msg_id IS NOT NULL AND lday <= $until
    ), replies AS (
        SELECT m.channel, m.member AS source, a.member AS target
        FROM msgs m JOIN authors a ON a.channel = m.channel AND a.msg_id = m.reply_to
        WHERE a.member <> m.member
    ), mentions AS (
        SELECT channel, member AS source, unnest(mentions) AS target
        FROM msgs WHERE mentions IS NOT NULL
    ), answers AS (
        SELECT channel, source AS member, count(*) AS answers FROM replies GROUP BY ALL
    ), received AS (
        SELECT channel, target AS member, count(*) AS received FROM (
            SELECT channel, source, target FROM replies
            UNION ALL
            SELECT channel, source, target FROM mentions WHERE source <> target
        ) GROUP BY ALL
    ), days AS (
        SELECT channel, member, count(DISTINCT lday) AS active_days FROM msgs GROUP BY ALL
    )
    SELECT d.channel, d.member, d.active_days,
           coalesce(a.answers, 0) AS answers, coalesce(r.received, 0) AS received,
           greatest(0, $until - f.lday) AS tenure_days
    FROM days d
    LEFT JOIN answers a USING (channel, member)
    LEFT JOIN received r USING (channel, member)
    LEFT JOIN ft f USING (channel, member)
"""


def kol(frame: Frame, cfg: AnalyticsSection, period: Period, limit: int = 20) -> Report:
    ensure_first_touch(frame, cfg)
    found = frame.rows(KOL_SQL, {"since": period.since, "until": period.until})
    w = cfg.kol
    top_answers = max((int(r["answers"]) for r in found), default=0) or 1
    top_received = max((int(r["received"]) for r in found), default=0) or 1
    board = []
    for r in found:
        tenure = int(r["tenure_days"] or 0)
        consistency = int(r["active_days"]) / period.days
        score = (
            w.answers * int(r["answers"]) / top_answers
            + w.received * int(r["received"]) / top_received
            + w.consistency * consistency
            + w.tenure * min(tenure, w.tenure_days) / w.tenure_days
        )
        board.append(
            {
                "channel": r["channel"],
                "member": r["member"],
                "score": round(score, 2),
                "answers": int(r["answers"]),
                "received": int(r["received"]),
                "consistency": consistency,
                "tenure_days": tenure,
            }
        )
    board.sort(key=lambda row: (-row["score"], row["member"]))
    rows = [{"rank": i, **row} for i, row in enumerate(board[:limit], start=1)]
    return Report(
        name="kol",
        period=period,
        columns=[
            Column("rank"),
            Column("member", "text"),
            Column("score", "float"),
            Column("answers"),
            Column("received"),
            Column("consistency", "pct"),
            Column("tenure_days"),
        ],
        rows=rows,
        chart=Chart("bar", x="member", y=("score",)),
        meta={"candidates": len(board)},
    )
