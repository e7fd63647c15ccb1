"""The chat platforms' own commands and routes (`shequn channel …`, `…/channels`): connect,
status, disconnect, sync; each platform's adapter is its own package."""

from shequn.platform.domain import Command, Domain

DOMAIN = Domain(
    name="channels",
    models=("shequn.channels.connections.models",),
    channels=("shequn.channels.wecom.adapter:WecomChannel",),
    api=(
        "shequn.channels.api:router",
        "shequn.channels.wecom.api:router",
        "shequn.channels.wecom.api:callbacks",
    ),
    cli=(
        Command(
            "channel",
            "Chat platforms 聊天平台 (sandbox, WeCom, Telegram).",
            ("shequn.channels.cli:channel_app",),
        ),
    ),
)
