"""What Shequn decides for a WeCom customer group and cannot do through WeCom's API becomes
a staff task, in the workspace's language."""

from __future__ import annotations

from sqlalchemy import Engine

from shequn.actions import ActionKind
from shequn.channels.base import adapter_for
from shequn.channels.wecom.adapter import NO_API, WecomChannel
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_items
from shequn.exports import EXPORTS
from tests.factories import T0, raw_event


def test_the_wecom_adapter_is_installed_and_can_do_nothing_alone() -> None:
    adapter = adapter_for("wecom")
    assert isinstance(adapter, WecomChannel)
    assert not any(adapter.can(kind) for kind in ActionKind)
    assert not NO_API & adapter.capabilities


def test_actions_for_a_wecom_group_are_staff_tasks(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    events = [
        raw_event("member.joined", "wr-1", "wm-spam", T0, channel="wecom",
                  nickname="推广", scene="qr"),
        raw_event("message.posted", "wr-1", "wm-spam", T0, channel="wecom",
                  message_id="m-1", kind="text", text="加微信 vx123 代开发票 http://spam.example"),
    ]  # fmt: skip
    do_ingest_items(engine, workspace, events, latest=None)
    with engine.connect() as conn:
        actions = [a for a in EXPORTS["actions"].rows(conn, workspace) if a["channel"] == "wecom"]
    assert actions, "moderation decided nothing for an obvious ad"
    assert {a["status"] for a in actions} == {"staff_task"}
    assert all(a["data"].get("task") for a in actions)
