"""HTTP routes of the WeCom channel: the callback URL WeCom calls (authenticated by its
signature alone), and connecting and syncing a workspace (bearer token)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from shequn.channels.base import ChannelError
from shequn.channels.connections.keyring import keyring
from shequn.channels.connections.service import (
    ChannelConnection,
    callback_stamp_due,
    connection_views,
    load_connection,
    record_callback,
)
from shequn.channels.wecom.callback import MAX_CALLBACK_BYTES, read_callback, verify_url
from shequn.channels.wecom.connection import CHANNEL, app_of, check_app
from shequn.channels.wecom.crypto import CallbackRejected, Rejection
from shequn.channels.wecom.schemas import ConnectedOut, SyncOut
from shequn.channels.wecom.service import do_connect_wecom, do_sync_wecom
from shequn.channels.wecom.texts import say
from shequn.community.service import access_workspace
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import ingest_batch
from shequn.events import Event
from shequn.platform.db import transaction
from shequn.platform.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from shequn.platform.schemas import file_responses
from shequn.web.auth import EngineDep, Now, Workspace
from shequn.web.body import read_bounded
from shequn.web.problems import problem_responses, workspace_router

log = logging.getLogger(__name__)
T = TypeVar("T")

callbacks = APIRouter(
    tags=["wecom"],
    responses={
        **file_responses("text/plain"),
        **problem_responses(400, 401, 403, 404, 413, 422),
    },
)
router = workspace_router("wecom", "/channels/wecom")


def _refuse(ws: str, exc: CallbackRejected) -> Exception:
    """The domain error of a refused callback, logged with its reason."""
    log.warning("wecom callback for workspace %r refused: %s", ws, exc)
    if exc.reason is Rejection.SIGNATURE:
        return Unauthorized(say, "wecom.bad_signature")
    if exc.reason is Rejection.RECEIVEID:
        return Forbidden(say, "wecom.wrong_corp")
    return BadRequest(say, "wecom.bad_callback", reason=exc.reason.value)


def _app_of(request: Request, ws: str) -> tuple[WorkspaceInfo, ChannelConnection]:
    engine = request.app.state.engine
    keys = keyring(request.app.state.settings)
    with engine.connect() as conn:
        try:
            workspace = access_workspace(conn, ws)
            return workspace, load_connection(conn, workspace.id, CHANNEL, keys)
        except NotFound:
            # One answer for an unknown workspace and an unconnected one.
            raise NotFound(say, "wecom.not_connected") from None


async def _threaded(fn: Callable[[], T]) -> T:
    return await run_in_threadpool(fn)


@callbacks.get(
    "/channels/wecom/{ws}/callback",
    summary="WeCom callback URL verification (echostr)",
    response_class=Response,
)
async def verify_callback(ws: str, request: Request) -> Response:
    """WeCom checks the URL: the decrypted echostr alone is the answer."""
    query = dict(request.query_params)
    _, connection = await _threaded(lambda: _app_of(request, ws))
    try:
        answer = verify_url(app_of(connection), query)
    except CallbackRejected as exc:
        raise _refuse(ws, exc) from None
    return Response(answer, media_type="text/plain")


def _ingest(
    request: Request,
    workspace: WorkspaceInfo,
    connection: ChannelConnection,
    events: list[Event],
    now: datetime,
) -> None:
    """Into the log now, or onto the bus for the workers when there is one; the connection
    remembers the callback (to the minute)."""
    engine = request.app.state.engine
    bus = request.app.state.bus
    stamp = callback_stamp_due(connection.last_callback_at, now)
    if (events and bus is None) or stamp:
        with transaction(engine) as conn:
            if events and bus is None:
                ingest_batch(conn, workspace, events)
            if stamp:
                record_callback(conn, workspace.id, CHANNEL, at=now)
    if events and bus is not None:
        bus.publish(workspace.slug, events)


@callbacks.post(
    "/channels/wecom/{ws}/callback",
    summary="WeCom callback (signed, encrypted events)",
    response_class=Response,
)
async def receive_callback(ws: str, request: Request, now: Now) -> Response:
    """Customer group and contact events. The signature is checked before anything is
    decrypted; the same callback delivered again is one event."""
    body = await read_bounded(request, MAX_CALLBACK_BYTES)
    query = dict(request.query_params)
    workspace, connection = await _threaded(lambda: _app_of(request, ws))
    try:
        mapped = read_callback(app_of(connection), query, body, now)
    except CallbackRejected as exc:
        raise _refuse(ws, exc) from None
    if mapped.invalid:
        log.warning("wecom callback for %r: events refused: %s", ws, "; ".join(mapped.invalid))
    await _threaded(lambda: _ingest(request, workspace, connection, mapped.events, now))
    return Response("success", media_type="text/plain")


class ConnectWecom(BaseModel):
    corp_id: str = Field(min_length=1, max_length=64)
    agent_id: int = Field(ge=0)
    token: str = Field(min_length=1, max_length=32)
    aes_key: str = Field(min_length=43, max_length=43, description="The EncodingAESKey.")
    secret: str = Field(min_length=1, max_length=256, description="The app's secret.")
    api_base: str | None = Field(default=None, max_length=512)


@router.put(
    "", summary="Connect the workspace to a WeCom self-built app", response_model=ConnectedOut
)
async def put_connection(
    body: ConnectWecom, request: Request, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    """Stores the credentials (secrets sealed, never answered), then checks them against the
    API; they stay stored when WeCom cannot be reached, and `reachable` says so."""
    app = check_app(
        body.corp_id, body.agent_id, body.token, body.aes_key, body.secret, body.api_base
    )
    keys = keyring(request.app.state.settings)

    def run() -> dict[str, Any]:
        checked = do_connect_wecom(engine, workspace, app, keys=keys, now=now)
        with engine.connect() as conn:
            view = next(v for v in connection_views(conn, workspace.id) if v["channel"] == CHANNEL)
        return {"connection": view, "reachable": checked.reachable, "reason": checked.reason}

    return await _threaded(run)


@router.post("/sync", summary="Fetch every customer group and reconcile", response_model=SyncOut)
async def post_sync(
    request: Request, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    keys = keyring(request.app.state.settings)

    def run() -> dict[str, Any]:
        try:
            return do_sync_wecom(engine, workspace, keys=keys, now=now, backoff=()).public()
        except ChannelError as exc:
            raise Conflict(say, "wecom.api_failed", reason=str(exc)) from None

    return await _threaded(run)
