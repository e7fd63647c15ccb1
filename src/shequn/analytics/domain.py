"""Analytics over the event log with DuckDB."""

from shequn.platform.domain import Command, Domain

DOMAIN = Domain(
    name="analytics",
    rules=("shequn.analytics.rules",),
    api=("shequn.analytics.api:router",),
    cli=(
        Command(
            "report",
            "Reports 数据报表: funnel, retention, health, ROI, levels, persona, KOL …",
            ("shequn.analytics.cli:report_app",),
        ),
    ),
)
