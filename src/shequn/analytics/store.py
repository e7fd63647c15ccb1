"""The kept analytics store: each workspace's event log appended to a DuckDB file, so that a
report reads the store plus the tail of the log not yet appended, instead of the whole log.

One file per workspace and database, `<analytics_dir>/<database key>/ws-<id>.duckdb`, holds
- `ev`: the `ev` schema of `analytics.source`, `mid` filled;
- `members`: the `mid` of each (channel, member), numbered as members first appear;
- `meta`: one row — the watermark (the last `seq` appended), the count of events, the key of
  the last event appended, and the fingerprint of what the rows were computed with.

Appending is one DuckDB transaction per slice of the log that inserts the slice's rows, its
new members and the new watermark together: a crash leaves the store as of the last commit,
and a re-run appends from there, so each event is counted once. That relies on the log's
order: `ingest_batch` appends a workspace's events under `lock_workspace`, so a workspace's
events commit in `seq` order and no event below the watermark can appear later.

The store is rebuilt from the log when it does not match it: another fingerprint (time zone,
check-in keywords, layout), or a database whose event at the watermark is not the one appended
(a restored or replaced database). Every open of a file holds an exclusive lock on
`ws-<id>.lock` (the file's writer and its readers, in any process, take turns: a DuckDB file
has one writer and no readers beside it).
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Engine

from shequn.analytics.source import (
    CHUNK,
    EV_COLUMNS,
    Frame,
    create_ev,
    insert_chunks,
    log_chunks,
    new_connection,
)
from shequn.community.workspace import WorkspaceInfo
from shequn.settings import get_settings

if TYPE_CHECKING:
    import duckdb

LAYOUT = 1
"""Bump when the stored columns or their meaning change: every store is then rebuilt."""

SLICE = 5 * CHUNK
"""Events appended per DuckDB transaction: the most a crash can cost to append again."""


def store_path(engine: Engine | Connection, ws: WorkspaceInfo) -> Path | None:
    """Where this workspace's store lives; None when the store is off (an empty
    `SHEQUN_ANALYTICS_DIR`) or the database lives in memory."""
    directory = get_settings().analytics_dir
    url = engine.engine.url
    if not directory or (
        url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    ):
        return None
    # Several databases may share one directory (tests, staging): each has its own files.
    key = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return Path(directory) / key / f"ws-{ws.id}.duckdb"


def fingerprint(ws: WorkspaceInfo) -> str:
    """What the stored rows depend on besides the log: their layout, the local day's time
    zone and the check-in keywords."""
    return orjson.dumps(
        {"layout": LAYOUT, "tz": ws.tz.key, "checkin": list(ws.config.checkin.keywords)}
    ).decode()


def lock(path: Path) -> Callable[[], None]:
    """Wait for the store's lock; answers its release. flock locks an open file description,
    so two threads of one process take turns too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)

    def release() -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    return release


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _meta(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, Any] | None:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = 'meta'",
        [catalog],
    ).fetchone()
    if not found or not found[0]:
        return None
    cur = con.execute(f'SELECT * FROM "{catalog}".meta')
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description or ()], row, strict=True))


def _matches(conn: Connection, ws: WorkspaceInfo, meta: dict[str, Any] | None) -> bool:
    """Whether the stored rows are this workspace's log, computed as it now asks."""
    if meta is None or meta["workspace_id"] != ws.id or meta["fingerprint"] != fingerprint(ws):
        return False
    if meta["watermark"] == 0:
        return True
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    row = conn.exec_driver_sql(
        f"SELECT channel, ext_id FROM events WHERE seq = {mark} AND workspace_id = {mark}",
        (meta["watermark"], ws.id),
    ).first()
    return row is not None and (row[0], row[1]) == (meta["last_channel"], meta["last_ext_id"])


