"""The WeCom callback URL, through the real HTTP endpoint: the public WXBizMsgCrypt vectors,
refusals that store nothing, the event mapping, and de-duplication of redeliveries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.channels.connections.service import connection_views
from shequn.community.service import channel_members_now
from shequn.community.workspace import WorkspaceInfo
from shequn.exports import EXPORTS
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.channels.wecom_kit import (
    AES_KEY,
    CORP,
    DECRYPT,
    ECHO,
    ENCRYPTED,
    KEY,
    SECOND,
    TOKEN,
    VERIFY,
    callback,
    chat_xml,
    connect,
    contact_xml,
)
from tests.conftest import create_workspace
from tests.factories import NOW


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    keyed = Settings(database_url=settings.database_url, secret_key=KEY)
    with TestClient(create_app(keyed, engine)) as c:
        yield c


@pytest.fixture
def connected(engine: Engine, workspace: WorkspaceInfo) -> WorkspaceInfo:
    connect(engine, workspace, NOW)
    return workspace


def url(ws: WorkspaceInfo) -> str:
    return f"/channels/wecom/{ws.slug}/callback"


def stored(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return list(EXPORTS["events"].rows(conn, ws))


def post(client: TestClient, ws: WorkspaceInfo, xml: str, **kw: Any) -> Any:
    query, body = callback(xml, **kw)
    return client.post(f"{url(ws)}?{query}", content=body)


# --- the public vectors --------------------------------------------------------------------


def test_url_verification_answers_the_public_vector(
    client: TestClient, connected: WorkspaceInfo
) -> None:
    answer = client.get(url(connected), params=VERIFY)
    assert answer.status_code == 200
    assert answer.content == ECHO.encode()  # the plaintext alone: no quotes, BOM or newline


def test_url_verification_with_another_nonce_fails(
    client: TestClient, connected: WorkspaceInfo, engine: Engine
) -> None:
    answer = client.get(url(connected), params={**VERIFY, "nonce": "437374424"})
    assert answer.status_code == 401
    assert answer.json()["code"] == "wecom.bad_signature"


def test_the_public_encrypted_message_passes_the_endpoint_and_stores_no_event(
    client: TestClient, connected: WorkspaceInfo, engine: Engine
) -> None:
    body = (
        f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName>"
        f"<Encrypt><![CDATA[{ENCRYPTED}]]></Encrypt><AgentID><![CDATA[1]]></AgentID></xml>"
    )
    answer = client.post(url(connected), params=DECRYPT, content=body)
    assert answer.status_code == 200, answer.text
    assert answer.text == "success"
    assert stored(engine, connected) == []  # a text message to the app is no group event
    with engine.connect() as conn:
        assert connection_views(conn, connected.id)[0]["last_callback_at"] is not None


def test_the_older_official_vector_set_connects_and_verifies(
    client: TestClient, engine: Engine
) -> None:
    ws = create_workspace(engine)
    connect(engine, ws, NOW, corp=SECOND["corp"], token=SECOND["token"],
            aes_key=SECOND["aes_key"])  # fmt: skip
    from shequn.channels.wecom.crypto import WXBizMsgCrypt

    crypt = WXBizMsgCrypt(SECOND["token"], SECOND["aes_key"], SECOND["corp"])
    echostr = crypt.encrypt(b"1616140317555161061")
    params = {"msg_signature": crypt.sign("1409659589", "263014780", echostr),
              "timestamp": "1409659589", "nonce": "263014780", "echostr": echostr}  # fmt: skip
    answer = client.get(url(ws), params=params)
    assert answer.status_code == 200 and answer.text == "1616140317555161061"


# --- refusals ------------------------------------------------------------------------------

JOIN = chat_xml("update", UpdateDetail="add_member", JoinScene=3, QuitScene=0, MemChangeCnt=1,
                LastMemVer="v1", CurMemVer="v2", members=["wm-alice"])  # fmt: skip


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"token": "wrongtoken"}, 401, "wecom.bad_signature"),
        ({"corp": "ww-someone-else"}, 403, "wecom.wrong_corp"),
        ({"aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"}, 400, "wecom.bad_callback"),
    ],
)
def test_a_callback_that_is_not_genuine_is_refused_and_stores_nothing(
    client: TestClient,
    connected: WorkspaceInfo,
    engine: Engine,
    change: dict[str, str],
    status: int,
    code: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = post(client, connected, JOIN, **change)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert stored(engine, connected) == []
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_a_tampered_signature_or_nonce_is_refused(
    client: TestClient, connected: WorkspaceInfo, engine: Engine
) -> None:
    query, body = callback(JOIN, nonce="n-1")
    other_nonce = query.replace("n-1", "n-2")
    assert client.post(f"{url(connected)}?{other_nonce}", content=body).status_code == 401
    bad = query.replace("msg_signature=", "msg_signature=0")
    assert client.post(f"{url(connected)}?{bad}", content=body).status_code == 401
    assert client.post(url(connected), content=body).status_code == 401  # no signature at all
    assert stored(engine, connected) == []


@pytest.mark.parametrize(
    "body",
    [
        b"not xml at all",
        b"<xml><Encrypt>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>',
        b"<xml><ToUserName>x</ToUserName></xml>",
    ],
)
def test_broken_or_hostile_xml_is_refused(
    client: TestClient, connected: WorkspaceInfo, engine: Engine, body: bytes
) -> None:
    query, _ = callback(JOIN)
    answer = client.post(f"{url(connected)}?{query}", content=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "wecom.bad_callback"
    assert stored(engine, connected) == []


def test_an_oversized_body_is_refused(client: TestClient, connected: WorkspaceInfo) -> None:
    query, _ = callback(JOIN)
    answer = client.post(f"{url(connected)}?{query}", content=b"<xml>" + b"a" * 70_000)
    assert answer.status_code == 413


def test_unknown_or_unconnected_workspaces_answer_the_same_404(
    client: TestClient, workspace: WorkspaceInfo
) -> None:
    for slug in (workspace.slug, "nobody-here"):
        answer = client.get(f"/channels/wecom/{slug}/callback", params=VERIFY)
        assert answer.status_code == 404
        assert answer.json()["code"] == "wecom.not_connected"


def test_callbacks_signed_for_one_workspace_do_not_enter_another(
    client: TestClient, connected: WorkspaceInfo, engine: Engine
) -> None:
    other = create_workspace(engine)
    connect(engine, other, NOW, corp="ww-other", token="othertoken",
            aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")  # fmt: skip
    assert post(client, other, JOIN).status_code in (400, 401, 403)
    assert stored(engine, other) == []
    assert post(client, connected, JOIN).status_code == 200
    assert len(stored(engine, connected)) == 1 and stored(engine, other) == []


# --- the mapping and de-duplication -------------------------------------------------------


def test_the_same_callback_three_times_is_one_event(
    client: TestClient, connected: WorkspaceInfo, engine: Engine
) -> None:
    for nonce in ("a", "b", "c"):  # each redelivery is encrypted and signed afresh
        assert post(client, connected, JOIN, nonce=nonce).status_code == 200
    events = stored(engine, connected)
    assert [(e["type"], e["group"], e["member"]) for e in events] == [
        ("member.joined", "wr-chat-1", "wm-alice")
    ]
    assert events[0]["data"]["scene"] == "qr"
    assert events[0]["id"].startswith("wecom-")


def test_two_distinct_changes_of_the_same_kind_are_two_events(
    client: TestClient, connected: WorkspaceInfo, engine: Engine
) -> None:
    again = chat_xml("update", UpdateDetail="add_member", JoinScene=3, LastMemVer="v3",
                     CurMemVer="v4", created=1733030100, members=["wm-alice"])  # fmt: skip
    leave = chat_xml("update", UpdateDetail="del_member", QuitScene=0, LastMemVer="v2",
                     CurMemVer="v3", created=1733030050, members=["wm-alice"])  # fmt: skip
    for xml in (JOIN, leave, again):
        assert post(client, connected, xml).status_code == 200
    assert [e["type"] for e in stored(engine, connected)] == [
        "member.joined",
        "member.left",
        "member.joined",
    ]
    with engine.connect() as conn:
        assert channel_members_now(conn, connected.id, "wecom") == {"wr-chat-1": {"wm-alice": ""}}


def test_every_chat_and_contact_change_maps_to_its_event(
    client: TestClient, connected: WorkspaceInfo, engine: Engine
) -> None:
    xmls = [
        chat_xml("create", created=1733029000),
        chat_xml("update", UpdateDetail="add_member", JoinScene=0, CurMemVer="a",
                 members=["wm-bob", "staff-zhang"]),
        chat_xml("update", UpdateDetail="del_member", QuitScene=1, CurMemVer="b",
                 created=1733030001, members=["wm-bob"]),
        chat_xml("update", UpdateDetail="change_name", created=1733030002),
        chat_xml("update", UpdateDetail="change_notice", created=1733030003),
        chat_xml("update", UpdateDetail="change_owner", created=1733030004),
        chat_xml("dismiss", created=1733030005),
        contact_xml("add_external_contact", "staff-zhang", "wm-carol", State="lc-spring",
                    WelcomeCode="WELCOME-1"),
        contact_xml("del_external_contact", "staff-zhang", "wm-carol", created=1733030006),
        contact_xml("del_follow_user", "staff-li", "wm-dave", created=1733030007),
        contact_xml("edit_external_contact", "staff-li", "wm-dave", created=1733030008),
        chat_xml("update", UpdateDetail="add_member", JoinScene=1, CurMemVer="c",
                 created=1733030009),  # an old callback without MemChangeList: sync tells
    ]  # fmt: skip
    for xml in xmls:
        assert post(client, connected, xml).status_code == 200
    got = [(e["type"], e["group"], e["member"], e["data"]) for e in stored(engine, connected)]
    assert got == [
        ("group.created", "wr-chat-1", None, {"name": ""}),
        ("member.joined", "wr-chat-1", "wm-bob", {"nickname": "", "scene": "invite"}),
        ("member.joined", "wr-chat-1", "staff-zhang", {"nickname": "", "scene": "invite"}),
        ("member.left", "wr-chat-1", "wm-bob", {"reason": "removed"}),
        ("group.updated", "wr-chat-1", None, {}),
        ("group.updated", "wr-chat-1", None, {}),
        ("group.updated", "wr-chat-1", None, {}),
        ("group.dismissed", "wr-chat-1", None, {}),
        ("contact.added", None, "wm-carol",
         {"staff": "staff-zhang", "state": "lc-spring", "welcome_code": "WELCOME-1"}),
        ("contact.removed", None, "wm-carol", {"staff": "staff-zhang", "by": "staff"}),
        ("contact.removed", None, "wm-dave", {"staff": "staff-li", "by": "customer"}),
    ]  # fmt: skip
    assert len({e["id"] for e in stored(engine, connected)}) == len(got)


def test_the_documented_member_join_example_maps(
    client: TestClient, connected: WorkspaceInfo, engine: Engine
) -> None:
    xml = (
        f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]>"
        "</FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[wrx7HUARsKwGRaQBVKPBTc"
        "EyzdHA4HrQ]]></ChatId><ChangeType><![CDATA[update]]></ChangeType><UpdateDetail>"
        "<![CDATA[add_member]]></UpdateDetail><JoinScene>1</JoinScene><QuitScene>0</QuitScene>"
        "<MemChangeCnt>10</MemChangeCnt><MemChangeList><Item>Jack</Item><Item>Rose</Item>"
        "</MemChangeList><LastMemVer>9c3f97c2ada667dfb5f6d03308d963e1</LastMemVer><CurMemVer>"
        "71217227bbd112ecfe3a49c482195cb4</CurMemVer></xml>"
    )
    assert post(client, connected, xml).status_code == 200
    events = stored(engine, connected)
    assert [(e["member"], e["data"]["scene"], e["at"]) for e in events] == [
        ("Jack", "link", "2014-06-24T11:48:33Z"),
        ("Rose", "link", "2014-06-24T11:48:33Z"),
    ]


def test_the_pad_value_is_checked(connected: WorkspaceInfo) -> None:
    import base64

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from shequn.channels.wecom.crypto import CallbackRejected, WXBizMsgCrypt

    crypt = WXBizMsgCrypt(TOKEN, AES_KEY, CORP)
    key = crypt.key
    for pad in (0, 33):  # a pad value outside 1..32, in an otherwise well-formed block
        plain = b"0123456789abcdef" + b"\x00\x00\x00\x01x" + CORP.encode()
        plain += b"\x00" * (-(len(plain) + 1) % 32) + bytes([pad])
        enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        data = base64.b64encode(enc.update(plain) + enc.finalize()).decode()
        with pytest.raises(CallbackRejected, match="padding"):
            crypt.decrypt(data)
