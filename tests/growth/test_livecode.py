"""Live codes: first group not full, the next group made from the blueprint, staff tasks on
channels Shequn cannot make groups on, figures per code and channel, the public page."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.service import access_workspace
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.growth import livecode
from shequn.growth.api import LIMITER
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW, T0, event, joined
from tests.growth.helpers import app_with_domains, configure, rows, token


def make_code(engine: Engine, ws: WorkspaceInfo, **kw: object) -> dict:
    with transaction(engine) as conn:
        kw.setdefault("at", NOW)
        return livecode.do_create_code(conn, ws, kw.pop("code", "lc-1"), **kw)  # type: ignore[arg-type]


def scan(engine: Engine, ws: WorkspaceInfo, code: str = "lc-1", n: int = 0, **kw: object):
    with transaction(engine) as conn:
        return livecode.do_scan(conn, ws, code, at=T0 + timedelta(seconds=n), **kw)  # type: ignore[arg-type]


def test_scans_fill_the_pool_in_order_then_make_the_next_group(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    do_ingest_events(
        engine,
        workspace,
        [event("group.created", g, name=f"烘焙交流群{i}") for i, g in ((1, "g-1"), (2, "g-2"))],
    )
    make_code(
        engine,
        workspace,
        groups_=["g-1", "g-2"],
        admissions_cap=3,
        blueprint="烘焙学习型",
        base_name="烘焙交流群",
    )
    answers = [scan(engine, workspace, n=i) for i in range(8)]
    assert [a.group for a in answers] == ["g-1"] * 3 + ["g-2"] * 3 + ["lc-1-3"] * 2
    assert all(a.status == "ok" for a in answers)
    assert [a.created_group for a in answers if a.created_group] == ["lc-1-3"]
    with engine.connect() as conn:
        code = livecode.access_code(conn, workspace, "lc-1")
    assert [(g["group"], g["admissions"]) for g in code["pool"]] == [
        ("g-1", 3),
        ("g-2", 3),
        ("lc-1-3", 2),
    ]
    groups = {g["group"]: g for g in rows(engine, workspace, "groups")}
    assert groups["lc-1-3"]["name"] == "烘焙交流群3"
    assert groups["lc-1-3"]["blueprint"] == "烘焙学习型"
    scans = [e for e in rows(engine, workspace, "events") if e["type"] == "code.scanned"]
    assert len(scans) == 8 and {e["data"]["code"] for e in scans} == {"lc-1"}
    assert [e["group"] for e in scans] == [a.group for a in answers]


def test_anonymous_scans_make_at_most_the_hourly_cap_of_groups_and_staff_are_told(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace, {"growth": {"live_codes": {"new_groups_per_hour": 2}}})
    make_code(engine, ws, groups_=["g-1"], admissions_cap=1)
    answers = [scan(engine, ws, n=i) for i in range(6)]  # one scan fills a group
    assert [a.group for a in answers] == ["g-1", "lc-1-2", "lc-1-3", None, None, None]
    assert [a.status for a in answers[3:]] == ["preparing"] * 3
    tasks = [a for a in rows(engine, ws, "actions") if "new_groups_per_hour" in (a["reason"] or "")]
    assert len(tasks) == 1  # once an hour, however many scans wait
    later = scan(engine, ws, n=3600 + 60)  # an hour after the first groups were made
    assert (later.status, later.group) == ("ok", "lc-1-4")
    groups = [g["group"] for g in rows(engine, ws, "groups")]
    assert groups.count("lc-1-2") == 1 and "lc-1-5" not in groups


def test_a_group_full_of_members_is_skipped(engine: Engine, workspace: WorkspaceInfo) -> None:
    do_ingest_events(
        engine,
        workspace,
        [event("group.created", "g-1", name="一群", capacity=2)]
        + [joined(f"u-{i}", "g-1") for i in range(2)],
    )
    make_code(engine, workspace, groups_=["g-1"], group_capacity=2)
    assert scan(engine, workspace).group == "lc-1-2"


def test_elsewhere_the_next_group_is_a_staff_task(engine: Engine, workspace: WorkspaceInfo) -> None:
    make_code(engine, workspace, channel="wecom", base_name="会员群", admissions_cap=1)
    first = scan(engine, workspace)
    assert (first.status, first.group) == ("preparing", None)
    again = scan(engine, workspace, n=1)
    assert again.status == "preparing" and again.created_group is None  # one task, not two
    tasks = [a for a in rows(engine, workspace, "actions") if a["kind"] == "staff.task"]
    assert len(tasks) == 1 and tasks[0]["status"] == "staff_task"
    assert "会员群1" in tasks[0]["data"]["task"]
    with transaction(engine) as conn:
        livecode.do_set_group_url(
            conn, workspace, "lc-1", "lc-1-1", "https://work.weixin.qq.com/g/x"
        )
    ok = scan(engine, workspace, n=2)
    assert (ok.status, ok.group, ok.join_url) == ("ok", "lc-1-1", "https://work.weixin.qq.com/g/x")


def test_figures_per_code_and_source(engine: Engine, workspace: WorkspaceInfo) -> None:
    with transaction(engine) as conn:
        livecode.do_upsert_source(
            conn, workspace, "store", "门店二维码", "offline", cost_fen=10_000
        )
        workspace = access_workspace(conn, workspace.slug)  # sources live in its configuration
    make_code(engine, workspace, source="store", state="store-qr")
    tickets = [scan(engine, workspace, n=i, scanner=f"u-{i % 3}") for i in range(6)]
    tickets.append(scan(engine, workspace, n=7))  # anonymous: one more person
    with transaction(engine) as conn:
        for i in range(2):
            livecode.do_sandbox_join(
                conn, workspace, tickets[i].scan, f"u-{i}", f"客{i}", T0 + timedelta(minutes=1)
            )
    with engine.connect() as conn:
        (code,) = livecode.code_stats(conn, workspace)
        sources = {c["source"]: c for c in livecode.source_stats(conn, workspace, now=NOW)}
    assert code == {
        "code": "lc-1",
        "state": "store-qr",
        "source": "store",
        "scans": 7,
        "scanners": 4,
        "joins": 2,
        "new": 2,
        "join_rate": 0.5,
    }
    store = sources["store"]
    assert (store["cost_fen"], store["new"], store["cost_per_new_fen"]) == (10_000, 2, 5_000)
    do_ingest_events(
        engine,
        workspace,
        [
            event(
                "order.paid",
                None,
                "u-0",
                T0 + timedelta(hours=1),
                order_id="o-1",
                amount_fen=25_000,
            )
        ],
    )
    with engine.connect() as conn:
        store = {c["source"]: c for c in livecode.source_stats(conn, workspace, now=NOW)}["store"]
    assert (store["revenue_fen"], store["roi"]) == (25_000, 1.5)  # (revenue − cost) ÷ cost
    members = {m["member"]: m for m in rows(engine, workspace, "members")}
    assert (members["u-0"]["first_code"], members["u-0"]["first_state"]) == ("lc-1", "store-qr")


def test_public_page_answers_and_limits_each_client(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace, {"growth": {"live_codes": {"rate_per_minute": 3}}})
    code = make_code(engine, ws, groups_=["g-1"], admissions_cap=2)
    LIMITER.reset()
    with TestClient(app_with_domains(settings, engine)) as client:
        r = client.get(f"/l/{code['token']}", params={"format": "json", "u": "u-1"})
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["group"]) == ("ok", "g-1")
        assert "sq_v" in r.cookies
        page = client.get(f"/l/{code['token']}")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "g-1" in page.text
        assert "工作人员" in page.text  # g-1 has no join link: the page says who to ask
        assert 'name="viewport"' in page.text  # laid out for a phone
        with_url = client.get(f"/l/{code['token']}", params={"format": "json"})
        assert with_url.json()["group"] == "lc-1-2"  # g-1 took its 2 admissions
        limited = client.get(f"/l/{code['token']}", params={"format": "json"})
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert client.get("/l/nope").status_code == 404
        auth = token(engine, ws)
        listed = client.get(f"/api/v1/workspaces/{ws.slug}/livecodes/stats", headers=auth).json()
        assert listed[0]["scans"] == 3
    LIMITER.reset()
    devices = Counter(r["scanner"] for r in rows(engine, ws, "scans"))
    assert devices["u-1"] == 1


def test_join_through_a_personal_code_credits_the_inviter(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    make_code(engine, workspace, groups_=["g-1"])
    do_ingest_events(engine, workspace, [joined("u-1", "g-1")])
    ticket = scan(engine, workspace, n=5, scanner="u-2", inviter="u-1")
    with transaction(engine) as conn:
        livecode.do_sandbox_join(
            conn, workspace, ticket.scan, "u-2", "小红", T0 + timedelta(minutes=1)
        )
    members = {m["member"]: m for m in rows(engine, workspace, "members")}
    assert members["u-2"]["first_inviter"] == "u-1"
    (ref,) = rows(engine, workspace, "referrals")
    assert (ref["inviter"], ref["invitee"], ref["status"]) == ("u-1", "u-2", "held")


def test_a_code_can_be_paused_and_a_group_taken_out_of_its_pool(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    import pytest

    from shequn.community.service import NotFound

    do_ingest_events(
        engine,
        workspace,
        [event("group.created", g, name=g) for g in ("g-1", "g-2")],
    )
    make_code(engine, workspace, groups_=["g-1", "g-2"])
    assert scan(engine, workspace).group == "g-1"
    with transaction(engine) as conn:
        livecode.do_close_group(conn, workspace, "lc-1", "g-1")
    assert scan(engine, workspace, n=1).group == "g-2"
    with transaction(engine) as conn:
        livecode.do_set_code_active(conn, workspace, "lc-1", False)
    with pytest.raises(NotFound, match="not active"):
        scan(engine, workspace, n=2)
    with transaction(engine) as conn:
        livecode.do_set_code_active(conn, workspace, "lc-1", True)
    assert scan(engine, workspace, n=3).group == "g-2"
    with transaction(engine) as conn, pytest.raises(NotFound):
        livecode.do_close_group(conn, workspace, "lc-1", "g-9")
