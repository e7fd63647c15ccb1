"""What the WeCom tests share: the public WXBizMsgCrypt vectors, a connected workspace, and
callbacks made the way WeCom makes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine

from shequn.channels.connections.keyring import Keyring, new_key
from shequn.channels.wecom.connection import check_app, store_app
from shequn.channels.wecom.crypto import WXBizMsgCrypt
from shequn.community.workspace import WorkspaceInfo
from shequn.platform.db import transaction

# wechatpy tests/test_crypto.py (CHANNELS.md).
TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
CORP = "wx49f0ab532d5d035a"
VERIFY = {
    "msg_signature": "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
    "timestamp": "1411443780",
    "nonce": "437374425",
    "echostr": "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7h"
    "OchLF6p+Q==",
}
ECHO = "5927782489442352469"
DECRYPT = {
    "msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
    "timestamp": "1411525903",
    "nonce": "461056294",
}
ENCRYPTED = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrs"
    "TyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+"
    "BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7"
    "vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dS"
    "hyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)
SECOND = {"token": "QDG6eK", "aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
          "corp": "wx5823bf96d3bd56c7"}  # fmt: skip

KEY = new_key()
KEYS = Keyring.parse(KEY)


def connect(
    engine: Engine,
    ws: WorkspaceInfo,
    now: datetime,
    *,
    corp: str = CORP,
    token: str = TOKEN,
    aes_key: str = AES_KEY,
    secret: str = "app-secret",
    api_base: str | None = "http://127.0.0.1:9/cgi-bin/",
) -> None:
    app = check_app(corp, 1000002, token, aes_key, secret, api_base)
    with transaction(engine) as conn:
        store_app(conn, ws.id, app, keys=KEYS, now=now)


def callback(
    xml: str,
    *,
    token: str = TOKEN,
    aes_key: str = AES_KEY,
    corp: str = CORP,
    timestamp: str = "1733030000",
    nonce: str = "n-1",
) -> tuple[str, bytes]:
    """A callback as WeCom posts it: the query string and the encrypted envelope."""
    crypt = WXBizMsgCrypt(token, aes_key, corp)
    encrypted = crypt.encrypt(xml.encode())
    query = {
        "msg_signature": crypt.sign(timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    body = (
        f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"
    )
    return urlencode(query), body.encode()


def chat_xml(change: str, chat: str = "wr-chat-1", *, created: int = 1733030000,
             **fields: Any) -> str:  # fmt: skip
    """A change_external_chat event; `members` becomes MemChangeList."""
    members = fields.pop("members", None)
    parts = [
        f"<ToUserName><![CDATA[{CORP}]]></ToUserName>",
        "<FromUserName><![CDATA[sys]]></FromUserName>",
        f"<CreateTime>{created}</CreateTime>",
        "<MsgType><![CDATA[event]]></MsgType>",
        "<Event><![CDATA[change_external_chat]]></Event>",
        f"<ChatId><![CDATA[{chat}]]></ChatId>",
        f"<ChangeType><![CDATA[{change}]]></ChangeType>",
    ]
    parts += [f"<{k}>{v}</{k}>" for k, v in fields.items()]
    if members is not None:
        items = "".join(f"<Item>{m}</Item>" for m in members)
        parts.append(f"<MemChangeList>{items}</MemChangeList>")
    return "<xml>" + "".join(parts) + "</xml>"


def contact_xml(change: str, staff: str, customer: str, *, created: int = 1733030000,
                **fields: str) -> str:  # fmt: skip
    extra = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (
        f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]>"
        f"</FromUserName><CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event>"
        f"<ChangeType><![CDATA[{change}]]></ChangeType><UserID><![CDATA[{staff}]]></UserID>"
        f"<ExternalUserID><![CDATA[{customer}]]></ExternalUserID>{extra}</xml>"
    )
