"""The pipeline on real databases: dedupe, projections, rules, scheduler and outbox."""

from __future__ import annotations

import io
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import Engine, select

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.models import actions, events, jobs
from shequn.engine.outbox import deliver_due
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.factories import T0, event, joined, left, minutes, posted


def export(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(line) for line in buf.getvalue().splitlines()]


def world() -> list:
    return [
        event("group.created", "g-1", at=T0, name="烘焙1群", capacity=3),
        joined("u-1", at=T0 + minutes(1), code="c-1", state="poster"),
        joined("u-2", at=T0 + minutes(1.2), inviter="u-1", scene="invite"),
        posted("u-1", "大家好", at=T0 + minutes(2)),
        posted("u-1", "有人吗", at=T0 + minutes(3)),
        joined("u-3", at=T0 + minutes(4)),
        left("u-2", at=T0 + minutes(5)),
        joined("u-3", group="g-2", at=T0 + minutes(6)),
    ]


def test_projections_follow_events(engine: Engine, workspace: WorkspaceInfo) -> None:
    report = do_ingest_events(engine, workspace, world())
    assert (report.accepted, report.duplicates) == (8, 0)

    groups = {g["group"]: g for g in export(engine, workspace, "groups")}
    assert groups["g-1"]["name"] == "烘焙1群"
    assert groups["g-1"]["member_count"] == 2
    assert groups["g-1"]["status"] == "active"
    assert groups["g-2"]["name"] == "g-2"  # made on first sight

    members = {m["member"]: m for m in export(engine, workspace, "members")}
    assert members["u-1"]["message_count"] == 2
    assert members["u-1"]["first_state"] == "poster"
    assert members["u-2"]["first_inviter"] == "u-1"
    assert members["u-3"]["groups_in"] == 2
    assert members["u-3"]["first_group"] == "g-1"  # first touch is kept

    ms = {(m["group"], m["member"]): m for m in export(engine, workspace, "memberships")}
    assert ms[("g-1", "u-2")]["active"] is False
    assert ms[("g-1", "u-2")]["left_reason"] == "left"
    assert ms[("g-1", "u-1")]["last_spoke_at"] == "2026-11-22T02:03:00Z"


def test_group_full_at_capacity(engine: Engine, workspace: WorkspaceInfo) -> None:
    evs = [event("group.created", "g-1", at=T0, name="小群", capacity=2)]
    evs += [joined(f"u-{i}", at=T0 + minutes(i)) for i in range(1, 3)]
    do_ingest_events(engine, workspace, evs)
    (g,) = export(engine, workspace, "groups")
    assert (g["status"], g["member_count"]) == ("full", 2)
    do_ingest_events(engine, workspace, [left("u-1", at=T0 + minutes(9))])
    (g,) = export(engine, workspace, "groups")
    assert (g["status"], g["member_count"]) == ("active", 1)


def test_same_events_twice_are_one(engine: Engine, workspace: WorkspaceInfo) -> None:
    evs = world()
    do_ingest_events(engine, workspace, evs)
    before = {
        k: export(engine, workspace, k) for k in ("events", "members", "memberships", "actions")
    }
    again = do_ingest_events(engine, workspace, evs + evs[:3])
    assert (again.accepted, again.duplicates) == (0, 11)
    after = {k: export(engine, workspace, k) for k in before}
    assert after == before


def test_duplicates_within_one_batch(engine: Engine, workspace: WorkspaceInfo) -> None:
    e = posted("u-1", "hi", at=T0)
    report = do_ingest_events(engine, workspace, [e, e, e])
    assert (report.accepted, report.duplicates) == (1, 2)
    assert export(engine, workspace, "members")[0]["message_count"] == 1


