"""The WeCom channel's operations, shared by the command line and the API: connect (store,
then check the API), sync; each remembers its outcome for `channel status`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from shequn.channels.base import ChannelError
from shequn.channels.connections.keyring import Keyring
from shequn.channels.connections.service import record_check, record_error, record_sync
from shequn.channels.wecom.client import BACKOFF_SECONDS, WecomBusy, WecomClient, WecomError
from shequn.channels.wecom.connection import CHANNEL, WecomApp, load_app, store_app
from shequn.channels.wecom.sync import SyncReport, do_sync
from shequn.community.workspace import WorkspaceInfo
from shequn.platform.db import transaction


@dataclass(frozen=True, slots=True)
class Checked:
    reachable: bool
    reason: str | None = None


def _code(exc: ChannelError) -> int | None:
    return exc.errcode if isinstance(exc, WecomError | WecomBusy) else None


def client_for(
    engine: Engine,
    ws: WorkspaceInfo,
    keys: Keyring,
    *,
    now: Callable[[], datetime],
    app: WecomApp | None = None,
    sleep: Callable[[float], None] = time.sleep,
    backoff: tuple[float, ...] | None = None,
) -> WecomClient:
    if app is None:
        with engine.connect() as conn:
            app = load_app(conn, ws.id, keys)
    return WecomClient(
        engine, ws.id, app, keys, now=now, sleep=sleep,
        backoff=BACKOFF_SECONDS if backoff is None else backoff,
    )  # fmt: skip


def check_api(client: WecomClient, ws: WorkspaceInfo, *, now: datetime) -> Checked:
    """Fetch a fresh access token: the corp id and secret are right and WeCom is reachable."""
    try:
        client.token(renew=True)
    except ChannelError as exc:
        with transaction(client.engine) as conn:
            record_check(conn, ws.id, CHANNEL, at=now, ok=False)
            record_error(conn, ws.id, CHANNEL, at=now, what="check", code=_code(exc),
                         message=str(exc))  # fmt: skip
        return Checked(False, str(exc))
    with transaction(client.engine) as conn:
        record_check(conn, ws.id, CHANNEL, at=now, ok=True)
    return Checked(True)


def do_connect_wecom(
    engine: Engine,
    ws: WorkspaceInfo,
    app: WecomApp,
    *,
    keys: Keyring,
    now: datetime,
    backoff: tuple[float, ...] = (),
) -> Checked:
    """Store the app's credentials, then check them against the API. They stay stored when
    WeCom cannot be reached now: the answer and `channel status` say so."""
    with transaction(engine) as conn:
        store_app(conn, ws.id, app, keys=keys, now=now)
    with client_for(engine, ws, keys, now=lambda: now, app=app, backoff=backoff) as client:
        return check_api(client, ws, now=now)


def do_sync_wecom(
    engine: Engine,
    ws: WorkspaceInfo,
    *,
    keys: Keyring,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    backoff: tuple[float, ...] | None = None,
) -> SyncReport:
    """Fetch every customer group and member and ingest what changed; a failure is
    remembered for `channel status` and raised."""
    with client_for(engine, ws, keys, now=lambda: now, sleep=sleep, backoff=backoff) as client:
        try:
            report = do_sync(engine, ws, client, now=now)
        except ChannelError as exc:
            with transaction(engine) as conn:
                record_error(conn, ws.id, CHANNEL, at=now, what="sync", code=_code(exc),
                             message=str(exc))  # fmt: skip
            raise
    with transaction(engine) as conn:
        record_sync(conn, ws.id, CHANNEL, at=now, counts=report.public())
    return report
