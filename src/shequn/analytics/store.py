"""The kept analytics store: each workspace's event log appended to a DuckDB file, so that a
report reads the store plus the tail of the log not yet appended, instead of the whole log.

One file per workspace and database, `<analytics_dir>/<database key>/ws-<id>.duckdb`, holds
- `ev`: the `ev` schema of `analytics.source`, `mid` filled;
- `members`: the `mid` of each (channel, member), numbered as members first appear;
- `meta`: one row — the watermark (the last `seq` appended), the count of events, the key of
  the last event appended, and the fingerprint of what the rows were computed with.

Appending is one DuckDB transaction per slice of the log that inserts the slice's rows (in
order of type, so that a report's `type = …` filter skips whole row groups of other types),
its new members and the new watermark together: a crash leaves the store as of the last commit,
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


def forget(engine: Engine, ws: WorkspaceInfo) -> None:
    """Delete a workspace's store (the workspace is being deleted): its file and lock."""
    path = store_path(engine, ws)
    if path is None:
        return
    for leftover in (path, path.with_suffix(".lock"), path.with_suffix(".duckdb.wal")):
        leftover.unlink(missing_ok=True)


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


def _attach(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory connection (for a report's scratch tables) with the store as `st`."""
    con = new_connection()
    try:
        con.execute(f"ATTACH {_quote(path)} AS st{' (READ_ONLY)' if read_only else ''}")
    except BaseException:
        con.close()
        raise
    return con


def _meta(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    import duckdb

    try:
        cur = con.execute("SELECT * FROM st.meta")
    except duckdb.CatalogException:
        return None
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
    return _event_key(conn, meta["watermark"], ws) == (meta["last_channel"], meta["last_ext_id"])


def _event_key(conn: Connection, seq: int, ws: WorkspaceInfo) -> tuple[str, str] | None:
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    row = conn.exec_driver_sql(
        f"SELECT channel, ext_id FROM events WHERE seq = {mark} AND workspace_id = {mark}",
        (seq, ws.id),
    ).first()
    return None if row is None else (str(row[0]), str(row[1]))


def _reset(con: duckdb.DuckDBPyConnection, ws: WorkspaceInfo) -> None:
    """An empty store for this workspace (one transaction: a crash keeps the old one)."""
    con.begin()
    con.execute("USE st")
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
    con.execute("USE memory")
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


def _append_into(
    con: duckdb.DuckDBPyConnection, source: Engine | Connection, ws: WorkspaceInfo
) -> int:
    """Append the log's events after the watermark of the store attached as `st` (rebuilt
    first when it does not match the log), a slice per transaction; answers how many.

    Given an Engine, each slice is read on a connection of its own: on SQLite a connection
    holds the database's write lock, which ingest then waits for one slice at a time rather
    than for the whole of a first build."""
    if not isinstance(source, Engine):
        return _append_slices(con, source, ws, limit=None)
    appended = 0
    while True:
        with source.connect() as conn:
            n = _append_slices(con, conn, ws, limit=SLICE)
        appended += n
        if n < SLICE:
            return appended


def _append_slices(
    con: duckdb.DuckDBPyConnection, conn: Connection, ws: WorkspaceInfo, limit: int | None
) -> int:
    meta = _meta(con)
    if not _matches(conn, ws, meta):
        _reset(con, ws)
        meta = _meta(con)
    assert meta is not None
    keywords = list(ws.config.checkin.keywords)
    names = ", ".join(c.split()[0] for c in EV_COLUMNS)
    appended = 0
    chunks = log_chunks(conn, ws, after=meta["watermark"], limit=limit)
    while part := list(itertools.islice(chunks, max(1, SLICE // CHUNK))):
        con.begin()
        con.execute("CREATE TEMP TABLE stage AS SELECT * FROM st.ev LIMIT 0")
        n = insert_chunks(con, "stage", part, ws.tz, keywords)
        number_new_members(con, "stage", "st.members")
        con.execute(f"INSERT INTO st.ev SELECT {names} FROM stage ORDER BY type, seq")
        con.execute("DROP TABLE stage")
        last = int(part[-1]["seq"][-1])
        key = _event_key(conn, last, ws)
        assert key is not None
        con.execute(
            "UPDATE st.meta SET watermark = ?, events = events + ?, last_channel = ?,"
            " last_ext_id = ?",
            [last, n, key[0], key[1]],
        )
        con.commit()
        appended += n
    return appended


def append(source: Engine | Connection, ws: WorkspaceInfo, path: Path) -> int:
    """Append the log's events after the store's watermark (the caller holds `lock(path)`;
    a Connection must see committed events only); answers how many were appended."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _attach(path, read_only=False)
    try:
        return _append_into(con, source, ws)
    finally:
        con.close()


def _view(con: duckdb.DuckDBPyConnection, until: datetime | None, tail: bool) -> None:
    """`ev`: the store, plus the tail when there is one, before `until`."""
    bound = ""
    if until is not None:
        stamp = until.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        bound = f" WHERE ts < TIMESTAMP '{stamp}'"
    view = f"SELECT * FROM st.ev{bound}"
    if tail:
        view += f" UNION ALL SELECT * FROM tail{bound}"
    con.execute(f"CREATE TEMP VIEW ev AS {view}")


def _read_tail(
    con: duckdb.DuckDBPyConnection, conn: Connection, ws: WorkspaceInfo, after: int
) -> bool:
    """Table `tail`: the log after the watermark, numbered like the store; whether any."""
    create_ev(con, "tail")
    keywords = list(ws.config.checkin.keywords)
    if not insert_chunks(con, "tail", log_chunks(conn, ws, after=after), ws.tz, keywords):
        return False
    con.execute("CREATE TEMP TABLE tail_members AS SELECT * FROM st.members")
    number_new_members(con, "tail", "tail_members")
    return True


def kept_frame(
    source: Engine | Connection, ws: WorkspaceInfo, until: datetime | None = None
) -> Frame | None:
    """The workspace's log through its store, before `until`; None when the store is off, or
    (given a Connection) missing or stale.

    Given an Engine, the log's new events are appended first, on a connection of its own (so
    committed events only), and the report reads the store alone. Given the caller's
    Connection, nothing is appended — its transaction may hold events that are not committed
    yet — and the report reads the store plus the tail read through that connection."""
    path = store_path(source, ws)
    if path is None:
        return None
    release = lock(path)
    con = None
    try:
        if isinstance(source, Engine):
            con = _attach(path, read_only=False)
            _append_into(con, source, ws)
            _view(con, until, tail=False)
        elif path.exists():
            con = _attach(path, read_only=True)
            meta = _meta(con)
            if not _matches(source, ws, meta):
                con.close()
                con = None
            else:
                assert meta is not None
                _view(con, until, tail=_read_tail(con, source, ws, meta["watermark"]))
    except BaseException:
        if con is not None:
            con.close()
        release()
        raise
    if con is None:
        release()
        return None
    return Frame(con, ws.tz, on_close=release)
