"""Engagement: welcome, check-in, points and the rest of the community robot."""

from shequn.platform.domain import Command, Domain

DOMAIN = Domain(
    name="engagement",
    models=("shequn.engagement.models", "shequn.engagement.robot_models"),
    rules=(
        "shequn.engagement.rules",
        "shequn.engagement.housekeeping",
        "shequn.engagement.threshold",
        "shequn.engagement.sop",
        "shequn.engagement.activities",
        "shequn.engagement.health",
        "shequn.engagement.kol",
        "shequn.engagement.elimination",
        "shequn.engagement.flash",
    ),
    exports=(
        "shequn.engagement.exports",
        "shequn.engagement.sop",
        "shequn.engagement.activities",
        "shequn.engagement.health",
        "shequn.engagement.kol",
        "shequn.engagement.elimination",
        "shequn.engagement.flash",
    ),
    references=("shequn.engagement.segments:check_segments_exist",),
    api=("shequn.engagement.api:router",),
    cli=(
        Command(
            "points",
            "Points 积分: leaderboards and redemptions.",
            ("shequn.engagement.cli:points_app",),
        ),
    ),
)
