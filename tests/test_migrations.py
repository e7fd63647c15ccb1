"""The migrations build the schema the models describe, on every backend."""

from __future__ import annotations

from sqlalchemy import inspect

from shequn.platform.db import make_engine
from shequn.platform.migrate import check
from shequn.platform.schema import all_tables
from shequn.settings import Settings


def test_models_match_migrations(settings: Settings) -> None:
    check(settings)  # alembic check: raises when autogenerate would find a difference


def test_every_table_exists(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        present = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(all_tables().tables) <= present
