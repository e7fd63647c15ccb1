"""First touch: each member's first join, and the acquisition source and campaign it is
credited to.

A join's source is `AnalyticsSection.code_source` of its `code`, `state` and the live code's
`source` (the one rule `source list` and the campaign review use too), else the state or code
itself; a join with an inviter is a referral; the rest came directly. A referral's campaign
is the campaign of the inviter's latest poster share before the join.
"""

from __future__ import annotations

from shequn.analytics.source import Frame
from shequn.config.analytics import AnalyticsSection


def ensure_first_touch(frame: Frame, cfg: AnalyticsSection) -> None:
    """Make table `ft`: one row per member with their first join and its attribution."""
    con = frame.con
    if frame.has_temp("ft"):
        return
    con.execute("CREATE TEMP TABLE source_map (state VARCHAR, code VARCHAR, name VARCHAR)")
    con.execute("CREATE TEMP TABLE camp_map (kind VARCHAR, key VARCHAR, name VARCHAR)")
    # Few distinct (state, code) pairs: each is mapped in Python by the one rule.
    pairs = con.execute(
        "SELECT DISTINCT state, code FROM ev WHERE type = 'member.joined'"
        " AND (state IS NOT NULL OR code IS NOT NULL)"
    ).fetchall()
    source_rows = [
        (state, code, name)
        for state, code in pairs
        if (name := cfg.code_source(code, state, frame.code_sources.get(code or ""))) is not None
    ]
    camp_rows = [("state", s, c.name) for c in cfg.campaigns for s in c.states]
    camp_rows += [("code", s, c.name) for c in cfg.campaigns for s in c.codes]
    if source_rows:
        con.executemany("INSERT INTO source_map VALUES (?, ?, ?)", source_rows)
    if camp_rows:
        con.executemany("INSERT INTO camp_map VALUES (?, ?, ?)", camp_rows)
    con.execute(
        """
        CREATE TEMP TABLE ft AS
        WITH first AS (
            SELECT channel, member, unnest(arg_min(
                struct_pack(mid, ts, seq, lday, grp, state, code, inviter, scene), (ts, seq)))
            FROM ev WHERE type = 'member.joined'
            GROUP BY channel, member
        ),
        posters AS (
            SELECT f.channel, f.member,
                   arg_max(p.campaign, (p.ts, p.seq)) AS campaign
            FROM first f JOIN ev p
              ON p.type = 'poster.shared' AND p.channel = f.channel AND p.member = f.inviter
             AND p.ts <= f.ts
            GROUP BY f.channel, f.member
        )
        SELECT f.*,
               coalesce(sm.name, f.state, f.code,
                        CASE WHEN f.inviter IS NOT NULL THEN 'referral' ELSE 'direct' END)
                   AS source,
               coalesce(cs.name, cc.name, po.campaign, '(none)') AS campaign,
               CAST(date_trunc('week', f.lday) AS DATE) AS cohort_week,
               iv.mid AS inviter_mid
        FROM first f
        LEFT JOIN first iv ON iv.channel = f.channel AND iv.member = f.inviter
        LEFT JOIN source_map sm
          ON sm.state IS NOT DISTINCT FROM f.state AND sm.code IS NOT DISTINCT FROM f.code
        LEFT JOIN camp_map cs ON cs.kind = 'state' AND cs.key = f.state
        LEFT JOIN camp_map cc ON cc.kind = 'code' AND cc.key = f.code
        LEFT JOIN posters po ON po.channel = f.channel AND po.member = f.member
        """
    )


def ensure_valid_invites(frame: Frame, cfg: AnalyticsSection) -> None:
    """Make table `vi`: valid invites — an invitee's first join into the workspace, by an
    inviter other than themselves, not followed by leaving that group within the hold.
    (`mid` is the inviter's, known when the inviter has joined a group themselves.)"""
    ensure_first_touch(frame, cfg)
    if frame.has_temp("vi"):
        return
    hold = f"INTERVAL {int(cfg.invite_hold_hours)} HOUR"
    frame.con.execute(
        f"""
        CREATE TEMP TABLE vi AS
        SELECT i.channel, i.inviter AS member, i.inviter_mid AS mid, i.member AS invitee,
               i.ts, i.lday
        FROM ft i
        WHERE i.inviter IS NOT NULL AND i.inviter <> i.member
          AND NOT EXISTS (
              SELECT 1 FROM ev l
              WHERE l.type = 'member.left' AND l.channel = i.channel AND l.member = i.member
                AND l.grp = i.grp AND l.ts >= i.ts AND l.ts <= i.ts + {hold}
          )
        """
    )
