"""The sandbox channel: groups kept in Shequn, where every capability works."""

from shequn.platform.domain import Domain

DOMAIN = Domain(
    name="sandbox",
    models=("shequn.channels.sandbox.models",),
    channels=("shequn.channels.sandbox.adapter:SandboxChannel",),
    api=("shequn.channels.sandbox.api:router",),
)
