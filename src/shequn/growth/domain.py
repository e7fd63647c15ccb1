"""Growth and fission: sources, live codes, posters, campaigns, referrals and rewards."""

from shequn.platform.domain import Command, Domain

DOMAIN = Domain(
    name="growth",
    models=("shequn.growth.models",),
    rules=("shequn.growth.rules",),
    exports=("shequn.growth.exports",),
    references=("shequn.growth.references:check_campaign_references",),
    api=("shequn.growth.api:router", "shequn.growth.api:public"),
    cli=(
        Command(
            "campaign", "Campaigns and their fission models.", ("shequn.growth.cli:campaign_app",)
        ),
        Command("livecode", "Live codes 活码.", ("shequn.growth.cli:livecode_app",)),
        Command(
            "source",
            "Acquisition sources 来源渠道 (store QR, ads, KOL …) with their cost and ROI.",
            ("shequn.growth.cli:source_app",),
        ),
        Command("reward", "The reward ledger and staff review.", ("shequn.growth.cli:reward_app",)),
        # The old `shequn channel list|set` join the chat platforms' `channel` group.
        Command("channel", "", ("shequn.growth.cli:channel_aliases",)),
        # `shequn report campaign` joins analytics' `report` group (no help of its own).
        Command("report", "", ("shequn.growth.cli:report_app",)),
    ),
)
