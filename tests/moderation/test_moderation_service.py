"""Staff operations: revert, spam samples, ban list, member reports, word lists."""

from __future__ import annotations

import io

import orjson
import pytest
from sqlalchemy import Engine

from shequn.community.service import Conflict
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.moderation import service
from shequn.platform.db import transaction
from shequn.platform.errors import NotFound, TooMany
from tests.factories import NOW, T0, joined, minutes, posted

AD = "加我微信 abc12345 优惠多多"


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def test_revert_refunds_restores_and_resets_the_ladder(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    evs = [joined("u-1", at=T0)]
    evs += [posted("u-1", f"签到 {i}", at=T0 + minutes(i)) for i in range(1, 4)]
    evs += [posted("u-1", AD, at=T0 + minutes(10)), posted("u-1", AD + "!", at=T0 + minutes(11))]
    do_ingest_events(engine, workspace, evs)
    first, second = rows(engine, workspace, "violations")
    assert second["actions"] == ["delete", "remove"]
    balance = rows(engine, workspace, "levels")[0]["balance"]
    with transaction(engine) as conn:
        outcome = service.do_revert_violation(conn, workspace, second["id"], "staff-1", now=NOW)
    assert outcome["refunded_points"] > 0 and outcome["restore_task"] is True
    assert rows(engine, workspace, "levels")[0]["balance"] == balance + outcome["refunded_points"]
    ledger = rows(engine, workspace, "points")
    assert ledger[-1]["kind"] == "revert" and ledger[-1]["delta"] == outcome["refunded_points"]
    tasks = [a for a in rows(engine, workspace, "actions") if a["rule"] == "moderation.revert"]
    assert tasks and "重新邀请" in tasks[0]["reason"]
    assert rows(engine, workspace, "violations")[1]["reverted_by"] == "staff-1"
    with transaction(engine) as conn, pytest.raises(Conflict):
        service.do_revert_violation(conn, workspace, second["id"], "staff-1", now=NOW)
    # The reverted offence no longer counts: the next one is the second again, not the third.
    do_ingest_events(engine, workspace, [posted("u-1", AD + "!!", at=T0 + minutes(20))])
    assert rows(engine, workspace, "violations")[-1]["offence"] == 2
    assert first["offence"] == 1


def test_reverted_text_becomes_a_clean_sample(engine: Engine, workspace: WorkspaceInfo) -> None:
    spam = "限时特惠福利群，进群领取免费好礼，名额有限先到先得"
    with transaction(engine) as conn:
        service.do_add_sample(conn, workspace, spam, "spam", by="staff", now=NOW)
    do_ingest_events(
        engine,
        workspace,
        [posted("u-1", "限时特惠福利群，进群领取免费好礼，名额有限快来", at=T0)],
    )
    (v,) = rows(engine, workspace, "violations")
    assert v["detector"] == "similar"
    with transaction(engine) as conn:
        service.do_revert_violation(conn, workspace, v["id"], "staff", now=NOW)
    do_ingest_events(
        engine,
        workspace,
        [posted("u-2", "限时特惠福利群，进群领取免费好礼，名额有限快来", at=T0 + minutes(30))],
    )
    assert len(rows(engine, workspace, "violations")) == 1


def test_ban_list_by_hand(engine: Engine, workspace: WorkspaceInfo) -> None:
    with transaction(engine) as conn:
        service.do_ban(conn, workspace, "sandbox", "u-9", "骗子", "staff", now=NOW)
    do_ingest_events(engine, workspace, [joined("u-9", at=T0)])
    removals = [a for a in rows(engine, workspace, "actions") if a["kind"] == "member.remove"]
    assert [a["member"] for a in removals] == ["u-9"]
    with transaction(engine) as conn:
        service.do_lift_ban(conn, workspace, "sandbox", "u-9", now=NOW)
    do_ingest_events(engine, workspace, [joined("u-9", group="g-2", at=T0 + minutes(5))])
    assert len([a for a in rows(engine, workspace, "actions") if a["kind"] == "member.remove"]) == 1


def test_reports_notify_then_act_and_are_rate_limited(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    def report(reporter: str, message: str = "m-1") -> service.ReportOutcome:
        with transaction(engine) as conn:
            return service.do_report_message(
                conn,
                workspace,
                channel="sandbox",
                group="g-1",
                message_id=message,
                author="u-1",
                reporter=reporter,
                text="奇怪的消息",
                now=T0,
            )

    assert report("r-1").action == "recorded"
    assert report("r-1").reports == 1  # the same reporter counts once
    assert report("r-2").action == "notified"
    assert report("r-3").action == "acted"
    kinds = sorted(a["kind"] for a in rows(engine, workspace, "actions"))
    assert kinds == ["member.warn", "message.delete", "staff.task"]
    for i in range(2, 6):
        report("r-1", f"m-{i}")
    with pytest.raises(TooMany, match="wait"):
        report("r-1", "m-9")


def test_word_lists_round_trip(engine: Engine, workspace: WorkspaceInfo) -> None:
    with transaction(engine) as conn:
        added = service.do_import_words(conn, workspace, "competitors", "# 竞品\n隔壁烘焙\n\n")
    assert added == 1
    from shequn.community.service import load_workspace

    ws = load_workspace(engine, workspace.slug)
    assert "隔壁烘焙" in service.export_words(ws, "competitors")
    assert len(service.export_words(ws, "ads").splitlines()) > 50
    do_ingest_events(engine, ws, [posted("u-1", "大家去隔 壁 烘 焙买吧", at=T0)])
    assert rows(engine, ws, "violations")[0]["category"] == "competitors"
    with pytest.raises(NotFound):
        service.export_words(ws, "weather")
