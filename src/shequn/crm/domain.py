"""Member CRM: profiles, custom fields, notes, tags, segments, import and export."""

from shequn.platform.domain import Command, Domain

DOMAIN = Domain(
    name="crm",
    models=("shequn.crm.models",),
    rules=("shequn.crm.rules",),
    exports=("shequn.crm.exports",),
    api=("shequn.crm.api:router",),
    cli=(
        Command(
            "members",
            "Members 客户: profiles, tags, segments, import, export.",
            ("shequn.crm.cli:members_app",),
        ),
    ),
)
