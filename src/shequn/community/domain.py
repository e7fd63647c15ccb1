"""Community: workspaces, groups, members, memberships and API tokens."""

from shequn.platform.domain import Domain

DOMAIN = Domain(
    name="community",
    models=("shequn.community.models",),
    api=("shequn.community.api:router",),
)
