"""Reversing a reward undoes what it changed: points taken back in the ledger (as far as
the balance allows, unless the points configuration lets it go negative), a coupon voided
unless already used; by the leave-after-reward rule, by staff over the API and the CLI."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from shequn.commerce.coupons import access_coupon, coupon_code, redeem
from shequn.community.service import Conflict
from shequn.community.workspace import WorkspaceInfo
from shequn.engagement.service import do_spend_points
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.growth.rewards import do_mark_paid, do_reverse, list_rewards
from shequn.platform.clock import FixedClock
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW, T0, joined, left
from tests.growth.helpers import app_with_domains, configure, rows, token

DAY = timedelta(days=1)
QUIET_POINTS = {"per_message": 0}


def mutual(engine: Engine, ws: WorkspaceInfo, **doc: Any) -> WorkspaceInfo:
    """The sharer gets 100 points, the invitee 20, for each valid invite."""
    spec = {
        "model": "mutual",
        "name": "好友同享",
        "sharer_reward": {"kind": "points", "points": 100},
        "helper_reward": {"kind": "points", "points": 20},
    }
    ws = configure(engine, ws, {"campaigns": {"mutual": spec}, "points": QUIET_POINTS, **doc})
    do_ingest_events(engine, ws, [joined("boss", at=T0 - DAY)])
    do_ingest_events(engine, ws, [joined("u-1", at=T0, inviter="boss", scene="invite")])
    tick(engine, ws, T0 + DAY + timedelta(minutes=1))
    return ws


def balances(engine: Engine, ws: WorkspaceInfo) -> dict[str, int]:
    return {r["member"]: r["balance"] for r in rows(engine, ws, "levels")}


def reversals(engine: Engine, ws: WorkspaceInfo) -> list[tuple[str, int]]:
    return sorted(
        (r["member"], r["delta"])
        for r in rows(engine, ws, "points")
        if r["kind"] == "reward_reversal"
    )


def ledger(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return list_rewards(conn, ws)


def test_leaving_after_a_points_reward_takes_the_points_back(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = mutual(engine, workspace)
    assert balances(engine, ws) == {"boss": 100, "u-1": 20}
    leave = [left("u-1", at=T0 + 2 * DAY)]
    do_ingest_events(engine, ws, leave)
    assert {r["status"] for r in ledger(engine, ws)} == {"reversed"}
    assert reversals(engine, ws) == [("boss", -100), ("u-1", -20)]
    assert balances(engine, ws) == {"boss": 0, "u-1": 0}
    keys = {r["key"] for r in rows(engine, ws, "points") if r["kind"] == "reward_reversal"}
    assert {k.split(":")[0] for k in keys} == {"reward-reversal"}
    do_ingest_events(engine, ws, leave)  # the same leave again takes nothing more
    assert reversals(engine, ws) == [("boss", -100), ("u-1", -20)]


@pytest.mark.parametrize(
    ("locale", "shortfall"),
    [
        ("zh-CN", "；积分余额不足，少扣 80 分"),
        ("en", "; balance too low: 80 points not taken back"),
    ],
)
def test_spent_points_leave_a_shortfall_in_the_note(
    engine: Engine, workspace: WorkspaceInfo, locale: str, shortfall: str
) -> None:
    ws = mutual(engine, workspace, workspace={"locale": locale})
    with transaction(engine) as conn:
        do_spend_points(
            conn,
            ws,
            channel="sandbox",
            member="boss",
            amount=80,
            reason="兑换",
            key="gift-1",
            now=NOW,
        )
    do_ingest_events(engine, ws, [left("u-1", at=T0 + 2 * DAY)])
    assert ("boss", -20) in reversals(engine, ws)
    boss = next(r for r in ledger(engine, ws) if r["member"] == "boss")
    assert boss["status"] == "reversed" and boss["note"].endswith(shortfall), boss["note"]
    assert balances(engine, ws)["boss"] == 0


def test_a_negative_balance_when_the_points_allow_it(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = mutual(engine, workspace, points={**QUIET_POINTS, "allow_negative": True})
    with transaction(engine) as conn:
        do_spend_points(
            conn,
            ws,
            channel="sandbox",
            member="boss",
            amount=80,
            reason="兑换",
            key="gift-1",
            now=NOW,
        )
    do_ingest_events(engine, ws, [left("u-1", at=T0 + 2 * DAY)])
    assert balances(engine, ws)["boss"] == -80
    boss = next(r for r in ledger(engine, ws) if r["member"] == "boss")
    assert "少扣" not in boss["note"]


def one_invite_task(
    engine: Engine, ws: WorkspaceInfo, reward: dict[str, Any], **sections: Any
) -> WorkspaceInfo:
    """A task campaign (任务宝) whose reward one valid invite earns: boss invites u-1, and
    the hold has passed."""
    task = {"invites": 1, "reward": reward}
    campaigns = {"camp": {"model": "invitation", "name": "老带新", "task": task}}
    ws = configure(engine, ws, {**sections, "campaigns": campaigns})
    do_ingest_events(engine, ws, [joined("boss", at=T0 - DAY)])
    do_ingest_events(engine, ws, [joined("u-1", at=T0, inviter="boss", scene="invite")])
    tick(engine, ws, T0 + 2 * DAY)
    return ws


def coupon_task(engine: Engine, ws: WorkspaceInfo) -> WorkspaceInfo:
    """The task's reward is a coupon."""
    templates = {"ten-off": {"name": "满100减10", "amount_fen": 1000}}
    reward = {"kind": "coupon", "coupon": "ten-off"}
    return one_invite_task(engine, ws, reward, coupons={"templates": templates})


