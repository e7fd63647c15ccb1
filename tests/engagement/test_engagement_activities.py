"""Activities: lottery, red-packet rain, Q&A red packet and show-your-order day — entry rules,
reproducible draws, announcements, payout tasks, exports and replay."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
import yaml
from sqlalchemy import Engine

import shequn.engagement.activities  # noqa: F401  (registers the rules and exports)
from shequn.community.config import ConfigRejected
from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.engagement.activities import draw, split_packets
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.events import Event
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.conftest import create_workspace
from tests.engagement.conftest import Shequn, write_events
from tests.factories import event, joined, posted

SH = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 22, 9, 0, tzinfo=SH)
START = DAY.replace(hour=12)
END = DAY.replace(hour=20)


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict[str, Any]]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def activity_actions(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    return [a for a in rows(engine, ws, "actions") if a["rule"] == "engagement.activities"]


def configure(engine: Engine, ws: WorkspaceInfo, *items: dict[str, Any], **extra: Any) -> Any:
    window = {"starts_at": START.isoformat(), "ends_at": END.isoformat()}
    doc = {"activities": {"items": [{**window, **item} for item in items]}, **extra}
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, doc)


def community(n: int, groups: tuple[str, ...] = ("g-1", "g-2")) -> list[Event]:
    evs = [event("group.created", g, at=DAY, name=f"群{g}", owner=f"owner-{g}") for g in groups]
    evs += [
        joined(
            f"u-{i}", groups[i % len(groups)], at=DAY + timedelta(minutes=i), nickname=f"成员{i}"
        )
        for i in range(n)
    ]
    return evs


def say_at(minutes_after_start: int, member: str, text: str, group: str, **kw: Any) -> Event:
    return posted(member, text, group, at=START + timedelta(minutes=minutes_after_start), **kw)


def test_lottery_entries_draw_announce_and_payout(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {"id": "lucky", "type": "lottery", "title": "周末抽奖", "winners": 2, "prize": "马克杯"},
    )
    evs = community(6)
    evs += [say_at(-30, "u-0", "抽奖", "g-1")]  # before the start: not an entry
    evs += [say_at(i + 1, f"u-{i}", "抽奖！", f"g-{1 + i % 2}") for i in range(6)]
    evs += [say_at(10, "u-0", "抽奖", "g-1")]  # a second entry counts once
    evs += [say_at(11, "owner-g-1", "抽奖", "g-1")]  # the house does not play
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, END + timedelta(minutes=1))

    entries = rows(engine, ws, "activity_entries")
    assert sorted(e["member"] for e in entries) == [f"u-{i}" for i in range(6)]
    winners = rows(engine, ws, "activity_winners")
    assert [w["rank"] for w in winners] == [1, 2]
    assert {w["entrants"] for w in winners} == {6}
    seed, picked = draw("lucky", [("sandbox", f"u-{i}") for i in range(6)], 2)
    assert [w["member"] for w in winners] == [f"u-{i}" for i in picked]
    assert winners[0]["seed"] == seed

    acts = activity_actions(engine, ws)
    starts = [a for a in acts if "开始" in a["reason"]]
    assert sorted(a["group"] for a in starts) == ["g-1", "g-2"]
    assert "发送「抽奖」参与" in starts[0]["data"]["text"]
    results = [a for a in acts if "结果" in a["reason"]]
    assert sorted(a["group"] for a in results) == ["g-1", "g-2"]
    assert all(f"@成员{picked[0]}" in a["data"].get("text", "") for a in results)
    (payout,) = [a for a in acts if a["kind"] == "staff.task"]
    assert payout["status"] == "staff_task" and "马克杯" in payout["data"]["task"]


def test_draw_depends_on_the_entrants_not_their_order() -> None:
    people = [("sandbox", f"u-{i}") for i in range(50)]
    assert draw("x", people, 5) == draw("x", list(reversed(people)), 5)
    assert draw("x", people, 5) != draw("y", people, 5)
    assert sorted(draw("x", people[:3], 5)[1]) == [0, 1, 2]  # fewer entrants than prizes


def test_red_packet_rain_first_grabbers_share_the_pool(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(
        engine,
        workspace,
        {"id": "rain", "type": "redpacket_rain", "winners": 3, "amount_fen": 1000},
    )
    evs = community(5, ("g-1",))
    evs += [say_at(i, f"u-{i}", "抢红包", "g-1") for i in range(5)]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, END)
    winners = rows(engine, ws, "activity_winners")
    assert [w["member"] for w in winners] == ["u-0", "u-1", "u-2"]
    assert sum(w["amount_fen"] for w in winners) == 1000
    assert [w["amount_fen"] for w in winners] == split_packets("rain", 1000, 3)[1]
    grabs = [a for a in activity_actions(engine, ws) if "抢到" in a["data"].get("text", "")]
    assert [a["member"] for a in grabs] == ["u-0", "u-1", "u-2"]
    assert len(rows(engine, ws, "activity_entries")) == 5


def test_packets_always_add_up() -> None:
    for pool, count in ((3, 3), (100, 7), (100_000, 50)):
        _, amounts = split_packets(f"p{pool}", pool, count)
        assert sum(amounts) == pool and min(amounts) >= 1 and len(amounts) == count


def test_qa_red_packet_first_right_answers_win(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "id": "quiz",
            "type": "qa",
            "question": "我们的吉祥物叫什么？",
            "answers": ["团团"],
            "winners": 2,
            "points": 50,
        },
    )
    evs = community(4, ("g-1",))
    evs += [
        say_at(1, "u-0", "圆圆", "g-1"),
        say_at(2, "u-1", "团 团！", "g-1"),
        say_at(3, "u-0", "团团", "g-1"),
        say_at(4, "u-2", "团团", "g-1"),
        say_at(5, "u-3", "团团", "g-1"),
    ]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, END)
    assert [w["member"] for w in rows(engine, ws, "activity_winners")] == ["u-1", "u-0"]
    rights = [a for a in activity_actions(engine, ws) if "回答正确" in a["data"].get("text", "")]
    assert [(a["member"], a["data"]["reply_to"] is not None) for a in rights] == [
        ("u-1", True),
        ("u-0", True),
    ]
    rewards = [p for p in rows(engine, ws, "points") if p["kind"] == "activity"]
    assert sorted((p["member"], p["delta"]) for p in rewards) == [("u-0", 50), ("u-1", 50)]


def test_show_order_day_credits_entries_and_draws(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {"id": "show", "type": "show_order", "entry_points": 20, "winners": 1, "points": 100},
    )
    evs = community(3, ("g-1",))
    evs += [
        say_at(1, "u-0", "", "g-1", kind="image"),
        say_at(2, "u-1", "晒单：新买的杯子", "g-1"),
        say_at(3, "u-2", "今天天气不错", "g-1"),
    ]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, END)
    assert sorted(e["member"] for e in rows(engine, ws, "activity_entries")) == ["u-0", "u-1"]
    (winner,) = rows(engine, ws, "activity_winners")
    rewards = [
        (p["member"], p["delta"]) for p in rows(engine, ws, "points") if p["kind"] == "activity"
    ]
    assert sorted(rewards) == sorted([("u-0", 20), ("u-1", 20), (winner["member"], 100)])


def test_entry_rules_and_target_groups(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {"id": "vip", "type": "lottery", "min_points": 15, "groups": ["g-1"], "confirm": True},
    )
    evs = community(2)
    evs += [posted("u-0", "签到", "g-1", at=DAY + timedelta(hours=1))]  # 10 + 1 points
    evs += [
        posted("u-0", f"聊天{i}", "g-1", at=DAY + timedelta(hours=1, minutes=i)) for i in range(5)
    ]
    evs += [
        say_at(1, "u-0", "抽奖", "g-1"),
        say_at(2, "u-2", "抽奖", "g-1"),  # too few points: told once
        say_at(3, "u-2", "抽奖", "g-1"),
        say_at(4, "u-1", "抽奖", "g-2"),  # not a target group
    ]
    do_ingest_events(engine, ws, evs)
    assert [e["member"] for e in rows(engine, ws, "activity_entries")] == ["u-0"]
    acts = activity_actions(engine, ws)
    told = [a for a in acts if "参与条件" in a["data"].get("text", "")]
    assert [a["member"] for a in told] == ["u-2"] and "积分需达到 15" in told[0]["data"]["text"]
    assert any(a["member"] == "u-0" and "已参与" in a["data"].get("text", "") for a in acts)
    tick(engine, ws, END)
    assert {a["group"] for a in activity_actions(engine, ws) if "结果" in a["reason"]} == {"g-1"}


def test_replay_in_any_batches_decides_the_same(engine: Engine) -> None:
    items = (
        {"id": "lucky", "type": "lottery", "winners": 3, "amount_fen": 500},
        {"id": "rain", "type": "redpacket_rain", "winners": 4, "amount_fen": 888},
    )
    evs = community(12)
    evs += [say_at(i, f"u-{i}", "抽奖", f"g-{1 + i % 2}") for i in range(0, 12, 2)]
    evs += [say_at(i, f"u-{i}", "抢红包", f"g-{1 + i % 2}") for i in range(1, 12, 2)]
    evs += [posted("u-3", "结束后聊天", "g-2", at=END + timedelta(hours=1))]
    outcomes = []
    for batch_size in (5000, 1):
        ws = configure(engine, create_workspace(engine), *items)
        do_ingest_events(engine, ws, evs, batch_size=batch_size)
        outcomes.append(
            (
                [
                    (a["kind"], a["group"], a["member"], a["reason"], a["data"], a["decided_at"])
                    for a in activity_actions(engine, ws)
                ],
                [
                    (w["activity"], w["rank"], w["member"], w["amount_fen"], w["seed"])
                    for w in rows(engine, ws, "activity_winners")
                ],
            )
        )
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][1]) == 7


def test_texts_follow_the_workspace_locale(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {"id": "en", "type": "lottery", "keyword": "lucky", "winners": 1, "prize": "a mug"},
        workspace={"locale": "en"},
    )
    evs = [*community(2, ("g-1",)), say_at(1, "u-0", "lucky me", "g-1")]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, END)
    texts = [a["data"].get("text", "") for a in activity_actions(engine, ws)]
    assert texts[0].startswith("🎁 Lottery") and "Send “lucky” to enter" in texts[0]
    assert texts[1].startswith("🎉 “en” results: @成员0")
    (payout,) = [a for a in activity_actions(engine, ws) if a["kind"] == "staff.task"]
    assert "1. 成员0 (u-0, group g-1)" in payout["data"]["task"]
    assert "（" not in payout["data"]["task"]  # no Chinese punctuation in an English task


# --- Price hunt 比省钱 --------------------------------------------------------------------------

PRICE_HUNT = {
    "id": "cheap",
    "type": "price_hunt",
    "title": "比省钱",
    "product": "马克杯",
    "winners": 2,
    "min_price_fen": 500,
    "max_price_fen": 20000,
    "proof": True,
    "prize": "免单",
    "points": 30,
}


def price_hunt_history() -> list[Event]:
    evs = community(7, ("g-1", "g-2"))
    evs += [
        say_at(1, "u-0", "到手价 39.9元", "g-1"),
        say_at(2, "u-0", "", "g-1", kind="image"),
        say_at(3, "u-1", "", "g-2", kind="image"),  # the screenshot first, then the price
        say_at(4, "u-1", "我买到 ¥35", "g-2"),
        say_at(5, "u-2", "35元", "g-1"),  # the same price, posted later
        say_at(6, "u-2", "", "g-1", kind="image"),
        say_at(7, "u-3", "¥1", "g-2"),  # below the believable range: not an entry
        say_at(8, "u-4", "30元", "g-1"),  # no screenshot: does not count
        say_at(9, "u-5", "订单号 2023112212345678", "g-2"),
        say_at(10, "u-5", "", "g-2", kind="image"),  # proof, but no price
        say_at(11, "u-0", "到手价 45", "g-1"),  # higher than before: the lower one stays
        say_at(12, "u-0", "刚又买了一个，花了32块5", "g-1"),  # lower: this is the entry now
        say_at(13, "owner-g-1", "到手价 6元", "g-1"),  # the house does not play
        posted("u-6", "到手价 8元", "g-1", at=END + timedelta(minutes=1)),  # too late
    ]
    return evs


def test_price_hunt_lowest_prices_win_and_are_told(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace, PRICE_HUNT)
    do_ingest_events(engine, ws, price_hunt_history())
    tick(engine, ws, END + timedelta(minutes=5))

    entries = {e["member"]: e for e in rows(engine, ws, "activity_entries")}
    assert sorted(entries) == ["u-0", "u-1", "u-2", "u-4", "u-5"]
    assert entries["u-0"]["text"] == "刚又买了一个，花了32块5"
    assert [entries[m]["correct"] for m in ("u-0", "u-1", "u-4")] == [True, True, False]
    winners = rows(engine, ws, "activity_winners")
    assert [(w["rank"], w["member"], w["seed"], w["entrants"]) for w in winners] == [
        (1, "u-0", "lowest-price", 3),
        (2, "u-1", "lowest-price", 3),  # ¥35 like u-2, but posted first
    ]

    acts = activity_actions(engine, ws)
    (start,) = [a for a in acts if "开始" in a["reason"] and a["group"] == "g-1"]
    assert "比省钱「比省钱」开始啦" in start["data"]["text"] and "马克杯" in start["data"]["text"]
    assert "并附订单截图" in start["data"]["text"]
    results = {a["group"]: a["data"] for a in acts if "结果" in a["reason"]}
    assert set(results) == {"g-1", "g-2"}
    assert "@成员0（¥32.50）、@成员1（¥35.00）" in results["g-1"]["text"]
    assert "共 3 人参与" in results["g-1"]["text"]
    assert results["g-1"]["mentions"] == ["u-0"]  # each group @mentions its own winners
    assert results["g-2"]["mentions"] == ["u-1"]
    (payout,) = [a for a in acts if a["kind"] == "staff.task"]
    assert "免单" in payout["data"]["task"]
    rewards = [
        (p["member"], p["delta"]) for p in rows(engine, ws, "points") if p["kind"] == "activity"
    ]
    assert sorted(rewards) == [("u-0", 30), ("u-1", 30)]


def test_price_hunt_replays_the_same_in_any_batches(engine: Engine) -> None:
    history, outcomes = price_hunt_history(), []
    for batch_size in (5000, 1):  # one by one, a lower price updates a stored entry
        ws = configure(engine, create_workspace(engine), {**PRICE_HUNT, "confirm": True})
        do_ingest_events(engine, ws, history, batch_size=batch_size)
        tick(engine, ws, END + timedelta(minutes=5))
        outcomes.append(
            (
                [
                    (a["group"], a["member"], a["data"], a["decided_at"])
                    for a in activity_actions(engine, ws)
                ],
                [
                    (e["member"], e["text"], e["correct"], e["at"])
                    for e in rows(engine, ws, "activity_entries")
                ],
                [
                    (w["rank"], w["member"], w["entrants"])
                    for w in rows(engine, ws, "activity_winners")
                ],
            )
        )
    assert outcomes[0] == outcomes[1]
    priced = [d["text"] for _, m, d, _ in outcomes[0][0] if m == "u-0" and "已记录" in d["text"]]
    assert priced == [
        "@成员0 已记录你的到手价 ¥39.90（还差一张订单截图才算数），11-22 20:00 公布结果",
        "@成员0 已记录你的到手价 ¥32.50，11-22 20:00 公布结果",
    ]


def test_price_hunt_configuration_is_checked(engine: Engine, workspace: WorkspaceInfo) -> None:
    for broken, why in (
        ({"max_price_fen": None}, "max_price_fen"),
        ({"product": None}, "product"),
        ({"min_price_fen": 30000}, "min_price_fen"),
        ({"type": "lottery"}, "for a price hunt"),
    ):
        with pytest.raises(ConfigRejected) as caught:
            configure(engine, workspace, {**PRICE_HUNT, **broken})
        assert caught.value.errors[0].path == "activities.items.0"
        assert why in caught.value.errors[0].message


def test_every_activity_tells_its_winners_once(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {"id": "lot", "type": "lottery", "winners": 1},
        {"id": "rain", "type": "redpacket_rain", "winners": 1, "amount_fen": 100},
        {"id": "quiz", "type": "qa", "question": "1+1?", "answers": ["2"], "winners": 1},
        {"id": "show", "type": "show_order", "winners": 1},
        {**PRICE_HUNT, "proof": False, "winners": 1},
    )
    evs = community(2, ("g-1",))
    evs += [
        say_at(1, "u-0", "抽奖", "g-1"),
        say_at(2, "u-0", "抢红包", "g-1"),
        say_at(3, "u-0", "2", "g-1"),
        say_at(4, "u-0", "晒单", "g-1"),
        say_at(5, "u-0", "到手价 20元", "g-1"),
    ]
    do_ingest_events(engine, ws, evs)
    for _ in range(2):  # ticking again tells no one twice
        tick(engine, ws, END + timedelta(minutes=5))
    results = [a for a in activity_actions(engine, ws) if "结果" in a["reason"]]
    assert sorted(a["data"]["activity"] for a in results) == [
        "cheap",
        "lot",
        "quiz",
        "rain",
        "show",
    ]
    assert all(a["data"]["mentions"] == ["u-0"] and "@成员0" in a["data"]["text"] for a in results)


def test_price_hunt_through_the_command(engine: Engine, shequn: Shequn, tmp_path: Path) -> None:
    ws = create_workspace(engine)
    config = tmp_path / "config.yaml"
    window = {"starts_at": START.isoformat(), "ends_at": END.isoformat()}
    broken = {**PRICE_HUNT, **window, "max_price_fen": None}
    config.write_text(yaml.safe_dump({"activities": {"items": [broken]}}), encoding="utf-8")
    refused = shequn("config", "apply", str(config), "-w", ws.slug)
    assert refused.exit_code != 0 and "activities.items.0" in refused.output
    config.write_text(
        yaml.safe_dump({"activities": {"items": [{**PRICE_HUNT, **window}]}}), encoding="utf-8"
    )
    assert shequn("config", "apply", str(config), "-w", ws.slug).exit_code == 0
    during = price_hunt_history()[:-1]  # up to the last entry: the end comes with the clock
    history = write_events(tmp_path / "events.jsonl", during)
    ingested = shequn("ingest", str(history), "-w", ws.slug)
    assert ingested.exit_code == 0, ingested.output
    assert shequn("export", "activity_winners", "-w", ws.slug).output == ""  # not over yet
    until = (END + timedelta(minutes=5)).isoformat()
    assert shequn("tick", "--until", until, "-w", ws.slug).exit_code == 0
    exported = shequn("export", "activity_winners", "-w", ws.slug).output.splitlines()
    assert [orjson.loads(x)["member"] for x in exported] == ["u-0", "u-1"]
    # The results were delivered to the sandbox groups, the winners mentioned.
    sent = [a for a in activity_actions(engine, ws) if "结果" in a["reason"]]
    assert {(a["group"], a["status"]) for a in sent} == {("g-1", "done"), ("g-2", "done")}
