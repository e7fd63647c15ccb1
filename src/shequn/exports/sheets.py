"""Exports for spreadsheets: csv (with a BOM, so Excel reads it as UTF-8) and xlsx (typed
times, column widths, a frozen header).

Both take the rows an export kind yields (the same dicts as jsonl) and show them the way an
operator reads them: headers in the workspace's language, instants in the workspace's zone,
lists joined with 、, fixed-shape objects spread into columns, and text that never runs as a
formula.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection

from shequn.community.workspace import WorkspaceInfo
from shequn.exports.labels import DATE_COLUMNS, is_time, label

if TYPE_CHECKING:
    from shequn.exports import ExportKind

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MAX_WIDTH = 60


@dataclass(frozen=True, slots=True)
class Column:
    """One spreadsheet column: where its value comes from, and its header."""

    source: str  # the row's key
    key: str | None  # a key inside the row's object, for a spread column
    header: str

    @property
    def kind(self) -> str:
        if self.key is None and is_time(self.source):
            return "time"
        if self.key is None and self.source in DATE_COLUMNS:
            return "date"
        return "value"

    def value(self, row: dict[str, Any]) -> Any:
        value = row.get(self.source)
        if self.key is not None:
            return value.get(self.key) if isinstance(value, dict) else None
        return value


def sheet_columns(
    conn: Connection, ws: WorkspaceInfo, export: ExportKind, header: str
) -> list[Column]:
    locale = ws.locale
    columns: list[Column] = []
    for name in export.columns:
        keys = export.spread.get(name)
        if keys is None:
            columns.append(Column(name, None, name if header == "ids" else label(name, locale)))
            continue
        for key, title in keys(conn, ws):
            dotted = f"{name}.{key}"
            columns.append(Column(name, key, dotted if header == "ids" else title or dotted))
    return columns


def write_csv(
    rows: Iterable[dict[str, Any]], columns: list[Column], tz: ZoneInfo, out: IO[bytes]
) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([c.header for c in columns])
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(c, c.value(row), tz) for c in columns])
        count += 1
    text.detach()
    return count


def write_xlsx(
    rows: Iterable[dict[str, Any]],
    columns: list[Column],
    tz: ZoneInfo,
    out: IO[bytes],
    title: str,
) -> int:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    # A write-only sheet takes its layout before its first row.
    for i, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = _width(column)
    sheet.freeze_panes = "A2"
    sheet.append([c.header for c in columns])
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, c, c.value(row), tz) for c in columns])
        count += 1
    book.save(out)
    return count


def _text(value: Any) -> Any:
    """A list or object as one cell's text; scalars as they are."""
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return "、".join("" if v is None else str(v) for v in value)
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode() if value else ""
    return value


def _instant(value: Any, tz: ZoneInfo) -> datetime | None:
    """An instant of the rows (ISO 8601 text or a datetime) as a naive local time."""
    if value is None or value == "":
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return when.astimezone(tz).replace(tzinfo=None)


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(value)


def _guarded(value: Any) -> Any:
    """A member's text never becomes a spreadsheet formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_cell(column: Column, value: Any, tz: ZoneInfo) -> Any:
    if column.kind == "time":
        when = _instant(value, tz)
        return when.strftime(TIME_FORMAT) if when is not None else None
    return _guarded(_text(value))


def _xlsx_cell(sheet: Any, column: Column, value: Any, tz: ZoneInfo) -> Any:
    """Times and dates as typed cells; text stays text (never a formula), without the
    control characters xlsx forbids."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if column.kind in ("time", "date"):
        typed = _instant(value, tz) if column.kind == "time" else _day(value)
        if typed is None:
            return None
        cell = WriteOnlyCell(sheet, value=typed)
        cell.number_format = "yyyy-mm-dd hh:mm:ss" if column.kind == "time" else "yyyy-mm-dd"
        return cell
    value = _text(value)
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def _width(column: Column) -> float:
    """Wide enough for the header and for a time; CJK characters take two places."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in column.header)
    least = {"time": 19, "date": 10}.get(column.kind, 10)
    return float(min(max(shown, least) + 2, _MAX_WIDTH))
