"""A workspace's connection to a chat platform: store, read, check and forget it.

Secrets go in sealed (keyring.py) and come out only to the code that calls the platform
(`load_connection`); every view meant for people (`connection_views`) leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from shequn.channels.connections.keyring import Keyring, SecretKeyError
from shequn.channels.connections.models import channel_connections
from shequn.channels.connections.texts import say
from shequn.platform.errors import Invalid, NotFound

MAX_ERRORS = 10
"""How many recent failures a connection keeps for `channel status`."""


def _bound(workspace_id: int, channel: str, what: str = "secrets") -> str:
    return f"{workspace_id}|{channel}|{what}"


@dataclass(frozen=True, slots=True)
class ChannelConnection:
    """A connection with its secrets opened: for the code that calls the platform only."""

    workspace_id: int
    channel: str
    settings: dict[str, Any]
    secrets: dict[str, str]
    last_callback_at: datetime | None = None

    def __repr__(self) -> str:  # never print the secrets by accident
        return f"ChannelConnection({self.workspace_id}, {self.channel!r}, {self.settings!r})"


def _open(keys: Keyring, sealed: str, bound: str) -> bytes:
    try:
        return keys.open(sealed, bound)
    except SecretKeyError as exc:
        raise Invalid(say, "channels.bad_secret_key", reason=str(exc)) from None


def do_connect(
    conn: Connection,
    workspace_id: int,
    channel: str,
    settings: dict[str, Any],
    secrets: dict[str, str],
    *,
    keys: Keyring,
    now: datetime,
) -> None:
    """Store (or replace) the connection. New credentials forget the cached access token,
    the last check and the errors of the old ones."""
    sealed = keys.seal(orjson.dumps(secrets), _bound(workspace_id, channel))
    t = channel_connections
    values = {
        "settings": settings,
        "secrets": sealed,
        "updated_at": now,
        "access_token": None,
        "access_token_expires_at": None,
        "last_check_at": None,
        "last_check_ok": None,
        "errors": [],
    }
    found = conn.execute(
        update(t).where(t.c.workspace_id == workspace_id, t.c.channel == channel).values(values)
    )
    if found.rowcount == 0:
        conn.execute(
            insert(t).values(workspace_id=workspace_id, channel=channel, connected_at=now, **values)
        )


def do_disconnect(conn: Connection, workspace_id: int, channel: str) -> None:
    t = channel_connections
    gone = conn.execute(delete(t).where(t.c.workspace_id == workspace_id, t.c.channel == channel))
    if gone.rowcount == 0:
        raise NotFound(say, "channels.not_connected", channel=channel)


def load_connection(
    conn: Connection, workspace_id: int, channel: str, keys: Keyring
) -> ChannelConnection:
    t = channel_connections
    row = conn.execute(
        select(t.c.settings, t.c.secrets, t.c.last_callback_at).where(
            t.c.workspace_id == workspace_id, t.c.channel == channel
        )
    ).first()
    if row is None:
        raise NotFound(say, "channels.not_connected", channel=channel)
    secrets = orjson.loads(_open(keys, row.secrets, _bound(workspace_id, channel)))
    return ChannelConnection(
        workspace_id, channel, dict(row.settings), secrets, row.last_callback_at
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def connection_views(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    """Every connection of the workspace as people may see it: no secret, no token."""
    t = channel_connections
    rows = conn.execute(
        select(
            t.c.channel,
            t.c.settings,
            t.c.connected_at,
            t.c.updated_at,
            t.c.last_check_at,
            t.c.last_check_ok,
            t.c.last_callback_at,
            t.c.last_sync_at,
            t.c.last_sync,
            t.c.errors,
        )
        .where(t.c.workspace_id == workspace_id)
        .order_by(t.c.channel)
    ).mappings()
    return [
        {
            "channel": r["channel"],
            "settings": dict(r["settings"]),
            "connected_at": _iso(r["connected_at"]),
            "updated_at": _iso(r["updated_at"]),
            "reachable": r["last_check_ok"],
            "last_check_at": _iso(r["last_check_at"]),
            "last_callback_at": _iso(r["last_callback_at"]),
            "last_sync_at": _iso(r["last_sync_at"]),
            "last_sync": r["last_sync"],
            "errors": list(r["errors"]),
        }
        for r in rows
    ]


def _append_error(
    conn: Connection, workspace_id: int, channel: str, error: dict[str, Any]
) -> list[dict[str, Any]]:
    t = channel_connections
    row = conn.execute(
        select(t.c.errors).where(t.c.workspace_id == workspace_id, t.c.channel == channel)
    ).first()
    kept = list(row.errors) if row is not None else []
    return [*kept, error][-MAX_ERRORS:]


def record_error(
    conn: Connection,
    workspace_id: int,
    channel: str,
    *,
    at: datetime,
    what: str,
    message: str,
    code: int | str | None = None,
) -> None:
    """Remember a failure for `channel status` (the last MAX_ERRORS)."""
    error = {"at": at.isoformat(), "what": what, "code": code, "message": message[:300]}
    t = channel_connections
    conn.execute(
        update(t)
        .where(t.c.workspace_id == workspace_id, t.c.channel == channel)
        .values(errors=_append_error(conn, workspace_id, channel, error))
    )


def record_check(
    conn: Connection, workspace_id: int, channel: str, *, at: datetime, ok: bool
) -> None:
    t = channel_connections
    conn.execute(
        update(t)
        .where(t.c.workspace_id == workspace_id, t.c.channel == channel)
        .values(last_check_at=at, last_check_ok=ok)
    )


CALLBACK_STAMP_EVERY = timedelta(minutes=1)
"""`last_callback_at` is kept to the minute: one write a minute, not one per callback."""


def callback_stamp_due(last: datetime | None, at: datetime) -> bool:
    return last is None or not last <= at < last + CALLBACK_STAMP_EVERY


def record_callback(conn: Connection, workspace_id: int, channel: str, *, at: datetime) -> None:
    t = channel_connections
    conn.execute(
        update(t)
        .where(t.c.workspace_id == workspace_id, t.c.channel == channel)
        .values(last_callback_at=at)
    )


def record_sync(
    conn: Connection, workspace_id: int, channel: str, *, at: datetime, counts: dict[str, int]
) -> None:
    t = channel_connections
    conn.execute(
        update(t)
        .where(t.c.workspace_id == workspace_id, t.c.channel == channel)
        .values(last_sync_at=at, last_sync=counts)
    )


def lock_connection(conn: Connection, workspace_id: int, channel: str) -> None:
    """Hold the connection's row until the transaction ends (one token refresher at a time;
    SQLite serialises writers anyway)."""
    t = channel_connections
    conn.execute(
        select(t.c.id)
        .where(t.c.workspace_id == workspace_id, t.c.channel == channel)
        .with_for_update()
    )


def cached_token(
    conn: Connection, workspace_id: int, channel: str, keys: Keyring, *, now: datetime
) -> str | None:
    """The platform's access token while it is still good, shared by every process."""
    t = channel_connections
    row = conn.execute(
        select(t.c.access_token, t.c.access_token_expires_at).where(
            t.c.workspace_id == workspace_id, t.c.channel == channel
        )
    ).first()
    if row is None or row.access_token is None or row.access_token_expires_at is None:
        return None
    if row.access_token_expires_at <= now:
        return None
    try:
        return keys.open(row.access_token, _bound(workspace_id, channel, "token")).decode()
    except SecretKeyError:
        return None  # sealed with a key since dropped: fetch a new one


