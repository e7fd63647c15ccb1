"""Moderation 群风控."""

from shequn.platform.domain import Command, Domain

DOMAIN = Domain(
    name="moderation",
    models=("shequn.moderation.models",),
    rules=("shequn.moderation.rules",),
    exports=("shequn.moderation.exports",),
    api=("shequn.moderation.api:router",),
    cli=(
        Command(
            "moderation",
            "Moderation 群风控: violations, ban list, spam samples, word lists.",
            ("shequn.moderation.cli:moderation_app",),
        ),
    ),
)
