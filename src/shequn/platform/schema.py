"""Imports every table module so the metadata is complete (migrations, checks)."""

from __future__ import annotations

from sqlalchemy import MetaData


def all_tables() -> MetaData:
    from shequn.channels.sandbox import models as _sandbox  # noqa: F401
    from shequn.commerce import models as _commerce  # noqa: F401
    from shequn.community import models as _community  # noqa: F401
    from shequn.crm import models as _crm  # noqa: F401
    from shequn.engagement import models as _engagement  # noqa: F401
    from shequn.engagement import robot_models as _robot  # noqa: F401
    from shequn.engine import models as _engine  # noqa: F401
    from shequn.growth import models as _growth  # noqa: F401
    from shequn.moderation import models as _moderation  # noqa: F401
    from shequn.platform.db import metadata

    return metadata
