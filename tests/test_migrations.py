"""The migrations build the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from shequn.domains import all_tables
from shequn.platform.db import make_engine
from shequn.platform.migrate import alembic_config, check
from shequn.platform.revision import VERSIONS, newest_revision
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


def test_the_newest_revision_without_alembic_is_alembics_head() -> None:
    """Commands tell a current SQLite file from its revision and the file names alone
    (platform/revision.py): revisions are numbered like their files, each down from the one
    before."""
    scripts = ScriptDirectory.from_config(alembic_config(Settings()))
    assert newest_revision() == scripts.get_current_head()
    files = sorted(path.name[:4] for path in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    numbered = [(s.revision, s.down_revision) for s in scripts.walk_revisions()][::-1]
    assert numbered == [(n, files[i - 1] if i else None) for i, n in enumerate(files)]
