"""HTTP routes of every chat platform's connection: what is connected, and disconnecting.
Connecting is each platform's own (`PUT …/channels/wecom`)."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from shequn.channels.connections.schemas import ConnectionOut
from shequn.channels.connections.service import connection_views, do_disconnect
from shequn.platform.db import transaction
from shequn.web.auth import EngineDep, Workspace
from shequn.web.problems import workspace_router

router = workspace_router("channels", "/channels")


@router.get(
    "", summary="Connected chat platforms, their health and recent errors",
    response_model=list[ConnectionOut],
)  # fmt: skip
def get_connections(workspace: Workspace, engine: EngineDep) -> list[dict[str, Any]]:
    """Secrets are never part of the answer."""
    with engine.connect() as conn:
        return connection_views(conn, workspace.id)


@router.delete("/{channel}", summary="Disconnect a chat platform", status_code=204)
def delete_connection(channel: str, workspace: Workspace, engine: EngineDep) -> Response:
    """Removes the stored credentials and the cached access token."""
    with transaction(engine) as conn:
        do_disconnect(conn, workspace.id, channel)
    return Response(status_code=204)