def test_a_changed_event_under_an_old_id_is_a_conflict_and_the_first_wins(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    first = posted("u-1", "第一版", at=T0, id_="m-1")
    do_ingest_events(engine, workspace, [first])
    changed = posted("u-1", "改过的", at=T0, id_="m-1")
    moved = posted("u-1", "第一版", at=T0 + minutes(1), id_="m-1")
    report = do_ingest_events(engine, workspace, [first, changed, moved])
    assert (report.accepted, report.duplicates, report.conflicts) == (0, 1, ["m-1", "m-1"])
    # Within one batch: the first of the batch wins, a changed repeat is a conflict.
    a = posted("u-2", "甲", at=T0, id_="m-2")
    b = posted("u-2", "乙", at=T0, id_="m-2")
    report = do_ingest_events(engine, workspace, [a, a, b])
    assert (report.accepted, report.duplicates, report.conflicts) == (1, 1, ["m-2"])
    texts = {e["id"]: e["data"]["text"] for e in export(engine, workspace, "events")}
    assert texts == {"m-1": "第一版", "m-2": "甲"}


def test_welcome_batches_newcomers_per_window(engine: Engine, workspace: WorkspaceInfo) -> None:
    evs = [
        event("group.created", "g-1", at=T0, name="烘焙1群"),
        joined("u-1", at=T0 + timedelta(seconds=1), nickname="小明"),
        joined("u-2", at=T0 + timedelta(seconds=10), nickname="小红"),
        joined("u-3", at=T0 + timedelta(seconds=45), nickname="阿强"),
    ]
    do_ingest_events(engine, workspace, evs)
    # The first window closed at 00:31, before u-3 joined: decided while ingesting.
    (first,) = export(engine, workspace, "actions")
    assert first["kind"] == "message.send"
    assert first["data"]["mentions"] == ["u-1", "u-2"]
    assert "@小明 @小红" in first["data"]["text"] and "烘焙1群" in first["data"]["text"]
    assert first["rule"] == "engagement.welcome"
    assert first["caused_by"] == evs[1].id
    # The second window is due at 01:15: only the scheduler's clock gets there.
    assert tick(engine, workspace, T0 + timedelta(seconds=60)) == 0
    assert tick(engine, workspace, T0 + timedelta(seconds=75)) == 1
    second = export(engine, workspace, "actions")[1]
    assert second["data"]["mentions"] == ["u-3"]
    assert tick(engine, workspace, T0 + timedelta(hours=1)) == 0


def test_welcome_skips_who_left_and_can_be_switched_off(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    do_ingest_events(
        engine,
        workspace,
        [joined("u-1", at=T0), left("u-1", at=T0 + timedelta(seconds=5))],
    )
    tick(engine, workspace, T0 + minutes(5))
    assert export(engine, workspace, "actions") == []

    from shequn.community.service import do_apply_config

    with transaction(engine) as conn:
        ws = do_apply_config(conn, workspace.slug, {"welcome": {"enabled": False}})
    do_ingest_events(engine, ws, [joined("u-2", at=T0 + minutes(10))])
    tick(engine, ws, T0 + minutes(20))
    assert export(engine, ws, "actions") == []


def test_replay_gives_identical_decisions(engine: Engine, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import create_workspace

    a, b = create_workspace(engine), create_workspace(engine)
    evs = world() + [joined(f"u-{i}", at=T0 + minutes(10 + i)) for i in range(10, 20)]
    do_ingest_events(engine, a, evs)
    for e in evs:  # one at a time: batch boundaries must not matter
        do_ingest_events(engine, b, [e])
    strip = lambda rows: [{k: v for k, v in r.items() if k != "id"} for r in rows]  # noqa: E731
    assert strip(export(engine, a, "actions")) == strip(export(engine, b, "actions"))
    assert export(engine, a, "memberships") == export(engine, b, "memberships")


def test_manual_channel_turns_actions_into_staff_tasks(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    do_ingest_events(engine, workspace, [joined("w-1", at=T0, channel="wecom")])
    tick(engine, workspace, T0 + minutes(1))
    (action,) = export(engine, workspace, "actions")
    assert action["status"] == "staff_task"
    assert action["data"]["task"].startswith("请在群")


def test_outbox_delivers_to_sandbox_history(engine: Engine, workspace: WorkspaceInfo) -> None:
    from shequn.channels.sandbox.service import group_history

    do_ingest_events(engine, workspace, [joined("u-1", at=T0, nickname="小明")])
    tick(engine, workspace, T0 + minutes(1))
    counts = deliver_due(engine, T0 + minutes(1), workspace_id=workspace.id)
    assert counts == {"done": 1, "retry": 0, "failed": 0}
    with engine.connect() as conn:
        history = group_history(conn, workspace, "g-1")
    assert [m["from"] for m in history] == ["shequn"]
    assert "@小明" in history[0]["text"]
    (action,) = export(engine, workspace, "actions")
    assert action["status"] == "done" and action["attempts"] == 1
    assert deliver_due(engine, T0 + minutes(2), workspace_id=workspace.id) == {
        "done": 0,
        "retry": 0,
        "failed": 0,
    }


def test_sandbox_removal_removes_the_member(engine: Engine, workspace: WorkspaceInfo) -> None:
    from shequn.actions import ActionKind, Decision
    from shequn.engine.ingest import Run

    do_ingest_events(engine, workspace, [joined("u-1", at=T0)])
    with transaction(engine) as conn:
        run = Run(conn, workspace)
        run.outbox.add(
            "test.remove",
            Decision(ActionKind.MEMBER_REMOVE, "posted an ad", group="g-1", member="u-1"),
            channel="sandbox",
            caused_by=None,
            cause_key="manual",
            at=T0 + minutes(1),
        )
        run.flush()
    deliver_due(engine, T0 + minutes(1), workspace_id=workspace.id)
    ms = export(engine, workspace, "memberships")[0]
    assert (ms["active"], ms["left_reason"], ms["left_by"]) == (False, "removed", "shequn-bot")


def test_failing_channel_backs_off_then_dies(engine: Engine, workspace: WorkspaceInfo) -> None:
    from shequn.actions import ActionKind, Decision
    from shequn.engine.ingest import Run

    with transaction(engine) as conn:
        run = Run(conn, workspace)
        # A sandbox removal without a member is a permanent error.
        run.outbox.add(
            "test.bad",
            Decision(ActionKind.MEMBER_REMOVE, "bad", group="g-1"),
            channel="sandbox",
            caused_by=None,
            cause_key="bad",
            at=T0,
        )
        run.flush()
    assert deliver_due(engine, T0, workspace_id=workspace.id)["failed"] == 1
    with engine.connect() as conn:
        status, error = conn.execute(
            select(actions.c.status, actions.c.last_error).where(
                actions.c.workspace_id == workspace.id
            )
        ).one()
    assert status == "failed" and "member" in error


def test_temporary_errors_retry_with_backoff(
    engine: Engine, workspace: WorkspaceInfo, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from shequn.actions import ActionKind, Decision
    from shequn.channels.base import TemporaryError
    from shequn.channels.sandbox.adapter import SandboxChannel
    from shequn.engine.ingest import Run

    calls: list[str] = []

    def flaky(self, action, engine):  # type: ignore[no-untyped-def]
        calls.append(action.id)
        raise TemporaryError("timeout")

    # The channel's server is the outside world: make it time out.
    monkeypatch.setattr(SandboxChannel, "execute", flaky)
    with transaction(engine) as conn:
        run = Run(conn, workspace)
        run.outbox.add(
            "test.send",
            Decision(ActionKind.MESSAGE_SEND, "hello", group="g-1", data={"text": "hi"}),
            channel="sandbox",
            caused_by=None,
            cause_key="k",
            at=T0,
        )
        run.flush()
    now = T0
    waits = []
    for _ in range(6):
        deliver_due(engine, now, max_attempts=4, workspace_id=workspace.id)
        with engine.connect() as conn:
            status, nxt = conn.execute(
                select(actions.c.status, actions.c.next_attempt_at).where(
                    actions.c.workspace_id == workspace.id
                )
            ).one()
        if status == "failed":
            break
        waits.append((nxt - now).total_seconds())
        assert (
            deliver_due(
                engine, nxt - timedelta(seconds=1), max_attempts=4, workspace_id=workspace.id
            )["retry"]
            == 0
        )
        now = nxt
    assert waits == [5, 10, 20]
    assert len(calls) == 4 and status == "failed"


def test_jobs_and_events_are_stored(engine: Engine, workspace: WorkspaceInfo) -> None:
    do_ingest_events(engine, workspace, [joined("u-1", at=T0)])
    with engine.connect() as conn:
        assert (
            conn.execute(select(events.c.ext_id).where(events.c.workspace_id == workspace.id))
            .scalars()
            .all()
        )
        found = conn.execute(
            select(jobs.c.kind, jobs.c.status).where(jobs.c.workspace_id == workspace.id)
        ).all()
    assert ("engagement.welcome", "pending") in [tuple(j) for j in found]


def test_a_failing_job_is_set_aside_and_ingest_goes_on(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    from shequn.engine.rules import job_handler

    @job_handler("test", "broken", kind="test.broken")
    def broken(job, ctx):  # type: ignore[no-untyped-def]
        raise LookupError("no coupon template 'gone'")

    from shequn.engine.ingest import Run

    with transaction(engine) as conn:
        run = Run(conn, workspace)
        run.jobs.schedule("test.broken", "broken:1", T0 + minutes(1), {"group": "g-1"}, None)
        run.flush()
    report = do_ingest_events(engine, workspace, [posted("u-1", "hi", at=T0 + minutes(2))])
    assert report.accepted == 1
    with engine.connect() as conn:
        status, payload = conn.execute(
            select(jobs.c.status, jobs.c.payload).where(
                jobs.c.workspace_id == workspace.id, jobs.c.kind == "test.broken"
            )
        ).one()
    assert status == "failed" and "no coupon template" in payload["error"]
    task = next(a for a in export(engine, workspace, "actions") if a["rule"] == "test.broken")
    assert task["kind"] == "staff.task" and "test.broken" in task["reason"]


def test_no_transaction_runs_more_than_its_share_of_due_work(
    engine: Engine, workspace: WorkspaceInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A history with a three-year gap (the daily cleanup falls due ~1,100 times in it) is
    ingested in several transactions, none running more than MAX_JOBS_PER_TRANSACTION jobs
    (200 here, to keep the test short), and decides what one unbounded transaction decides."""
    from sqlalchemy import event as sa_event
    from sqlalchemy import func

    from shequn.engine import ingest
    from shequn.engine.ingest import ingest_batch
    from tests.conftest import create_workspace

    monkeypatch.setattr(ingest, "MAX_JOBS_PER_TRANSACTION", 200)
    MAX_JOBS_PER_TRANSACTION = 200

    start = T0 - timedelta(days=3 * 365)
    history = [
        event("group.created", "g-1", at=start, name="烘焙1群"),
        joined("u-1", at=start + minutes(1)),
        joined("u-2", at=start + minutes(2)),
        posted("u-1", "三年后", at=T0),
    ]
    done_at_commit: list[int] = []

    def count_done(conn):  # type: ignore[no-untyped-def]
        done = (
            select(func.count())
            .select_from(jobs)
            .where(jobs.c.workspace_id == workspace.id, jobs.c.status == "done")
        )
        done_at_commit.append(conn.execute(done).scalar_one())

    sa_event.listen(engine, "commit", count_done)
    try:
        do_ingest_events(engine, workspace, history)
    finally:
        sa_event.remove(engine, "commit", count_done)
    steps = [b - a for a, b in zip([0, *done_at_commit], done_at_commit, strict=False)]
    assert sum(steps) > 2 * MAX_JOBS_PER_TRANSACTION  # the gap held that much work …
    assert max(steps) <= MAX_JOBS_PER_TRANSACTION  # … and no transaction ran more than its share

    reference = create_workspace(engine)
    with transaction(engine) as conn:
        ingest_batch(conn, reference, history)

    def decided(ws: WorkspaceInfo) -> list[tuple[str, str, str]]:
        return [(a["rule"], a["kind"], a["decided_at"]) for a in export(engine, ws, "actions")]

    def ran(ws: WorkspaceInfo) -> list[tuple[str, str, str]]:
        with engine.connect() as conn:
            rows = conn.execute(
                select(jobs.c.key, jobs.c.status, jobs.c.done_at)
                .where(jobs.c.workspace_id == ws.id)
                .order_by(jobs.c.key)
            )
            return [(k, s, str(d)) for k, s, d in rows]

    assert decided(workspace) == decided(reference)
    assert ran(workspace) == ran(reference)
