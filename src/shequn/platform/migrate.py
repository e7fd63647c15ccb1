"""Alembic driven from code: the migrations ship inside the package."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from shequn.platform.revision import sqlite_revision
from shequn.settings import Settings, get_settings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings | None = None) -> Config:
    settings = settings or get_settings()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings | None = None) -> None:
    """Bring the database to the newest schema; safe when several commands start at once."""
    settings = settings or get_settings()
    cfg = alembic_config(settings)
    path = settings.sqlite_path()
    if path is None:
        command.upgrade(cfg, "head")  # migrations/env.py serialises on PostgreSQL
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Every command on the embedded setup migrates on start: one at a time, and not at all
    # when the file is already current (most starts).
    with _locked(path.with_name(path.name + ".migrate.lock")):
        if sqlite_revision(path) != ScriptDirectory.from_config(cfg).get_current_head():
            command.upgrade(cfg, "head")


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def check(settings: Settings | None = None) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(settings))
