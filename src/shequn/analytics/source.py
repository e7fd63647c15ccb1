"""The event log as a DuckDB table (`ev`), and the date range a report covers.

DuckDB's sqlite and postgres scanners are extensions downloaded at run time, which an offline
install cannot do; so the log is read through SQLAlchemy in chunks of plain columns (the JSON
`data` as text), handed to DuckDB as NumPy columns, and unpacked there by DuckDB's built-in
JSON functions. Reports do that only for the events their workspace's kept store has not
appended yet (`analytics.store`); `load_frame` reads the whole log, as reports did before the
store (and still do with the store off).

Times in `ev` are UTC (`ts`, TIMESTAMP); `lday` is the local calendar day in the workspace's
time zone, computed once here so every report counts days the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from shequn.analytics.texts import say
from shequn.platform.errors import BadRequest

if TYPE_CHECKING:  # imported where used: `shequn --help` should not pay for DuckDB
    import duckdb

from shequn.community.workspace import WorkspaceInfo
from shequn.events import EVENT_TYPES

CHUNK = 100_000

EV_COLUMNS = (
    "seq BIGINT",
    "channel VARCHAR",
    "type ev_type",
    "grp VARCHAR",
    "member VARCHAR",
    "ts TIMESTAMP",
    "lday DATE",
    "kind VARCHAR",
    "is_checkin BOOLEAN",
    "msg_id VARCHAR",
    "reply_to VARCHAR",
    "mentions VARCHAR[]",
    "inviter VARCHAR",
    "scene VARCHAR",
    "code VARCHAR",
    "state VARCHAR",
    "reason VARCHAR",
    "amount_fen BIGINT",
    "order_id VARCHAR",
    "campaign VARCHAR",
    "mid BIGINT",
)
"""The analytics schema of one event: the contract's fields plus the `data` fields reports use.

`mid` numbers each (channel, member) once per frame: joins on one integer key are what keep
the funnel and retention fast over tens of millions of events."""


@dataclass(frozen=True, slots=True)
class Period:
    """Calendar days `since`..`until` (inclusive) in a time zone."""

    since: date
    until: date
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise BadRequest(say, "analytics.backwards", last=self.until, first=self.since)

    @property
    def start(self) -> datetime:
        """The first instant of the range, in UTC."""
        return datetime.combine(self.since, time(), self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the range, in UTC."""
        return datetime.combine(self.until + timedelta(days=1), time(), self.tz).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def as_dict(self) -> dict[str, str]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "tz": self.tz.key}


