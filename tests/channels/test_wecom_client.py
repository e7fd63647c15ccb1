"""The WeCom API client against the local fake server: one shared token, refreshed once on
40001/40014/42001, back-off on busy answers, permanent errors raised with their errcode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from shequn.channels.base import PermanentError, TemporaryError
from shequn.channels.connections.keyring import Keyring, new_key
from shequn.channels.connections.service import (
    cached_token,
    connection_views,
    do_rotate,
    load_connection,
)
from shequn.channels.wecom.client import WecomBusy, WecomClient, WecomError, classify
from shequn.channels.wecom.connection import load_app
from shequn.community.workspace import WorkspaceInfo
from shequn.platform.db import transaction
from tests.channels.fake_wecom import Chat, FakeWecom
from tests.channels.wecom_kit import KEYS, connect
from tests.factories import NOW

GET = "externalcontact/groupchat/get"
LIST = "externalcontact/groupchat/list"


@pytest.fixture
def fake() -> Iterator[FakeWecom]:
    server = FakeWecom().start()
    server.chats["wr-1"] = Chat("wr-1", "一群", "staff-zhang", 1733000000)
    yield server
    server.stop()


@pytest.fixture
def connected(engine: Engine, workspace: WorkspaceInfo, fake: FakeWecom) -> WorkspaceInfo:
    connect(engine, workspace, NOW, corp=fake.corp_id, secret=fake.secret, api_base=fake.base)
    return workspace


def client(engine: Engine, ws: WorkspaceInfo, naps: list[float] | None = None) -> WecomClient:
    with engine.connect() as conn:
        app = load_app(conn, ws.id, KEYS)
    sleeps = naps if naps is not None else []
    return WecomClient(engine, ws.id, app, KEYS, now=lambda: NOW, sleep=sleeps.append)


def test_every_errcode_is_classified() -> None:
    assert classify(0) == "ok"
    assert {classify(c) for c in (40001, 40014, 42001)} == {"token"}
    assert {classify(c) for c in (-1, 45009, 45033)} == {"temporary"}
    assert {classify(c) for c in (40013, 60011, 48002, 49008, 41051)} == {"permanent"}


def test_the_token_is_fetched_once_and_shared_by_every_client(
    engine: Engine, connected: WorkspaceInfo, fake: FakeWecom
) -> None:
    with client(engine, connected) as first:
        first.group_chat("wr-1")
        first.group_chat("wr-1")
    with client(engine, connected) as second:  # another process: same database, same token
        second.group_chat("wr-1")
    assert fake.count("gettoken") == 1
    assert fake.count(GET) == 3
    with engine.connect() as conn:
        assert cached_token(conn, connected.id, "wecom", KEYS, now=NOW) == "token-1"
        # Stale past its lifetime (less the margin): the next call fetches a new one.
        later = NOW + timedelta(hours=2)
        assert cached_token(conn, connected.id, "wecom", KEYS, now=later) is None


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_a_rejected_token_is_renewed_once_and_the_call_succeeds(
    engine: Engine, connected: WorkspaceInfo, fake: FakeWecom, errcode: int
) -> None:
    with client(engine, connected) as c:
        c.group_chat("wr-1")
        fake.fail_next(GET, errcode)
        assert c.group_chat("wr-1")["name"] == "一群"
    assert fake.count("gettoken") == 2, fake.calls


def test_a_token_expired_mid_run_is_renewed(
    engine: Engine, connected: WorkspaceInfo, fake: FakeWecom
) -> None:
    with client(engine, connected) as c:
        c.group_chat("wr-1")
        fake.expire_tokens()  # WeCom may invalidate a token early
        assert c.group_chat("wr-1")["chat_id"] == "wr-1"
    assert fake.count("gettoken") == 2


def test_a_token_rejected_twice_is_a_permanent_error(
    engine: Engine, connected: WorkspaceInfo, fake: FakeWecom
) -> None:
    with client(engine, connected) as c:
        c.group_chat("wr-1")
        fake.fail_next(GET, 42001, 42001)
        with pytest.raises(WecomError) as raised:
            c.group_chat("wr-1")
    assert raised.value.errcode == 42001
    assert fake.count("gettoken") == 2  # renewed once, not in a loop


@pytest.mark.parametrize("busy", [45009, -1, 45033, 503])
def test_a_busy_answer_backs_off_and_retries(
    engine: Engine, connected: WorkspaceInfo, fake: FakeWecom, busy: int
) -> None:
    naps: list[float] = []
    with client(engine, connected, naps) as c:
        fake.fail_next(GET, busy, busy)
        assert c.group_chat("wr-1")["chat_id"] == "wr-1"
    assert naps == [1.0, 4.0]


def test_busy_for_too_long_is_a_temporary_error(
    engine: Engine, connected: WorkspaceInfo, fake: FakeWecom
) -> None:
    naps: list[float] = []
    with client(engine, connected, naps) as c:
        c.group_chat("wr-1")
        fake.fail_next(GET, 45009, 45009, 45009, 45009)
        with pytest.raises(TemporaryError) as raised:
            c.group_chat("wr-1")
    assert isinstance(raised.value, WecomBusy) and raised.value.errcode == 45009
    assert naps == [1.0, 4.0, 15.0]


def test_a_permanent_error_is_not_repeated(
    engine: Engine, connected: WorkspaceInfo, fake: FakeWecom
) -> None:
    naps: list[float] = []
    with client(engine, connected, naps) as c, pytest.raises(PermanentError) as raised:
        c.group_chat("wr-unknown")
    assert isinstance(raised.value, WecomError) and raised.value.errcode == 49008
    assert fake.count(GET) == 1 and naps == []


def test_a_wrong_secret_is_a_permanent_error(
    engine: Engine, workspace: WorkspaceInfo, fake: FakeWecom
) -> None:
    connect(engine, workspace, NOW, corp=fake.corp_id, secret="wrong", api_base=fake.base)
    with client(engine, workspace) as c, pytest.raises(WecomError) as raised:
        c.group_chat("wr-1")
    assert raised.value.errcode == 40001
    assert fake.count("gettoken") == 1


def test_group_chat_ids_follow_every_page(
    engine: Engine, connected: WorkspaceInfo, fake: FakeWecom
) -> None:
    for i in range(5):
        fake.chats[f"wr-p{i}"] = Chat(f"wr-p{i}", f"群{i}", "staff-zhang", 1733000000 + i)
    with client(engine, connected) as c:
        assert c.group_chat_ids(page_size=2) == sorted(fake.chats)
    assert fake.count(LIST) == 3


# --- secrets at rest ---------------------------------------------------------------------


def test_secrets_are_sealed_bound_to_their_row_and_never_shown(
    engine: Engine, connected: WorkspaceInfo, fake: FakeWecom
) -> None:
    from sqlalchemy import text

    with engine.connect() as conn:
        raw = conn.execute(
            text("SELECT secrets FROM channel_connections WHERE workspace_id = :ws"),
            {"ws": connected.id},
        ).one()
        views = connection_views(conn, connected.id)
    assert fake.secret not in raw[0] and "kWxPEV2UEDy" not in raw[0]
    assert fake.secret not in str(views) and "secrets" not in views[0]
    assert views[0]["settings"]["corp_id"] == fake.corp_id
    with pytest.raises(Exception, match="does not open"):
        KEYS.open(raw[0], "999|wecom|secrets")  # another workspace's row: no
    with engine.connect() as conn:
        assert load_connection(conn, connected.id, "wecom", KEYS).secrets["secret"] == fake.secret


def test_rotation_re_seals_with_the_new_key_and_the_old_one_can_go(
    engine: Engine, connected: WorkspaceInfo, fake: FakeWecom
) -> None:
    with client(engine, connected) as c:
        c.group_chat("wr-1")  # a cached token, sealed too
    both = Keyring((Keyring.parse(new_key()).keys[0], *KEYS.keys))
    with transaction(engine) as conn:
        assert do_rotate(conn, both).resealed >= 1
        assert do_rotate(conn, both).resealed == 0  # already done: nothing left
    new_only = Keyring(both.keys[:1])
    with engine.connect() as conn:
        assert load_connection(conn, connected.id, "wecom", new_only).secrets["token"]
        with pytest.raises(Exception, match="secret key"):
            load_connection(conn, connected.id, "wecom", KEYS)
