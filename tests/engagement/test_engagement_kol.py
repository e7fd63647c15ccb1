"""KOL discovery: answers and replies credited across batches, the weekly board, helper
suggestions (once, never for existing helpers), the reply window and replay."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Engine

import shequn.engagement.kol  # noqa: F401  (registers the rules and export)
from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.config.engagement import KolSection
from shequn.engagement.kol import Candidate, score
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.events import Event
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.conftest import create_workspace
from tests.factories import event, joined, posted

SH = ZoneInfo("Asia/Shanghai")
D0 = datetime(2026, 11, 2, 9, 0, tzinfo=SH)  # a Monday
FIRST_BOARD = D0 + timedelta(days=7, hours=2)  # the next Monday, after 10:00


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict[str, Any]]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def suggestions(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    return [a for a in rows(engine, ws, "actions") if a["rule"] == "engagement.kol"]


def helpers(engine: Engine, ws: WorkspaceInfo, names: list[str]) -> WorkspaceInfo:
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, {"roles": {"helpers": names}})


def questions_and_answers(days: int = 7, group: str = "g-1") -> list[Event]:
    """Askers ask, u-e (and the helper u-h) answer, askers thank the answer."""
    evs = [event("group.created", group, at=D0 - timedelta(days=30), name="答疑群")]
    people = ["u-0", "u-1", "u-2", "u-e", "u-h", "u-m"]
    evs += [joined(p, group, at=D0 - timedelta(days=20), nickname=f"昵称{p}") for p in people]
    for d in range(days):
        at = D0 + timedelta(days=d, hours=1)
        for k in range(2):
            asker = f"u-{(d + k) % 3}"
            q, a = f"{group}-q{d}{k}", f"{group}-a{d}{k}"
            evs += [
                posted(
                    asker, "请问怎么退货？@昵称u-m", group, at=at, message_id=q, mentions=["u-m"]
                ),
                posted(
                    "u-e",
                    "在订单页点售后",
                    group,
                    at=at + timedelta(minutes=5),
                    message_id=a,
                    reply_to=q,
                ),
                posted(asker, "谢谢！", group, at=at + timedelta(minutes=9), reply_to=a),
                posted(asker, "补充一下", group, at=at + timedelta(minutes=10), reply_to=q),
            ]
        evs.append(
            posted(
                "u-h",
                "也可以找客服",
                group,
                at=at + timedelta(minutes=6),
                reply_to=f"{group}-q{d}0",
            )
        )
    return evs


def test_board_ranks_answerers_and_suggests_new_helpers_once(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = helpers(engine, workspace, ["u-h"])
    do_ingest_events(engine, ws, questions_and_answers())
    tick(engine, ws, FIRST_BOARD + timedelta(days=7))  # two boards
    board = [b for b in rows(engine, ws, "kol_board") if b["day"] == "2026-11-08"]
    assert board[0]["member"] == "u-e" and "u-h" in [b["member"] for b in board]
    e = board[0]
    assert (e["answers"], e["received"], e["active_days"], e["messages"]) == (14, 14, 7, 14)
    assert e["tenure_days"] == 26 and e["group"] == "g-1" and e["score"] >= 60
    # Thanking an answer is a reply to another member too, but scores far lower.
    assert all(b["score"] < 60 for b in board[1:])
    assert "u-m" not in [b["member"] for b in board]  # mentioned, but never spoke
    assert {b["day"] for b in rows(engine, ws, "kol_board")} == {"2026-11-08", "2026-11-15"}
    (suggested,) = suggestions(engine, ws)  # u-h is a helper already; u-e is told once
    assert suggested["member"] == "u-e" and suggested["status"] == "staff_task"
    assert "昵称u-e" in suggested["data"]["task"] and "答疑群" in suggested["data"]["task"]
    assert datetime.fromisoformat(suggested["decided_at"]).astimezone(SH).hour == 10


def test_mentions_count_and_self_replies_do_not(engine: Engine, workspace: WorkspaceInfo) -> None:
    evs = [
        event("group.created", "g-1", at=D0, name="群"),
        posted("u-1", "有人吗 @u-2", at=D0, message_id="m1", mentions=["u-2", "u-1"]),
        posted("u-1", "我自己回复", at=D0 + timedelta(minutes=1), message_id="m2", reply_to="m1"),
        posted("u-2", "在", at=D0 + timedelta(minutes=2), message_id="m3", reply_to="nope"),
    ]
    do_ingest_events(engine, workspace, evs)
    tick(engine, workspace, FIRST_BOARD)
    board = {b["member"]: b for b in rows(engine, workspace, "kol_board")}
    assert (board["u-1"]["answers"], board["u-1"]["received"]) == (0, 0)
    assert (board["u-2"]["answers"], board["u-2"]["received"]) == (0, 1)


def test_replies_credit_authors_across_batches_within_the_window(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    do_ingest_events(
        engine,
        workspace,
        [
            event("group.created", "g-1", at=D0 - timedelta(days=20), name="群"),
            posted("u-1", "老问题", at=D0 - timedelta(days=20), message_id="old"),
            posted("u-1", "新问题", at=D0, message_id="new"),
        ],
    )
    do_ingest_events(
        engine,
        workspace,
        [
            posted("u-2", "答新问题", at=D0 + timedelta(hours=1), reply_to="new"),
            posted("u-2", "答老问题", at=D0 + timedelta(hours=2), reply_to="old"),  # too late
        ],
    )
    tick(engine, workspace, FIRST_BOARD)
    board = {b["member"]: b for b in rows(engine, workspace, "kol_board")}
    assert board["u-2"]["answers"] == 1 and board["u-1"]["received"] == 1


def test_replay_in_any_batches_scores_the_same(engine: Engine) -> None:
    evs = questions_and_answers(days=5) + questions_and_answers(days=5, group="g-2")
    evs = sorted(evs, key=lambda e: e.at)
    evs.append(posted("u-1", "下周见", "g-1", at=FIRST_BOARD + timedelta(days=1)))
    results = []
    for batch_size in (5000, 1):
        ws = helpers(engine, create_workspace(engine), [])
        do_ingest_events(engine, ws, evs, batch_size=batch_size)
        results.append(
            (
                rows(engine, ws, "kol_board"),
                [(a["member"], a["reason"], a["decided_at"]) for a in suggestions(engine, ws)],
            )
        )
    assert results[0] == results[1]
    assert results[0][0] and results[0][1]


def test_score_normalises_to_the_best() -> None:
    cfg = KolSection()
    people = [
        Candidate("a", answers=10, received=5, active_days=30, tenure_days=90),
        Candidate("b", answers=5, received=10, active_days=15, tenure_days=45),
        Candidate("c"),
    ]
    ranked = score(cfg, people)
    assert [(c.member, c.score) for c in ranked] == [("a", 85.0), ("b", 65.0), ("c", 0.0)]
