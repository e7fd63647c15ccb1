"""First-touch attribution of a member: the chat platform (`channel`), acquisition source,
campaign, inviter, code and `state`. Other domains (commerce) credit sales through this,
never through growth's tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select

from shequn.community.models import members
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.rules import Context
from shequn.growth.models import live_codes, referrals
from shequn.growth.referrals import ReferralBook


@dataclass(frozen=True, slots=True)
class Attribution:
    channel: str
    """The member's chat platform (sandbox, wecom, telegram)."""
    member: str
    group: str | None = None
    code: str | None = None
    state: str | None = None
    inviter: str | None = None
    campaign: str | None = None
    source: str | None = None
    """The acquisition source the first-touch code was made for (`livecode create --source`),
    as given. Reports credit a join by `AnalyticsSection.code_source`, where a configured
    source's `states` or `codes` come first, so the two differ when they disagree."""

    def public(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "member": self.member,
            "group": self.group,
            "code": self.code,
            "state": self.state,
            "inviter": self.inviter,
            "campaign": self.campaign,
            "source": self.source,
        }


def _code_info(
    conn: Connection, workspace_id: int, code: str | None
) -> tuple[str | None, str | None]:
    if code is None:
        return None, None
    t = live_codes
    row = conn.execute(
        select(t.c.campaign, t.c.source).where(
            and_(t.c.workspace_id == workspace_id, t.c.code == code)
        )
    ).first()
    return (None, None) if row is None else (row[0], row[1])


def attribution_in_run(ctx: Context, channel: str, member: str) -> Attribution:
    """Attribution as the engine sees it (projections of the running batch included)."""
    person = ctx.state.member(channel, member)
    book = ctx.book(ReferralBook)
    ref = book.get(channel, member)
    code = person.first_code if person else None
    campaign, source = book.code_info(code)
    return Attribution(
        channel=channel,
        member=member,
        group=person.first_group if person else None,
        code=code,
        state=person.first_state if person else None,
        inviter=(ref["inviter"] if ref else None) or (person.first_inviter if person else None),
        campaign=(ref["campaign"] if ref else None) or campaign,
        source=source,
    )


def member_attribution(
    conn: Connection, ws: WorkspaceInfo, channel: str, member: str
) -> Attribution:
    m, r = members, referrals
    person = (
        conn.execute(
            select(m.c.first_group, m.c.first_code, m.c.first_state, m.c.first_inviter).where(
                and_(m.c.workspace_id == ws.id, m.c.channel == channel, m.c.ext_id == member)
            )
        )
        .mappings()
        .first()
    )
    ref = conn.execute(
        select(r.c.inviter, r.c.campaign).where(
            and_(r.c.workspace_id == ws.id, r.c.channel == channel, r.c.invitee == member)
        )
    ).first()
    code = person["first_code"] if person else None
    campaign, source = _code_info(conn, ws.id, code)
    return Attribution(
        channel=channel,
        member=member,
        group=person["first_group"] if person else None,
        code=code,
        state=person["first_state"] if person else None,
        inviter=(ref[0] if ref else None) or (person["first_inviter"] if person else None),
        campaign=(ref[1] if ref else None) or campaign,
        source=source,
    )
