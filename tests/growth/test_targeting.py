"""Campaigns that target a CRM segment: only members in the segment at the time of the act
take part (an inviter's invite counts for the campaign, a bargain starts) and are rewarded;
the rest are recorded as rejected (note `segment`). Judged on the log up to the act's time,
whatever else the batch holds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.crm.service import do_delete_segment, do_save_segment
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.growth import fission
from shequn.growth.fission import Refused
from shequn.growth.rewards import list_rewards
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW, T0, joined, posted
from tests.growth.helpers import app_with_domains, rows, token

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
TALKERS = {"behaviour": "messages", "op": ">=", "value": 1}


def targeted(engine: Engine, ws: WorkspaceInfo, **campaigns: Any) -> WorkspaceInfo:
    with transaction(engine) as conn:
        do_save_segment(conn, ws, "talkers", TALKERS, now=NOW)
        return do_apply_config(conn, ws.slug, {"campaigns": campaigns}, check_references=True)


def ledger(engine: Engine, ws: WorkspaceInfo) -> list[tuple[str, str, str | None]]:
    with engine.connect() as conn:
        return sorted((r["member"], r["status"], r["note"]) for r in list_rewards(conn, ws))


def test_only_inviters_in_the_segment_at_their_invite_take_part(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ladder = [{"min_invites": 1, "per_invite_fen": 1000}]
    spec = {"model": "invitation", "name": "老带新", "ladder": ladder, "segment": "talkers"}
    ws = targeted(engine, workspace, spring=spec)
    # One batch: quiet speaks an hour after his invitee joined, too late for that invite.
    do_ingest_events(
        engine,
        ws,
        [
            joined("boss", at=T0 - DAY),
            joined("quiet", at=T0 - DAY),
            posted("boss", "大家好", at=T0 - HOUR),
            joined("u-1", at=T0, inviter="boss", scene="invite"),
            joined("u-2", at=T0, inviter="quiet", scene="invite"),
            posted("quiet", "我也来了", at=T0 + HOUR),
        ],
    )
    tick(engine, ws, T0 + 2 * DAY)
    assert ledger(engine, ws) == [("boss", "issued", None)]
    campaigns = {r["invitee"]: r["campaign"] for r in rows(engine, ws, "referrals")}
    assert campaigns == {"u-1": "spring", "u-2": None}
    assert {p["member"] for p in rows(engine, ws, "participants")} == {"boss"}
    # Now a talker, quiet's next invite counts.
    do_ingest_events(engine, ws, [joined("u-3", at=T0 + 3 * DAY, inviter="quiet")])
    tick(engine, ws, T0 + 5 * DAY)
    assert ledger(engine, ws) == [("boss", "issued", None), ("quiet", "issued", None)]


def test_a_reward_for_someone_outside_the_segment_is_rejected(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    spec = {
        "model": "mutual",
        "name": "好友同享",
        "segment": "talkers",
        "sharer_reward": {"kind": "cash", "amount_fen": 500},
        "helper_reward": {"kind": "cash", "amount_fen": 300},
    }
    ws = targeted(engine, workspace, mutual=spec)
    evs = [joined("boss", at=T0 - DAY), posted("boss", "在", at=T0 - HOUR)]
    do_ingest_events(engine, ws, [*evs, joined("u-1", at=T0, inviter="boss")])
    tick(engine, ws, T0 + 2 * DAY)
    # The invitee never spoke: their half is recorded, rejected, and never paid by a replay.
    assert ledger(engine, ws) == [("boss", "issued", None), ("u-1", "rejected", "segment")]
    do_ingest_events(engine, ws, [posted("u-1", "谢谢", at=T0 + 3 * DAY)])
    tick(engine, ws, T0 + 4 * DAY)
    assert ledger(engine, ws) == [("boss", "issued", None), ("u-1", "rejected", "segment")]


def test_a_deleted_segment_admits_no_one(engine: Engine, workspace: WorkspaceInfo) -> None:
    spec = {"model": "bargain", "name": "砍价", "price_fen": 5000, "target_fen": 100}
    ws = targeted(engine, workspace, kan={**spec, "helpers": 3, "segment": "talkers"})
    do_ingest_events(engine, ws, [joined("boss", at=T0 - DAY), posted("boss", "在", at=T0)])
    with transaction(engine) as conn:
        do_delete_segment(conn, ws, "talkers")
        with pytest.raises(Refused, match="talkers"):
            fission.do_start_assist(conn, ws, "kan", "sandbox", "boss", T0 + HOUR)


def test_assists_over_the_api_only_for_the_segment(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    spec = {"model": "bargain", "name": "砍价", "price_fen": 5000, "target_fen": 100}
    ws = targeted(engine, workspace)
    do_ingest_events(
        engine,
        ws,
        [joined("boss", at=T0 - DAY), joined("quiet", at=T0 - DAY), posted("boss", "在", at=T0)],
    )
    auth, base = token(engine, ws), f"/api/v1/workspaces/{ws.slug}/campaigns"
    at = (T0 + HOUR).isoformat()
    with TestClient(app_with_domains(settings, engine)) as client:
        put = client.put(
            f"{base}/kan", json={**spec, "helpers": 3, "segment": "talkers"}, headers=auth
        )
        assert put.status_code == 200, put.text
        no = client.post(f"{base}/kan/assists", json={"member": "quiet", "at": at}, headers=auth)
        assert no.status_code == 409
        assert no.headers["content-type"].startswith("application/problem+json")
        assert "talkers" in no.json()["detail"]
        yes = client.post(f"{base}/kan/assists", json={"member": "boss", "at": at}, headers=auth)
        assert yes.status_code == 200, yes.text
    assert [a["member"] for a in rows(engine, ws, "assists")] == ["boss"]
