"""What every `shequn` sub-command shares: the --workspace option, and running a service
operation inside one workspace with the command line's error handling.

Domain command modules import this, never `shequn.cli` at import time (that module mounts
them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from sqlalchemy import Connection

from shequn.engine.rules import WorkspaceInfo
from shequn.settings import get_settings

T = TypeVar("T")

WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="SHEQUN_WORKSPACE",
        help="Workspace name (default: the only workspace, if there is just one).",
    ),
]


def now() -> datetime:
    """What "now" is for a command: SHEQUN_NOW when set, else the wall clock."""
    return get_settings().clock().now()


def in_workspace(
    workspace: str | None, fn: Callable[[Connection, WorkspaceInfo], T], write: bool = False
) -> T:
    """fn(conn, ws) in the named workspace: in one transaction when it writes; bad input
    ends the command with a one-line reason."""
    from shequn.cli import _engine, _workspace, guarded
    from shequn.platform.db import transaction

    engine = _engine()

    def call() -> T:
        ws = _workspace(engine, workspace)
        if write:
            with transaction(engine) as conn:
                return fn(conn, ws)
        with engine.connect() as conn:
            return fn(conn, ws)

    return guarded(call)