def test_staff_reversal_voids_an_unused_coupon(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = coupon_task(engine, workspace)
    (reward,) = ledger(engine, ws)
    code = coupon_code(ws.id, f"reward:{reward['key']}")
    auth, base = token(engine, ws), f"/api/v1/workspaces/{ws.slug}"
    # Staff reverse it the day after, while the coupon is still valid (a reversal is an event:
    # the scheduler's due work, the coupon's expiry included, runs up to it first).
    staff_clock = FixedClock(T0 + 3 * DAY)
    with TestClient(app_with_domains(settings, engine, clock=staff_clock)) as client:
        done = client.post(
            f"{base}/rewards/{reward['id']}/reverse", json={"by": "小王"}, headers=auth
        )
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["decided_by"]) == ("reversed", "小王")
        again = client.post(f"{base}/rewards/{reward['id']}/reverse", json={}, headers=auth)
        assert again.status_code == 409 and again.headers["content-type"].startswith(
            "application/problem+json"
        )
        used = client.post(f"{base}/coupons/{code}/redeem", json={}, headers=auth)
        assert used.status_code == 409
    with engine.connect() as conn:
        assert access_coupon(conn, ws, code)["status"] == "voided"
        assert redeem(conn, ws.id, code, member="boss", at=T0 + 3 * DAY) == "voided"


def test_a_used_coupon_cannot_be_voided(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = coupon_task(engine, workspace)
    (reward,) = ledger(engine, ws)
    code = coupon_code(ws.id, f"reward:{reward['key']}")
    with transaction(engine) as conn:
        assert redeem(conn, ws.id, code, member="boss", at=T0 + 2 * DAY) == "redeemed"
        after = do_reverse(conn, ws, reward["id"], by="staff", at=T0 + 3 * DAY, note="误发")
        assert access_coupon(conn, ws, code)["status"] == "redeemed"
    assert after["status"] == "reversed"
    assert after["note"].startswith("误发") and f"优惠券 {code} 已核销" in after["note"]


def test_a_paid_reward_cannot_be_reversed(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "campaigns": {
                "camp": {
                    "model": "invitation",
                    "name": "老带新",
                    "ladder": [{"min_invites": 1, "per_invite_fen": 1000}],
                }
            }
        },
    )
    do_ingest_events(engine, ws, [joined("boss", at=T0 - DAY)])
    do_ingest_events(engine, ws, [joined("u-1", at=T0, inviter="boss", scene="invite")])
    tick(engine, ws, T0 + 2 * DAY)
    (reward,) = ledger(engine, ws)
    with transaction(engine) as conn:
        assert do_mark_paid(conn, ws, [reward["id"]], by="staff", at=T0 + 2 * DAY) == 1
        with pytest.raises(Conflict, match="paid"):
            do_reverse(conn, ws, reward["id"], by="staff", at=T0 + 3 * DAY)


def test_reverse_from_the_command_line(
    cli_settings: Settings,
    engine: Engine,
    workspace: WorkspaceInfo,
    tmp_path,
) -> None:
    from shequn.cli import app

    ws = mutual(engine, workspace)
    runner = CliRunner()
    listed = runner.invoke(app, ["reward", "list", "-w", ws.slug, "--status", "issued"])
    assert listed.exit_code == 0, listed.output
    boss = next(r for r in map(orjson.loads, listed.output.splitlines()) if r["member"] == "boss")
    done = runner.invoke(app, ["reward", "reverse", str(boss["id"]), "-w", ws.slug, "--by", "小王"])
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.output)["status"] == "reversed"
    assert balances(engine, ws)["boss"] == 0
    twice = runner.invoke(app, ["reward", "reverse", str(boss["id"]), "-w", ws.slug])
    assert twice.exit_code != 0 and "reversed" in twice.output
    missing = runner.invoke(app, ["reward", "reverse", "999999", "-w", ws.slug])
    assert missing.exit_code != 0 and "999999" in missing.output
    shown = runner.invoke(app, ["config", "show", "-w", ws.slug])
    assert yaml.safe_load(shown.output)["campaigns"]["mutual"]["notify_rewards"] is True


