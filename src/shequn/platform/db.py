"""Database engine, metadata and the transaction boundary, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import Date, DateTime

from shequn.settings import Settings, get_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


Id = BigInteger().with_variant(Integer, "sqlite")
"""Surrogate keys: 64-bit on PostgreSQL, SQLite's rowid integer."""


class UTCDateTime(TypeDecorator[Any]):
    """Aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_engines: dict[str, Engine] = {}

# orjson is several times faster than json for the data of every stored event and action.
_JSON: dict[str, Any] = {
    "json_serializer": lambda obj: orjson.dumps(obj).decode(),
    "json_deserializer": orjson.loads,
    # A database error's text never carries the statement's values (members' messages,
    # phones) into a terminal, a log or an HTTP 500's log line.
    "hide_parameters": True,
}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, **_JSON)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" hook issue BEGIN IMMEDIATE: a writer takes the lock up
            # front instead of failing to upgrade a read lock halfway through a batch.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, **_JSON)


def get_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = settings.database_url
    if url not in _engines:
        path = settings.sqlite_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        _engines[url] = make_engine(url)
    return _engines[url]


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Connection]:
    """The one transaction boundary: commit on success, roll back on any error."""
    with (engine or get_engine()).begin() as conn:
        yield conn


def lock_workspace(conn: Connection, workspace_id: int) -> None:
    """Serialise writers of one workspace for the rest of the transaction.

    SQLite already holds its single write lock (BEGIN IMMEDIATE); PostgreSQL takes a
    transaction-scoped advisory lock so that overlapping batches from several processes see
    each other's events and never decide the same action twice.
    """
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(b"shequn-ws") << 20 ^ workspace_id
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def insert_ignore(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, silently skipping those that hit a unique constraint."""
    fast_insert(conn, table, rows, ignore_conflicts=True)


KEYS_PER_QUERY = 5_000
"""Keys per bulk read of a batch (`IN` lists): a batch of 20,000 events names a few thousand
members, read in one or two queries rather than one per 500. Both databases take far more
parameters (SQLite 32,766, PostgreSQL 65,535); a key of two columns uses two per key."""


