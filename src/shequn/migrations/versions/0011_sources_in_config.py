"""acquisition sources are `analytics.sources` in the workspace configuration (they were
`analytics.channels`): `channel` means a chat platform only

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_workspaces = sa.table("workspaces", sa.column("id", sa.Integer), sa.column("config", sa.JSON))


def _renamed(config: dict[str, Any], old: str, new: str) -> dict[str, Any] | None:
    """The document with `analytics.<old>` as `analytics.<new>`, or None when it has no
    `analytics.<old>`. Entries already under the new key win over old ones of the same name."""
    analytics = config.get("analytics")
    if not isinstance(analytics, dict) or old not in analytics:
        return None
    kept = list(analytics.get(new) or [])
    names = {e.get("name") for e in kept if isinstance(e, dict)}
    moved = [
        e for e in analytics[old] or [] if not isinstance(e, dict) or e.get("name") not in names
    ]
    # The new key takes the old one's place, so the document reads in the same order.
    section = {(new if k == old else k): v for k, v in analytics.items() if k != new}
    section[new] = kept + moved
    return {**config, "analytics": section}


def _rewrite(old: str, new: str) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_workspaces.c.id, _workspaces.c.config)).all()
    for ws_id, config in rows:
        changed = _renamed(dict(config or {}), old, new)
        if changed is not None:
            conn.execute(
                _workspaces.update().where(_workspaces.c.id == ws_id).values(config=changed)
            )


def upgrade() -> None:
    _rewrite("channels", "sources")


def downgrade() -> None:
    _rewrite("sources", "channels")
