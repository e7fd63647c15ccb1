"""Community: workspaces, groups, members, memberships, API tokens and console accounts."""

from shequn.platform.domain import Domain

DOMAIN = Domain(
    name="community",
    models=("shequn.community.models",),
    api=(
        "shequn.community.api:router",
        "shequn.community.accounts_api:router",
        "shequn.community.accounts_api:people",
    ),
)