class Frame:
    """A DuckDB connection holding `ev` for one workspace (and scratch tables of reports)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        tz: ZoneInfo,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.con = con
        self.tz = tz
        self._on_close = on_close
        # Live code → acquisition source (`livecode create --source`): read with the log,
        # so a join through a code counts for its source in every report.
        self.code_sources: dict[str, str] = {}

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params)
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = self.con.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def has_temp(self, table: str) -> bool:
        """Whether a report already made scratch table `table` on this frame. (Asked by name:
        listing `duckdb_tables()` reads the catalog of the attached store too.)"""
        import duckdb

        try:
            self.con.execute(f"SELECT 1 FROM temp.main.{table} LIMIT 0")
        except duckdb.CatalogException:
            return False
        return True

    def close(self) -> None:
        self.con.close()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def __enter__(self) -> Frame:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def new_connection() -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect()
    # Naive TIMESTAMPs are UTC; local days come from `lday` or an explicit time zone.
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def create_ev(con: duckdb.DuckDBPyConnection, table: str = "ev") -> None:
    # An ENUM makes every `type = '…'` filter an integer compare over the whole log.
    names = ", ".join(f"'{name}'" for name in EVENT_TYPES)
    con.execute(f"CREATE TYPE ev_type AS ENUM ({names})")
    con.execute(f"CREATE TABLE {table} ({', '.join(EV_COLUMNS)})")


def _checkin_sql(keywords: Sequence[str]) -> str:
    if not keywords:
        return "FALSE"
    # Keywords become literals (quotes doubled): they are the operator's own configuration.
    tests = [
        f"starts_with(trim(data->>'$.text'), '{k.replace(chr(39), chr(39) * 2)}')" for k in keywords
    ]
    return "coalesce(" + " OR ".join(tests) + ", FALSE)"


def _unpack_sql(tz: ZoneInfo, keywords: Sequence[str]) -> str:
    """From raw chunk columns (strings, JSON text) to the `ev` schema, all inside DuckDB."""
    zone = tz.key.replace("'", "")
    return f"""
        SELECT seq, channel, type, grp, member, ts::TIMESTAMP,
               CAST(timezone('{zone}', ts::TIMESTAMP::TIMESTAMPTZ) AS DATE),
               data->>'$.kind',
               CASE WHEN type = 'message.posted' THEN {_checkin_sql(keywords)} ELSE FALSE END,
               data->>'$.message_id', data->>'$.reply_to',
               CAST(json_extract(data, '$.mentions') AS VARCHAR[]),
               data->>'$.inviter', data->>'$.scene', data->>'$.code', data->>'$.state',
               data->>'$.reason', TRY_CAST(data->>'$.amount_fen' AS BIGINT),
               data->>'$.order_id', data->>'$.campaign', NULL
        FROM chunk
    """


def _select_sql(conn: Connection, bounded: bool, limited: bool) -> str:
    """The log's columns as plain text, so no driver or ORM conversion runs per row.

    Without an `at` bound the query follows the primary key from `seq` on (SQLite is told
    not to use `ix_events_recent` with a unary `+`): a short tail costs a short read."""
    if conn.dialect.name == "postgresql":
        at = "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
        data, mark, ws = "data::text", "%s", "workspace_id"
    else:
        at, data, mark, ws = "at", "CAST(data AS TEXT)", "?", "+workspace_id"
    where = f"workspace_id = {mark} AND seq > {mark} AND at < {mark}"
    if not bounded:
        where = f"{ws} = {mark} AND seq > {mark}"
    limit = f" LIMIT {mark}" if limited else ""
    return (
        f"SELECT seq, channel, type, group_ext, member_ext, {at}, {data} FROM events"
        f" WHERE {where} ORDER BY seq{limit}"
    )


def _at_param(conn: Connection, value: datetime) -> Any:
    if conn.dialect.name == "sqlite":
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


_RAW = ("seq", "channel", "type", "grp", "member", "ts", "data")

Chunk = dict[str, Any]
"""Raw log columns (`_RAW`) of up to CHUNK events, as NumPy arrays DuckDB reads in place."""


def log_chunks(
    conn: Connection,
    ws: WorkspaceInfo,
    *,
    after: int = 0,
    until: datetime | None = None,
    limit: int | None = None,
) -> Iterator[Chunk]:
    """The workspace's events with `seq` > `after` and before `until` (default: all), in
    order of arrival, CHUNK at a time; the first `limit` of them when given."""
    import numpy

    params: tuple[Any, ...] = (ws.id, after)
    if until is not None:
        params += (_at_param(conn, until),)
    if limit is not None:
        params += (limit,)
    cursor = conn.exec_driver_sql(_select_sql(conn, until is not None, limit is not None), params)
    while batch := cursor.fetchmany(CHUNK):
        columns = list(zip(*batch, strict=True))
        yield {
            name: numpy.array(col, dtype=numpy.int64 if name == "seq" else object)
            for name, col in zip(_RAW, columns, strict=True)
        }


def insert_chunks(
    con: duckdb.DuckDBPyConnection,
    table: str,
    chunks: Iterable[Chunk],
    tz: ZoneInfo,
    checkin_keywords: Sequence[str],
) -> int:
    """Unpack raw chunks into `table` (the `ev` schema, `mid` left NULL); answers the count."""
    unpack = _unpack_sql(tz, checkin_keywords)
    count = 0
    for chunk in chunks:
        con.register("chunk", chunk)
        con.execute(f"INSERT INTO {table} {unpack}")
        con.unregister("chunk")
        count += len(chunk["seq"])
    return count


def load_frame(
    source: Engine | Connection,
    ws: WorkspaceInfo,
    until: datetime | None = None,
    checkin_keywords: Sequence[str] | None = None,
) -> Frame:
    """The workspace's events before `until` (default: all) as a Frame, read whole from the
    database (the kept store, `analytics.store`, reads only what it has not appended yet)."""
    if isinstance(source, Engine):
        with source.connect() as conn:
            return load_frame(conn, ws, until, checkin_keywords)
    if checkin_keywords is None:
        checkin_keywords = list(ws.config.checkin.keywords)
    con = new_connection()
    create_ev(con)
    insert_chunks(con, "ev", log_chunks(source, ws, until=until), ws.tz, checkin_keywords)
    number_members(con)
    return Frame(con, ws.tz)


def number_members(con: duckdb.DuckDBPyConnection) -> None:
    """Fill `ev.mid`: one integer per (channel, member), in a stable order."""
    con.execute(
        """
        CREATE TEMP TABLE mkeys AS
        SELECT channel, member, row_number() OVER (ORDER BY channel, member) AS mid
        FROM (SELECT DISTINCT channel, member FROM ev WHERE member IS NOT NULL)
        """
    )
    con.execute(
        "UPDATE ev SET mid = k.mid FROM mkeys k"
        " WHERE ev.channel = k.channel AND ev.member = k.member"
    )
    con.execute("DROP TABLE mkeys")
