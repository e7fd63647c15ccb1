"""`shequn channel …`: the chat platforms 聊天平台 (sandbox, WeCom, Telegram) a workspace
talks through. `channel` means a chat platform only; acquisition sources 来源渠道 are
`shequn source …`. The chat platforms' own commands (connect, status, disconnect) join this
group; until then it holds growth's old `channel list` / `channel set`, deprecated, for one
release (joined from `shequn.growth.cli:channel_aliases`).
"""

from __future__ import annotations

import typer

channel_app = typer.Typer(
    help="Chat platforms 聊天平台 (sandbox, WeCom, Telegram).", no_args_is_help=True
)


@channel_app.callback()
def channels() -> None:
    """Chat platforms 聊天平台 (sandbox, WeCom, Telegram)."""
