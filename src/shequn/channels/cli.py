"""`shequn channel …`: the chat platforms 聊天平台 (sandbox, WeCom, Telegram) a workspace
talks through. `channel` means a chat platform only; acquisition sources 来源渠道 are
`shequn source …`. The chat platforms' own commands (connect, status, disconnect) join this
group; until then it holds the old `channel list` / `channel set`, deprecated, for one release.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer

from shequn.cli_support import say
from shequn.growth.cli import source_list, source_set

channel_app = typer.Typer(
    help="Chat platforms 聊天平台 (sandbox, WeCom, Telegram).", no_args_is_help=True
)


def _renamed(command: Callable[..., None], name: str) -> Callable[..., None]:
    """`command` of `shequn source`, first telling on stderr that `shequn channel NAME` is
    now `shequn source NAME` (the options stay the same)."""

    @functools.wraps(command)
    def alias(*args: Any, **kwargs: Any) -> None:
        sys.stderr.write(say("cli.renamed_command", old=f"channel {name}", new=f"source {name}"))
        sys.stderr.write("\n")
        command(*args, **kwargs)

    return alias


# Not click's `deprecated=True`: its notice is a second line, in English only.
channel_app.command("list", help="(已弃用 deprecated) Use `shequn source list` (来源渠道).")(
    _renamed(source_list, "list")
)
channel_app.command("set", help="(已弃用 deprecated) Use `shequn source set KEY` (来源渠道).")(
    _renamed(source_set, "set")
)