def chunks(seq: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


# --- The hot path: bulk writes without per-row statement compilation -------------------------
# Ingest writes thousands of rows per batch; SQLAlchemy's per-row parameter processing cost
# more than the database itself. These helpers convert values by column type once and hand
# plain tuples to the driver's executemany. Only the ingest path uses them.


_SQLITE_TEXTS: dict[Any, str] = {}
"""Recent datetimes as SQLite text: one event's time is written to several rows (the log,
the member, the membership, the ledger …) and formatting costs ~25 times a lookup."""


def _sqlite_datetime(value: Any) -> Any:
    if value is None:
        return None
    found = _SQLITE_TEXTS.get(value)  # equal instants give equal text, whatever the zone
    if found is None:
        if len(_SQLITE_TEXTS) >= 65_536:
            _SQLITE_TEXTS.clear()
        # Events' times are UTC once validated: most need no conversion.
        utc = value if value.tzinfo is UTC else value.astimezone(UTC)
        # The exact text SQLAlchemy's SQLite DateTime writes, so comparisons in SQL agree.
        found = _SQLITE_TEXTS[value] = utc.replace(tzinfo=None).isoformat(" ", "microseconds")
    return found


def _json_text(value: Any) -> Any:
    return orjson.dumps(value).decode()


def _identity(value: Any) -> Any:
    return value


def _sqlite_date(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _converter(column: Any, dialect: str) -> Callable[[Any], Any]:
    if isinstance(column.type, UTCDateTime):
        return _sqlite_datetime if dialect == "sqlite" else _identity
    if isinstance(column.type, Date):
        return _sqlite_date if dialect == "sqlite" else _identity
    if isinstance(column.type, JSON):
        return _json_text
    return _identity


def _placeholder(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


def _from_sqlite_datetime(value: Any) -> Any:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _from_sqlite_date(value: Any) -> Any:
    return None if value is None else date.fromisoformat(value)


def _from_sqlite_bool(value: Any) -> Any:
    return None if value is None else bool(value)


def _from_json_text(value: Any) -> Any:
    return None if value is None else orjson.loads(value)


def _as_utc(value: Any) -> Any:
    return None if value is None else value.astimezone(UTC)


def _reader(column: Any, dialect: str) -> Callable[[Any], Any] | None:
    """How to finish what the driver returns for a column (None: as it is), the way the
    column's SQLAlchemy type would."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _from_sqlite_datetime if dialect == "sqlite" else _as_utc
    if dialect == "sqlite":
        if isinstance(kind, Date):
            return _from_sqlite_date
        if isinstance(kind, Boolean):
            return _from_sqlite_bool
        if isinstance(kind, JSON):
            return _from_json_text
    return None


def fast_select(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    where: Mapping[str, Any],
    among: Mapping[str, Collection[Any]],
) -> Iterator[tuple[Any, ...]]:
    """Rows of `names` where each `where` column equals its value and each `among` column is
    one of its values, read at the driver level.

    Reading rows in bulk, SQLAlchemy's result processing (SQLite datetimes parsed by a
    regular expression) cost more than the query; values are finished here instead.
    """
    dialect = conn.dialect.name
    mark = _placeholder(dialect)
    tests = [f'"{name}" = {mark}' for name in where]
    params: list[Any] = list(where.values())
    for name, values in among.items():
        tests.append(f'"{name}" IN ({", ".join([mark] * len(values))})')
        params.extend(values)
    columns = ", ".join(f'"{n}"' for n in names)
    sql = f'SELECT {columns} FROM "{table.name}" WHERE {" AND ".join(tests)}'
    readers = [(i, r) for i, n in enumerate(names) if (r := _reader(table.c[n], dialect))]
    for row in conn.exec_driver_sql(sql, tuple(params)):
        values = list(row)
        for i, read in readers:
            values[i] = read(values[i])
        yield tuple(values)


def db_datetime(conn: Connection) -> Callable[[Any], Any]:
    """How this connection's driver wants an aware datetime for a UTCDateTime column."""
    return _sqlite_datetime if conn.dialect.name == "sqlite" else _identity


def fast_insert_tuples(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    ignore_conflicts: bool = False,
) -> None:
    """executemany INSERT of tuples already in the driver's types (see db_datetime).

    With ignore_conflicts, rows hitting a unique constraint are skipped (the same
    `ON CONFLICT DO NOTHING` on SQLite and PostgreSQL).
    """
    if not rows:
        return
    mark = _placeholder(conn.dialect.name)
    columns = ", ".join(f'"{n}"' for n in names)
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({", ".join([mark] * len(names))})'
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    conn.exec_driver_sql(sql, list(rows))


def fast_stored(
    conn: Connection,
    table: Table,
    where: dict[str, Any],
    column: str,
    values: Sequence[Any],
    size: int = 500,
) -> set[Any]:
    """Which of `values` are already stored in `column` among the rows matching `where`
    (equality on each column): one driver-level query per `size` values."""
    mark = _placeholder(conn.dialect.name)
    fixed = " AND ".join(f'"{name}" = {mark}' for name in where)
    found: set[Any] = set()
    for part in chunks(values, size):
        marks = ", ".join([mark] * len(part))
        sql = f'SELECT "{column}" FROM "{table.name}" WHERE {fixed} AND "{column}" IN ({marks})'
        found.update(row[0] for row in conn.exec_driver_sql(sql, (*where.values(), *part)))
    return found


def fast_insert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], ignore_conflicts: bool = False
) -> None:
    """executemany INSERT of dict rows (all with the same keys)."""
    if not rows:
        return
    dialect = conn.dialect.name
    names = list(rows[0])
    convert = [_converter(table.c[n], dialect) for n in names]
    params = [tuple(c(row[n]) for c, n in zip(convert, names, strict=True)) for row in rows]
    fast_insert_tuples(conn, table, names, params, ignore_conflicts)


def write_changes(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """One executemany UPDATE of `columns` for rows held whole in memory (dicts with their
    `id`): a book writes the columns any of its rows changed, in one statement per table,
    however varied the batch's changes."""
    if rows and columns:
        fast_update(
            conn, table, [{**{c: row[c] for c in columns}, "id": row["id"]} for row in rows]
        )


def fast_update(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: str = "id"
) -> None:
    """executemany UPDATE … WHERE key = ? of dict rows (all with the same keys)."""
    if not rows:
        return
    dialect = conn.dialect.name
    names = [n for n in rows[0] if n != key]
    convert = [_converter(table.c[n], dialect) for n in names]
    mark = _placeholder(dialect)
    assignments = ", ".join(f'"{n}" = {mark}' for n in names)
    sql = f'UPDATE "{table.name}" SET {assignments} WHERE "{key}" = {mark}'
    params = [(*(c(row[n]) for c, n in zip(convert, names, strict=True)), row[key]) for row in rows]
    conn.exec_driver_sql(sql, params)
