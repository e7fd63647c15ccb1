"""The AARRR funnel: joined → activated → retained → revenue → referral.

Semantics as product-analytics tools define funnels:
- step 1 is the member's first join into the workspace, with its local day in the range;
- every later step must happen within the conversion window counted from step 1, and at or
  after the step before it (ordered);
- activated: a first message (a check-in is a message) within `activation_days` of joining;
- retained: active again at least `retained_after_days` after joining ("a later week");
- revenue: a paid order; referral: a valid invite — an invitee new to the workspace who stays
  at least `invite_hold_hours` in the group;
- conversion is given overall (of step 1) and step to step; breakdowns are by first touch;
- `reached` counts who did each step at all within the window, in any order, so a paid order
  of a member who was not "retained" shows there and not in `count`.
"""

from __future__ import annotations

from typing import Literal, cast

from shequn.analytics.attribution import ensure_first_touch, ensure_valid_invites
from shequn.analytics.report import Chart, Column, Report, ratio
from shequn.analytics.source import Frame, Period
from shequn.config.analytics import AnalyticsSection

STEPS = ("joined", "activated", "retained", "revenue", "referral")
Breakdown = Literal["source", "campaign", "group", "cohort"]
RENAMED_BREAKDOWNS: dict[str, Breakdown] = {"channel": "source"}
"""Old names of breakdowns, still understood for one release (`--by channel`)."""
_DIMENSION = {
    "source": "source",
    "campaign": "campaign",
    "group": "grp",
    "cohort": "CAST(cohort_week AS VARCHAR)",
}


def breakdown_named(name: str) -> Breakdown | None:
    """The breakdown called `name`, old names included; None for no such breakdown."""
    current = RENAMED_BREAKDOWNS.get(name, name)
    return cast(Breakdown, current) if current in _DIMENSION else None


def funnel_members_sql(cfg: AnalyticsSection) -> str:
    """One row per member of the cohort with the time of each step reached (NULL if not).

    Needs tables `ft` and `vi` (attribution). Parameters: the range's first and last local day.
    """
    window = f"INTERVAL {int(cfg.conversion_window_days)} DAY"
    activation = f"INTERVAL {min(cfg.activation_days, cfg.conversion_window_days)} DAY"
    later = f"INTERVAL {int(cfg.retained_after_days)} DAY"
    return f"""
    WITH c AS (
        SELECT mid, ts AS t1 FROM ft WHERE lday BETWEEN ? AND ?
    ), act AS (
        SELECT mid, ts FROM ev WHERE type = 'message.posted'
    ), s23 AS (
        -- One pass over the cohort's messages. Every message here is at or after t1, so the
        -- earliest one (t2) precedes all others: "at or after t2" needs no test of its own.
        SELECT c.mid,
               min(a.ts) FILTER (WHERE a.ts < c.t1 + {activation}) AS t2,
               min(a.ts) FILTER (WHERE a.ts >= c.t1 + {later}) AS t3
        FROM c JOIN act a USING (mid)
        WHERE a.ts >= c.t1 AND a.ts < c.t1 + {window}
        GROUP BY c.mid
    ), s2 AS (
        SELECT mid, t2 FROM s23 WHERE t2 IS NOT NULL
    ), s3 AS (
        SELECT mid, t3 FROM s23 WHERE t2 IS NOT NULL AND t3 IS NOT NULL
    ), s4 AS (
        SELECT c.mid, min(o.ts) AS t4
        FROM c JOIN s3 USING (mid) JOIN ev o USING (mid)
        WHERE o.type = 'order.paid' AND o.ts >= s3.t3 AND o.ts < c.t1 + {window}
        GROUP BY c.mid
    ), s5 AS (
        SELECT c.mid, min(v.ts) AS t5
        FROM c JOIN s4 USING (mid) JOIN vi v USING (mid)
        WHERE v.ts >= s4.t4 AND v.ts < c.t1 + {window}
        GROUP BY c.mid
    ), r4 AS (
        -- Reached in any order: a paid order or a valid invite within the window at all.
        SELECT c.mid, min(o.ts) AS r4
        FROM c JOIN ev o USING (mid)
        WHERE o.type = 'order.paid' AND o.ts >= c.t1 AND o.ts < c.t1 + {window}
        GROUP BY c.mid
    ), r5 AS (
        SELECT c.mid, min(v.ts) AS r5
        FROM c JOIN vi v USING (mid)
        WHERE v.ts >= c.t1 AND v.ts < c.t1 + {window}
        GROUP BY c.mid
    )
    SELECT c.mid, c.t1, s2.t2, s3.t3, s4.t4, s5.t5,
           s23.t2 AS r2, s23.t3 AS r3, r4.r4, r5.r5
    FROM c
    LEFT JOIN s2 USING (mid)
    LEFT JOIN s3 USING (mid)
    LEFT JOIN s4 USING (mid)
    LEFT JOIN s5 USING (mid)
    LEFT JOIN s23 USING (mid)
    LEFT JOIN r4 USING (mid)
    LEFT JOIN r5 USING (mid)
    """


def funnel(
    frame: Frame, cfg: AnalyticsSection, period: Period, by: Breakdown | None = None
) -> Report:
    ensure_first_touch(frame, cfg)
    ensure_valid_invites(frame, cfg)
    dimension = _DIMENSION[by] if by else "'all'"
    sql = f"""
        WITH m AS ({funnel_members_sql(cfg)})
        SELECT {dimension} AS breakdown, count(*) AS joined, count(m.t2) AS activated,
               count(m.t3) AS retained, count(m.t4) AS revenue, count(m.t5) AS referral,
               count(m.r2) AS any_activated, count(m.r3) AS any_retained,
               count(m.r4) AS any_revenue, count(m.r5) AS any_referral
        FROM m JOIN ft USING (mid)
        GROUP BY ALL ORDER BY joined DESC, breakdown
    """
    rows = []
    for found in frame.rows(sql, [period.since, period.until]):
        previous = None
        for step in STEPS:
            count = int(found[step])
            rows.append(
                {
                    "breakdown": found["breakdown"] if found["breakdown"] is not None else "(none)",
                    "step": step,
                    "count": count,
                    # Members who did it at all in the window, whatever they did before.
                    "reached": int(found[f"any_{step}"]) if step != "joined" else count,
                    "overall_rate": ratio(count, found["joined"]),
                    "step_rate": ratio(count, previous) if previous is not None else 1.0,
                }
            )
            previous = count
    if not rows:
        rows = [
            {
                "breakdown": "all",
                "step": s,
                "count": 0,
                "reached": 0,
                "overall_rate": None,
                "step_rate": None,
            }
            for s in STEPS
        ]
    return Report(
        name="funnel",
        period=period,
        columns=[
            Column("breakdown", "text"),
            Column("step", "text"),
            Column("count"),
            Column("reached"),
            Column("overall_rate", "pct"),
            Column("step_rate", "pct"),
        ],
        rows=rows,
        chart=Chart("funnel", x="step", y=("count",), series="breakdown"),
        notes=("funnel.ordered",),
        meta={
            "by": by,
            "conversion_window_days": cfg.conversion_window_days,
            "activation_days": cfg.activation_days,
            "retained_after_days": cfg.retained_after_days,
            "invite_hold_hours": cfg.invite_hold_hours,
        },
    )
