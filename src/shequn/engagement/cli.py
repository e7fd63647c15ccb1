"""`shequn points …`: leaderboards and spending points."""

from __future__ import annotations

import sys
from typing import Annotated, Any, cast, get_args

import orjson
import typer
from rich.table import Table
from sqlalchemy import Connection

from shequn.cli_support import UserError, WorkspaceOpt, in_workspace, now, out
from shequn.community.workspace import WorkspaceInfo

points_app = typer.Typer(help="Points 积分: leaderboards and redemptions.", no_args_is_help=True)


@points_app.command("leaderboard")
def show_leaderboard(
    workspace: WorkspaceOpt = None,
    by: Annotated[str, typer.Option(help="points, earned, checkins or streak.")] = "points",
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    json_: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """The top members (排行榜)."""
    from shequn.engagement.service import Board, leaderboard

    def board(conn: Connection, ws: WorkspaceInfo) -> list[dict[str, Any]]:
        if by not in get_args(Board):
            raise UserError(f"unknown board {by!r}; use points, earned, checkins or streak")
        return leaderboard(conn, ws, cast(Board, by), limit)

    rows = in_workspace(workspace, board)
    if json_:
        for row in rows:
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
        return
    table = Table(title=f"leaderboard: {by}")
    for column in ("rank", "member", "level", "points", "earned", "checkins", "streak"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("rank", "member", "level", "points", "earned",
                                               "checkins", "streak")))  # fmt: skip
    out.print(table)


@points_app.command("spend")
def spend(
    member: Annotated[str, typer.Argument(help="The member's channel id.")],
    amount: Annotated[int, typer.Argument(min=1, help="Points to spend.")],
    reason: Annotated[str, typer.Option(help="What they were spent on.")],
    key: Annotated[str, typer.Option(help="Idempotency key: the same key spends once.")],
    workspace: WorkspaceOpt = None,
    channel: Annotated[str, typer.Option(help="The member's chat platform.")] = "sandbox",
) -> None:
    """Spend a member's points (积分兑换); never below zero unless the workspace allows."""
    from shequn.engagement.service import do_spend_points

    result = in_workspace(
        workspace,
        lambda conn, ws: do_spend_points(
            conn,
            ws,
            channel=channel,
            member=member,
            amount=amount,
            reason=reason,
            key=key,
            now=now(),
        ),
        write=True,
    )
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
