"""`channel sync wecom` against the local fake server: what WeCom has becomes Shequn's state,
a second sync adds nothing, and a sync after missed callbacks leaves the memberships the
callbacks would have."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.channels.base import TemporaryError
from shequn.channels.connections.service import connection_views
from shequn.channels.wecom.service import do_sync_wecom
from shequn.community.service import channel_groups, channel_members_now
from shequn.community.workspace import WorkspaceInfo
from shequn.exports import EXPORTS
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.channels.fake_wecom import Chat, FakeWecom, Member
from tests.channels.wecom_kit import KEY, KEYS, callback, chat_xml, connect
from tests.conftest import create_workspace
from tests.factories import NOW

T0 = 1733000000


@pytest.fixture
def fake() -> Iterator[FakeWecom]:
    server = FakeWecom().start()
    one = Chat("wr-1", "吐司一群", "staff-zhang", T0, notice="欢迎")
    one.members = {
        "staff-zhang": Member("staff-zhang", T0, type=1, join_scene=1, name="张店长"),
        "wm-alice": Member("wm-alice", T0 + 60, join_scene=3, name="Alice", state="lc-spring"),
        "wm-bob": Member("wm-bob", T0 + 120, join_scene=1, name="Bob", invitor="staff-zhang"),
    }
    two = Chat("wr-2", "蛋糕群", "staff-li", T0 + 10)
    two.members = {"staff-li": Member("staff-li", T0 + 10, type=1, name="李")}
    server.chats = {"wr-1": one, "wr-2": two}
    yield server
    server.stop()


def connected(engine: Engine, fake: FakeWecom) -> WorkspaceInfo:
    ws = create_workspace(engine)
    connect(engine, ws, NOW, corp=fake.corp_id, secret=fake.secret, api_base=fake.base)
    return ws


def sync(engine: Engine, ws: WorkspaceInfo, at: Any = NOW) -> dict[str, Any]:
    return do_sync_wecom(engine, ws, keys=KEYS, now=at, backoff=()).public()


def members_now(engine: Engine, ws: WorkspaceInfo) -> dict[str, dict[str, str]]:
    with engine.connect() as conn:
        return channel_members_now(conn, ws.id, "wecom")


def in_wecom(fake: FakeWecom) -> dict[str, set[str]]:
    return {c.chat_id: set(c.members) for c in fake.chats.values() if c.members}


def test_a_first_sync_brings_every_group_and_member_and_a_second_adds_nothing(
    engine: Engine, fake: FakeWecom
) -> None:
    ws = connected(engine, fake)
    first = sync(engine, ws)
    assert first["groups"] == 2 and first["members"] == 4
    # One group has a notice, which group.created does not carry: a group.updated does.
    assert first["events"] == {"group.created": 2, "group.updated": 1, "member.joined": 4}
    assert first["accepted"] == 7
    assert {g: set(m) for g, m in members_now(engine, ws).items()} == in_wecom(fake)
    assert members_now(engine, ws)["wr-1"]["wm-alice"] == "Alice"
    with engine.connect() as conn:
        rows = list(EXPORTS["memberships"].rows(conn, ws))
        groups = channel_groups(conn, ws.id, "wecom")
    alice = next(r for r in rows if r["member"] == "wm-alice")
    assert alice["state"] == "lc-spring" and alice["join_scene"] == "qr"
    bob = next(r for r in rows if r["member"] == "wm-bob")
    assert bob["inviter"] == "staff-zhang" and bob["join_scene"] == "invite"
    assert groups["wr-1"]["name"] == "吐司一群" and groups["wr-1"]["owner"] == "staff-zhang"
    assert groups["wr-1"]["notice"] == "欢迎"

    second = sync(engine, ws, NOW + timedelta(hours=1))
    assert second["events"] == {} and second["accepted"] == 0
    with engine.connect() as conn:
        view = connection_views(conn, ws.id)[0]
    assert view["last_sync_at"] is not None and view["last_sync"]["groups"] == 2


def test_what_changed_while_not_listening_becomes_events(engine: Engine, fake: FakeWecom) -> None:
    ws = connected(engine, fake)
    sync(engine, ws)
    one = fake.chats["wr-1"]
    del one.members["wm-bob"]
    one.members["wm-carol"] = Member("wm-carol", T0 + 500, join_scene=2, name="Carol")
    one.members["wm-alice"].name = "Alice 王"
    one.name, one.owner = "吐司一群（新）", "staff-wang"
    del fake.chats["wr-2"]
    later = NOW + timedelta(hours=2)
    report = sync(engine, ws, later)
    assert report["events"] == {
        "group.dismissed": 1, "group.updated": 1, "member.joined": 1, "member.left": 1,
        "member.renamed": 1,
    }  # fmt: skip
    assert set(members_now(engine, ws)["wr-1"]) == {"staff-zhang", "wm-alice", "wm-carol"}
    with engine.connect() as conn:
        groups = channel_groups(conn, ws.id, "wecom")
    assert groups["wr-1"]["name"] == "吐司一群（新）" and groups["wr-1"]["owner"] == "staff-wang"
    assert groups["wr-2"]["status"] == "dismissed"
    assert sync(engine, ws, later + timedelta(minutes=5))["events"] == {}


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    keyed = Settings(database_url=settings.database_url, secret_key=KEY)
    with TestClient(create_app(keyed, engine)) as c:
        yield c


def test_sync_after_missed_callbacks_gives_the_memberships_the_callbacks_would_have(
    engine: Engine, fake: FakeWecom, client: TestClient
) -> None:
    from tests.channels.wecom_kit import AES_KEY, TOKEN

    heard = connected(engine, fake)  # hears every callback
    deaf = connected(engine, fake)  # was down the whole time
    for ws in (heard, deaf):
        sync(engine, ws)
    one = fake.chats["wr-1"]
    changes = [
        ("add_member", "wm-dan", 1733001000),
        ("add_member", "wm-eve", 1733001100),
        ("del_member", "wm-alice", 1733001200),
        ("del_member", "wm-dan", 1733001300),
        ("add_member", "wm-alice", 1733001400),
    ]
    for n, (detail, member, at) in enumerate(changes):
        if detail == "add_member":
            one.members[member] = Member(member, at, join_scene=3, name=member.upper())
        else:
            del one.members[member]
        xml = chat_xml("update", "wr-1", created=at, UpdateDetail=detail, JoinScene=3,
                       QuitScene=0, CurMemVer=f"v{n}", members=[member])  # fmt: skip
        query, body = callback(xml, token=TOKEN, aes_key=AES_KEY, corp=fake.corp_id)
        answer = client.post(f"/channels/wecom/{heard.slug}/callback?{query}", content=body)
        assert answer.status_code == 200, answer.text

    later = NOW + timedelta(hours=3)
    caught_up = sync(engine, deaf, later)
    # Net of the five changes: Eve is new; Dan came and went; Alice left and came back,
    # under the name she has now.
    assert caught_up["events"] == {"member.joined": 1, "member.renamed": 1}
    expected = in_wecom(fake)
    assert {g: set(m) for g, m in members_now(engine, deaf).items()} == expected
    assert {g: set(m) for g, m in members_now(engine, heard).items()} == expected
    # The listening workspace's sync only fills in what callbacks do not carry (names).
    assert set(sync(engine, heard, later)["events"]) <= {"member.renamed"}
    assert sync(engine, heard, later + timedelta(minutes=1))["events"] == {}
    assert sync(engine, deaf, later + timedelta(minutes=1))["events"] == {}


def test_a_failing_sync_stores_nothing_and_says_why_in_the_status(
    engine: Engine, fake: FakeWecom
) -> None:
    ws = connected(engine, fake)
    fake.fail_next("externalcontact/groupchat/get", 45009)
    with pytest.raises(TemporaryError):
        sync(engine, ws)
    assert members_now(engine, ws) == {}
    with engine.connect() as conn:
        view = connection_views(conn, ws.id)[0]
    assert view["last_sync_at"] is None
    assert view["errors"][-1]["what"] == "sync" and view["errors"][-1]["code"] == 45009