def _reset(con: duckdb.DuckDBPyConnection, ws: WorkspaceInfo) -> None:
    """An empty store for this workspace (one transaction: a crash keeps the old one)."""
    con.begin()
    for table in ("ev", "members", "meta"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("DROP TYPE IF EXISTS ev_type")
    create_ev(con)
    con.execute("CREATE TABLE members (channel VARCHAR, member VARCHAR, mid BIGINT)")
    con.execute(
        "CREATE TABLE meta (workspace_id BIGINT, fingerprint VARCHAR, watermark BIGINT,"
        " events BIGINT, last_channel VARCHAR, last_ext_id VARCHAR)"
    )
    con.execute("INSERT INTO meta VALUES (?, ?, 0, 0, NULL, NULL)", [ws.id, fingerprint(ws)])
    con.commit()


def number_new_members(con: duckdb.DuckDBPyConnection, rows: str, members: str) -> None:
    """Give the (channel, member) pairs of table `rows` that `members` lacks the next numbers,
    in (channel, member) order, add them to `members` and fill `rows.mid`."""
    con.execute(
        f"""
        INSERT INTO {members}
        SELECT channel, member,
               (SELECT coalesce(max(mid), 0) FROM {members})
                   + row_number() OVER (ORDER BY channel, member)
        FROM (SELECT DISTINCT channel, member FROM {rows} WHERE member IS NOT NULL
              EXCEPT SELECT channel, member FROM {members})
        """
    )
    con.execute(
        f"UPDATE {rows} SET mid = m.mid FROM {members} m"
        f" WHERE {rows}.channel = m.channel AND {rows}.member = m.member"
    )


def append(conn: Connection, ws: WorkspaceInfo, path: Path) -> int:
    """Append the log's events after the store's watermark (the caller holds `lock(path)`
    and reads committed events only); answers how many were appended."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        meta = _meta(con, _catalog(con))
        if not _matches(conn, ws, meta):
            _reset(con, ws)
            meta = _meta(con, _catalog(con))
        assert meta is not None
        keywords = list(ws.config.checkin.keywords)
        names = ", ".join(c.split()[0] for c in EV_COLUMNS)
        appended = 0
        chunks = log_chunks(conn, ws, after=meta["watermark"])
        while part := list(itertools.islice(chunks, SLICE // CHUNK)):
            con.begin()
            con.execute("CREATE TEMP TABLE stage AS SELECT * FROM ev LIMIT 0")
            n = insert_chunks(con, "stage", part, ws.tz, keywords)
            number_new_members(con, "stage", "members")
            con.execute(f"INSERT INTO ev SELECT {names} FROM stage")
            con.execute("DROP TABLE stage")
            last = int(part[-1]["seq"][-1])
            key = _event_key(conn, last)
            con.execute(
                "UPDATE meta SET watermark = ?, events = events + ?, last_channel = ?,"
                " last_ext_id = ?",
                [last, n, key[0], key[1]],
            )
            con.commit()
            appended += n
        return appended
    finally:
        con.close()


def _catalog(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT current_database()").fetchone()
    assert row is not None
    return str(row[0])


def _event_key(conn: Connection, seq: int) -> tuple[str, str]:
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    row = conn.exec_driver_sql(
        f"SELECT channel, ext_id FROM events WHERE seq = {mark}", (seq,)
    ).one()
    return str(row[0]), str(row[1])


def open_frame(
    conn: Connection,
    ws: WorkspaceInfo,
    path: Path,
    until: datetime | None,
    release: Callable[[], None],
) -> Frame | None:
    """A Frame whose `ev` is the store plus the log's tail after its watermark, both before
    `until`; None when the store is missing or does not match the log. The caller holds
    `lock(path)`; the Frame releases it on close."""
    if not path.exists():
        return None
    con = new_connection()
    try:
        con.execute(f"ATTACH {_quote(path)} AS st (READ_ONLY)")
        meta = _meta(con, "st")
        if not _matches(conn, ws, meta):
            con.close()
            return None
        assert meta is not None
        create_ev(con, "tail")
        tail = insert_chunks(
            con,
            "tail",
            log_chunks(conn, ws, after=meta["watermark"]),
            ws.tz,
            list(ws.config.checkin.keywords),
        )
        bound = ""
        if until is not None:
            stamp = until.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            bound = f" WHERE ts < TIMESTAMP '{stamp}'"
        view = f"SELECT * FROM st.ev{bound}"
        if tail:
            con.execute("CREATE TEMP TABLE tail_members AS SELECT * FROM st.members")
            number_new_members(con, "tail", "tail_members")
            view += f" UNION ALL SELECT * FROM tail{bound}"
        con.execute(f"CREATE TEMP VIEW ev AS {view}")
    except BaseException:
        con.close()
        raise
    return Frame(con, ws.tz, on_close=release)


def kept_frame(
    source: Engine | Connection, ws: WorkspaceInfo, until: datetime | None = None
) -> Frame | None:
    """The workspace's log through its store; None when the store is off.

    Given an Engine, the log's tail is appended first (on a connection of its own, so only
    committed events). Given the caller's Connection, nothing is appended — its transaction
    may hold events that are not committed yet — and the tail is read with it."""
    path = store_path(source, ws)
    if path is None:
        return None
    release = lock(path)
    try:
        if isinstance(source, Engine):
            with source.connect() as conn:
                append(conn, ws, path)
                frame = open_frame(conn, ws, path, until, release)
        else:
            frame = open_frame(source, ws, path, until, release)
    except BaseException:
        release()
        raise
    if frame is None:
        release()
    return frame
