"""The schema revision of an embedded SQLite file and the newest one the package ships, both
read without Alembic: most commands start on a current file and need nothing more."""

from __future__ import annotations

import sqlite3
from pathlib import Path

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def newest_revision() -> str:
    """The head revision. Revisions are numbered like their files (`0010_….py` is revision
    "0010", down from "0009"); tests/test_migrations.py checks that this is Alembic's head."""
    return max(path.name[:4] for path in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


def sqlite_revision(path: Path) -> str | None:
    """The revision a SQLite file is at; None for no file or no schema yet."""
    if not path.exists():
        return None
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None  # no schema yet
    finally:
        conn.close()
    return None if row is None else str(row[0])
