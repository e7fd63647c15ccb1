"""The engine's own tables (the log, the outbox, jobs) and its API (events, exports)."""

from shequn.platform.domain import Domain

DOMAIN = Domain(
    name="engine",
    models=("shequn.engine.models",),
    api=("shequn.engine.api:router",),
)
