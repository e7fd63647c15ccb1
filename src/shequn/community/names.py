"""Workspace names read from the embedded SQLite file with the standard library alone, for
`shequn workspace list`, which answers before SQLAlchemy could have loaded. The same rows in
the same order as `service.list_workspaces` (tests/cli checks both)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def sqlite_workspace_names(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return [str(row[0]) for row in db.execute("SELECT slug FROM workspaces ORDER BY id")]
