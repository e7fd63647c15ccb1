"""Members are told of their rewards: one @mention in the group where the campaign reached
them, once per reward, never for a reward in review or rejected, in the workspace's language,
and not at all when the campaign switches it off."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.workspace import WorkspaceInfo
from shequn.config.growth import Reward
from shequn.engine.ingest import tick
from shequn.engine.outbox import deliver_due
from shequn.engine.service import do_ingest_events
from shequn.growth import fission
from shequn.growth.rewards import give_now, list_rewards
from shequn.platform.clock import FixedClock
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import T0, joined
from tests.growth.helpers import app_with_domains, configure, rows, token

DAY = timedelta(days=1)
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆")


def invitation(**spec: Any) -> dict[str, Any]:
    return {
        "model": "invitation",
        "name": "春季老带新",
        "ladder": [{"min_invites": 1, "per_invite_fen": 1000}],
        **spec,
    }


def world(engine: Engine, ws: WorkspaceInfo, spec: dict[str, Any], **doc: Any) -> WorkspaceInfo:
    ws = configure(engine, ws, {"campaigns": {"camp": spec}, **doc})
    do_ingest_events(engine, ws, [joined("boss", at=T0 - DAY, nickname="老板")])
    return ws


def invite(member: str, at: datetime, i: int = 0, group: str = "g-1", **kw: Any):
    kw.setdefault("nickname", NAMES[i % len(NAMES)])
    return joined(member, group, at=at, inviter="boss", scene="invite", **kw)


def notices(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    """Reward notices (welcomes are messages too)."""
    return [
        a
        for a in rows(engine, ws, "actions")
        if a["kind"] == "message.send" and "reward" in a["data"]
    ]


def ledger(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return list_rewards(conn, ws)


def test_an_issued_reward_is_announced_once_in_the_group(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = world(engine, workspace, invitation(staff_account="烘焙小助手"))
    evs = [invite("u-1", T0)]
    do_ingest_events(engine, ws, evs)
    assert notices(engine, ws) == []  # held: nothing issued yet
    tick(engine, ws, T0 + DAY + timedelta(minutes=1))
    (notice,) = notices(engine, ws)
    assert (notice["group"], notice["member"]) == ("g-1", "boss")
    assert notice["data"]["mentions"] == ["boss"]
    text = notice["data"]["text"]
    assert text.startswith("@老板") and "春季老带新" in text and "现金 ¥10.00" in text
    assert "请添加工作人员「烘焙小助手」领取" in text
    (reward,) = ledger(engine, ws)
    assert notice["data"]["reward"] == reward["id"]
    # Replays and a second run of the scheduler decide nothing new.
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, T0 + 3 * DAY)
    assert notices(engine, ws) == [notice]


def test_points_coupons_and_identities_say_what_they_are(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = world(
        engine,
        workspace,
        invitation(
            reward_kind="points",
            ladder=[{"min_invites": 1, "per_invite_fen": 30}],
            task={"invites": 2, "reward": {"kind": "coupon", "coupon": "ten-off"}},
        ),
        coupons={"templates": {"ten-off": {"name": "满100减10", "amount_fen": 1000}}},
    )
    do_ingest_events(engine, ws, [invite("u-1", T0, 1), invite("u-2", T0, 2)])
    tick(engine, ws, T0 + 2 * DAY)
    texts = sorted(n["data"]["text"] for n in notices(engine, ws))
    assert len(texts) == 3
    assert sum("30 积分" in t for t in texts) == 2
    assert sum("优惠券「满100减10」" in t for t in texts) == 1
    assert not any("领取" in t for t in texts)  # nothing to claim from staff


def test_the_member_is_mentioned_where_they_are(engine: Engine, workspace: WorkspaceInfo) -> None:
    # Mutual benefit: the invitee is told in the group they joined; the sharer, who is not in
    # that group, in their own first group; someone in no group at all is not told.
    ws = configure(
        engine,
        workspace,
        {
            "campaigns": {
                "mutual": {
                    "model": "mutual",
                    "name": "好友同享",
                    "sharer_reward": {"kind": "redpacket", "amount_fen": 300},
                    "helper_reward": {"kind": "points", "points": 20},
                }
            }
        },
    )
    do_ingest_events(
        engine,
        ws,
        [
            joined("boss", "g-home", at=T0 - DAY, nickname="老板"),
            invite("u-1", T0, 1, group="g-new"),
        ],
    )
    tick(engine, ws, T0 + 2 * DAY)
    where = {n["member"]: n["group"] for n in notices(engine, ws)}
    assert where == {"boss": "g-home", "u-1": "g-new"}
    with transaction(engine) as conn:
        give_now(
            conn,
            ws,
            at=T0 + 3 * DAY,
            channel="sandbox",
            member="stranger",
            reward=Reward(kind="points", points=5),
            reason="gift",
            key="mutual:gift:stranger",
            campaign="mutual",
            rule="growth.test",
        )
    assert "stranger" in {r["member"] for r in ledger(engine, ws)}
    assert "stranger" not in {n["member"] for n in notices(engine, ws)}


def test_review_tells_nobody_until_approved_and_never_when_rejected(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = world(
        engine,
        workspace,
        invitation(),
        growth={"validity": {"review_score": 1, "weights": {"look_alike": 1}}},
    )
    evs = [invite(f"u-{i}", T0 + timedelta(hours=i), nickname=f"小号{i}") for i in range(3)]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, T0 + 2 * DAY)
    waiting = [r["id"] for r in ledger(engine, ws) if r["status"] == "review"]
    assert len(waiting) == 3
    assert notices(engine, ws) == []  # a reward in review tells nobody
    auth, base = token(engine, ws), f"/api/v1/workspaces/{ws.slug}"
    # Staff review the day after the tick: the notice is decided then, and due by the delivery.
    staff_clock = FixedClock(T0 + 3 * DAY)
    with TestClient(app_with_domains(settings, engine, clock=staff_clock)) as client:
        approved = client.post(
            f"{base}/rewards/{waiting[0]}/review",
            json={"approve": True, "by": "小王"},
            headers=auth,
        )
        assert approved.status_code == 200 and approved.json()["status"] == "issued"
        rejected = client.post(
            f"{base}/rewards/{waiting[1]}/review", json={"approve": False}, headers=auth
        )
        assert rejected.json()["status"] == "rejected"
        sent = client.get(f"{base}/actions", headers=auth).json()
        (told,) = [a for a in sent if a["kind"] == "message.send" and "reward" in a["data"]]
        assert told["data"]["reward"] == waiting[0] and told["data"]["mentions"] == ["boss"]
        assert (told["rule"], told["group"]) == ("growth.review", "g-1")
        deliver_due(engine, T0 + 10 * DAY, workspace_id=ws.id)
        history = client.get(f"{base}/sandbox/groups/g-1/messages", headers=auth).json()
    assert sum("春季老带新" in (m.get("text") or "") for m in history) == 1


def test_vote_prizes_say_how_to_claim_in_english(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "workspace": {"locale": "en"},
            "campaigns": {
                "vote": {
                    "model": "vote",
                    "name": "Cake contest",
                    "staff_account": "baker-01",
                    "groups": ["g-1"],
                    "prizes": [{"up_to_rank": 1, "reward": {"kind": "cash", "amount_fen": 5000}}],
                }
            },
        },
    )
    do_ingest_events(engine, ws, [joined("amy", at=T0 - DAY, nickname="Amy")])
    with transaction(engine) as conn:
        fission.do_start_assist(conn, ws, "vote", "sandbox", "amy", T0)
        fission.do_help(conn, ws, "vote", "sandbox", "amy", "v-1", T0)
        fission.do_close_vote(conn, ws, "vote", T0 + DAY)
        fission.do_close_vote(conn, ws, "vote", T0 + DAY)  # closed twice: still one prize
    (notice,) = notices(engine, ws)
    assert notice["data"]["text"] == (
        "@Amy Congratulations! You got ¥50.00 in cash in Cake contest. "
        "Add staff account baker-01 to claim it."
    )


def test_a_campaign_can_keep_quiet(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = world(engine, workspace, invitation(notify_rewards=False))
    do_ingest_events(engine, ws, [invite("u-1", T0)])
    tick(engine, ws, T0 + 2 * DAY)
    assert [r["status"] for r in ledger(engine, ws)] == ["issued"]
    assert notices(engine, ws) == []
