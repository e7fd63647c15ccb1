"""The chat platforms' own commands (`shequn channel …`): connect, status and disconnect
join here with WeCom and Telegram; each platform's adapter is its own package."""

from shequn.platform.domain import Command, Domain

DOMAIN = Domain(
    name="channels",
    cli=(
        Command(
            "channel",
            "Chat platforms 聊天平台 (sandbox, WeCom, Telegram).",
            ("shequn.channels.cli:channel_app",),
        ),
    ),
)
