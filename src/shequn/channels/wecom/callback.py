"""One WeCom callback, from its raw request to Shequn's events; nothing here stores.

Order matters: the body is bounded by the caller; the envelope is parsed (defusedxml) only
to find the ciphertext; the signature is checked over it before anything is decrypted; the
plaintext's receiveid must be the workspace's corp id; only then is the message read.
Old timestamps are accepted: a replay de-duplicates, and WeCom's own vectors date from 2016.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from shequn.channels.wecom.connection import WecomApp
from shequn.channels.wecom.crypto import CallbackRejected, Rejection, WXBizMsgCrypt
from shequn.channels.wecom.inbound import MalformedXml, Mapped, fields_of, map_callback, parse_xml

MAX_CALLBACK_BYTES = 64 * 1024
"""A callback is a few hundred bytes; anything this large is not WeCom."""

_PARAMS = ("msg_signature", "timestamp", "nonce")


def _params(query: Mapping[str, str], *extra: str) -> list[str]:
    values = []
    for name in (*_PARAMS, *extra):
        value = query.get(name)
        if not value or len(value) > 4096:
            raise CallbackRejected(Rejection.SIGNATURE, f"missing {name}")
        values.append(value)
    return values


def verify_url(app: WecomApp, query: Mapping[str, str]) -> str:
    """The answer to WeCom's URL verification: the decrypted echostr, alone."""
    signature, timestamp, nonce, echostr = _params(query, "echostr")
    crypt = WXBizMsgCrypt(app.token, app.aes_key, app.corp_id)
    crypt.verify(signature, timestamp, nonce, echostr)
    try:
        return crypt.decrypt(echostr).decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackRejected(Rejection.DECRYPT, "echostr is not text") from None


def read_callback(
    app: WecomApp, query: Mapping[str, str], body: bytes, received_at: datetime
) -> Mapped:
    """The events of one POSTed callback; CallbackRejected when it is not genuine."""
    signature, timestamp, nonce = _params(query)
    try:
        envelope = fields_of(parse_xml(body))
    except MalformedXml as exc:
        raise CallbackRejected(Rejection.XML, str(exc)) from None
    encrypted = envelope.get("Encrypt", "")
    if not encrypted:
        raise CallbackRejected(Rejection.XML, "no Encrypt element")
    crypt = WXBizMsgCrypt(app.token, app.aes_key, app.corp_id)
    crypt.verify(signature, timestamp, nonce, encrypted)
    message = crypt.decrypt(encrypted)
    try:
        return map_callback(message, received_at)
    except MalformedXml as exc:
        raise CallbackRejected(Rejection.XML, str(exc)) from None
