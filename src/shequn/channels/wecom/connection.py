"""A workspace's WeCom self-built app: what `channel connect wecom` stores, checked first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Connection

from shequn.channels.connections.keyring import Keyring
from shequn.channels.connections.service import ChannelConnection, do_connect, load_connection
from shequn.channels.wecom.crypto import CallbackRejected, aes_key_of
from shequn.channels.wecom.texts import say
from shequn.platform.errors import Invalid

CHANNEL = "wecom"
DEFAULT_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"
_TOKEN = re.compile(r"^[A-Za-z0-9]{1,32}$")


@dataclass(frozen=True, slots=True)
class WecomApp:
    corp_id: str
    agent_id: int
    api_base: str
    token: str
    aes_key: str
    secret: str

    def __repr__(self) -> str:  # the secrets stay out of logs and tracebacks
        return f"WecomApp(corp_id={self.corp_id!r}, agent_id={self.agent_id})"


def _bad(reason: str) -> Invalid:
    return Invalid(say, "wecom.bad_setting", reason=reason)


def check_app(
    corp_id: str, agent_id: int, token: str, aes_key: str, secret: str, api_base: str | None
) -> WecomApp:
    """The app's settings, or a one-line reason why they cannot be right."""
    corp_id, token, aes_key, secret = (v.strip() for v in (corp_id, token, aes_key, secret))
    if not corp_id or len(corp_id) > 64:
        raise _bad("corp id: 1..64 characters")
    if agent_id < 0:
        raise _bad("agent id: a number ≥ 0")
    if not _TOKEN.match(token):
        raise _bad("token: 1..32 letters and digits")
    try:
        aes_key_of(aes_key)
    except CallbackRejected as exc:
        raise _bad(f"EncodingAESKey: {exc}") from None
    if not secret or len(secret) > 256:
        raise _bad("secret: 1..256 characters")
    base = api_base or DEFAULT_API_BASE
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _bad("api base: an http(s) URL")
    return WecomApp(corp_id, agent_id, base.rstrip("/") + "/", token, aes_key, secret)


def store_app(
    conn: Connection, workspace_id: int, app: WecomApp, *, keys: Keyring, now: datetime
) -> None:
    do_connect(
        conn,
        workspace_id,
        CHANNEL,
        {"corp_id": app.corp_id, "agent_id": app.agent_id, "api_base": app.api_base},
        {"token": app.token, "aes_key": app.aes_key, "secret": app.secret},
        keys=keys,
        now=now,
    )


def app_of(connection: ChannelConnection) -> WecomApp:
    s, k = connection.settings, connection.secrets
    return WecomApp(
        s["corp_id"], int(s["agent_id"]), s["api_base"], k["token"], k["aes_key"], k["secret"]
    )


def load_app(conn: Connection, workspace_id: int, keys: Keyring) -> WecomApp:
    return app_of(load_connection(conn, workspace_id, CHANNEL, keys))