def store_token(
    conn: Connection,
    workspace_id: int,
    channel: str,
    keys: Keyring,
    token: str | None,
    expires_at: datetime | None,
) -> None:
    """Keep (or, with None, forget) the access token."""
    sealed = (
        None if token is None else keys.seal(token.encode(), _bound(workspace_id, channel, "token"))
    )
    t = channel_connections
    conn.execute(
        update(t)
        .where(t.c.workspace_id == workspace_id, t.c.channel == channel)
        .values(access_token=sealed, access_token_expires_at=expires_at)
    )


@dataclass(frozen=True, slots=True)
class Rotation:
    resealed: int
    """Connections re-sealed with the first key."""
    unreadable: list[tuple[int, str]]
    """(workspace id, channel) of connections no configured key opens: reconnect them."""


def do_rotate(conn: Connection, keys: Keyring) -> Rotation:
    """Re-seal every connection's secrets with the first key (a cached token sealed with
    another is dropped: it is cheap to fetch again). Rows already sealed with it are left
    alone, so a rotation stopped half-way is finished by running it again; a row no key
    opens is reported, not fatal."""
    t = channel_connections
    rows = conn.execute(
        select(t.c.id, t.c.workspace_id, t.c.channel, t.c.secrets, t.c.access_token)
    ).all()
    resealed = 0
    unreadable: list[tuple[int, str]] = []
    for row in rows:
        values: dict[str, Any] = {}
        if not keys.sealed_with_primary(row.secrets):
            bound = _bound(row.workspace_id, row.channel)
            try:
                values["secrets"] = keys.seal(keys.open(row.secrets, bound), bound)
            except SecretKeyError:
                unreadable.append((row.workspace_id, row.channel))
                continue
        if row.access_token is not None and not keys.sealed_with_primary(row.access_token):
            values["access_token"] = None
            values["access_token_expires_at"] = None
        if values:
            conn.execute(update(t).where(t.c.id == row.id).values(values))
            resealed += 1
    return Rotation(resealed, unreadable)