def identity_task(engine: Engine, ws: WorkspaceInfo) -> WorkspaceInfo:
    """One valid invite makes the inviter a 推广达人 (an identity reward)."""
    return one_invite_task(engine, ws, {"kind": "identity", "identity": "推广达人"})


def test_an_identity_reward_tags_the_member_and_reversal_removes_it(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = identity_task(engine, workspace)
    (reward,) = ledger(engine, ws)
    assert (reward["kind"], reward["status"]) == ("identity", "issued")
    auth, base = token(engine, ws), f"/api/v1/workspaces/{ws.slug}"
    with TestClient(app_with_domains(settings, engine)) as client:
        profile = client.get(f"{base}/crm/members/boss", headers=auth).json()
        assert profile["tags"] == ["推广达人"]
        tags = client.get(f"{base}/crm/tags", headers=auth).json()
        assert {"name": "推广达人", "group": "身份", "kind": "rule", "members": 1} in tags
        tick(engine, ws, T0 + 3 * DAY)  # nothing new happens: still one tag
        done = client.post(f"{base}/rewards/{reward['id']}/reverse", json={}, headers=auth)
        assert done.status_code == 200, done.text
        assert client.get(f"{base}/crm/members/boss", headers=auth).json()["tags"] == []


def test_a_tag_staff_gave_stays_when_the_identity_is_reversed(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    from shequn.crm.service import do_tag_member, member_tag_list

    ws = configure(engine, workspace, {})
    with transaction(engine) as conn:
        do_tag_member(conn, ws, "sandbox", "boss", "推广达人", now=T0 - DAY)
    ws = identity_task(engine, ws)
    (reward,) = ledger(engine, ws)
    with transaction(engine) as conn:
        do_reverse(conn, ws, reward["id"], by="staff", at=T0 + 3 * DAY)
        assert [t["tag"] for t in member_tag_list(conn, ws, "sandbox", "boss")] == ["推广达人"]


def test_an_identity_in_review_is_given_on_approval(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    from shequn.crm.service import member_tag_list
    from shequn.growth.rewards import do_review

    # Three look-alike invitees: the reward waits for staff.
    task = {"invites": 3, "reward": {"kind": "identity", "identity": "推广达人"}}
    ws = configure(
        engine,
        workspace,
        {
            "growth": {"validity": {"review_score": 1}},
            "campaigns": {"camp": {"model": "invitation", "name": "老带新", "task": task}},
        },
    )
    do_ingest_events(engine, ws, [joined("boss", at=T0 - DAY)])
    do_ingest_events(
        engine,
        ws,
        [
            joined("u-1", at=T0, inviter="boss", scene="invite", nickname="小明01"),
            joined("u-2", at=T0, inviter="boss", scene="invite", nickname="小明02"),
            joined("u-3", at=T0, inviter="boss", scene="invite", nickname="小明03"),
        ],
    )
    tick(engine, ws, T0 + 2 * DAY)
    (reward,) = ledger(engine, ws)
    assert reward["status"] == "review"
    with transaction(engine) as conn:
        assert member_tag_list(conn, ws, "sandbox", "boss") == []
        do_review(conn, ws, reward["id"], approve=True, by="staff", at=T0 + 2 * DAY)
        assert [t["tag"] for t in member_tag_list(conn, ws, "sandbox", "boss")] == ["推广达人"]


def test_switching_the_locale_does_not_start_a_second_identity_tag_group(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    from sqlalchemy import select

    from shequn.crm.models import tag_groups
    from shequn.crm.service import list_tags

    ws = identity_task(engine, workspace)  # zh-CN: boss becomes 推广达人
    task = {"invites": 1, "reward": {"kind": "identity", "identity": "带货达人"}}
    camp = {"model": "invitation", "name": "老带新", "task": task}
    ws = configure(engine, ws, {"workspace": {"locale": "en"}, "campaigns": {"camp": camp}})
    do_ingest_events(engine, ws, [joined("amy", at=T0 + 3 * DAY)])
    do_ingest_events(engine, ws, [joined("u-2", at=T0 + 4 * DAY, inviter="amy", scene="invite")])
    tick(engine, ws, T0 + 6 * DAY)
    assert {r["member"]: r["status"] for r in ledger(engine, ws)}["amy"] == "issued"
    with engine.connect() as conn:
        groups = conn.execute(
            select(tag_groups.c.name).where(tag_groups.c.workspace_id == ws.id)
        ).all()
        tags = {t["name"]: t["group"] for t in list_tags(conn, ws)}
    assert [g[0] for g in groups] == ["身份"]
    assert (tags["推广达人"], tags["带货达人"]) == ("身份", "身份")
