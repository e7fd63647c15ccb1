"""Member import from CSV or XLSX (another CRM's export) with a column mapping.

The whole file is checked first and every problem is reported by row and column (the header
is row 1, as a spreadsheet shows it): undecodable text, a missing required column, a bad
phone number, a value outside a field's choices, a duplicate member id. A file with problems
stores nothing, unless `skip_invalid`: then the good rows are stored and the rest reported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Connection

from shequn.community.workspace import WorkspaceInfo
from shequn.crm.schemas import ENUM_FIELDS, TEXT_FIELDS, normalize_phone, parse_enum
from shequn.crm.service import (
    check_custom_value,
    do_tag_member,
    known_members,
    list_custom_fields,
    upsert_profile_values,
)
from shequn.crm.texts import say
from shequn.platform.errors import Invalid

REQUIRED = ("member",)
TARGETS = (
    "member",
    "channel",
    "name",
    "phone",
    "gender",
    "age_band",
    "education",
    "city",
    "city_tier",
    "occupation",
    "income_band",
    "similar_spend_band",
    "heard_from",
    "purchase_motive",
    "pains",
    "lifecycle_stage",
    "tags",
)

# Headers other CRMs use (WeCom SCRMs, spreadsheets kept by hand), matched without spaces.
HEADER_ALIASES: dict[str, str] = {
    "客户id": "member",
    "会员id": "member",
    "成员id": "member",
    "用户id": "member",
    "外部联系人id": "member",
    "id": "member",
    "渠道": "channel",
    "平台": "channel",
    "姓名": "name",
    "名字": "name",
    "客户名称": "name",
    "手机": "phone",
    "手机号": "phone",
    "手机号码": "phone",
    "电话": "phone",
    "联系电话": "phone",
    "性别": "gender",
    "年龄段": "age_band",
    "年龄": "age_band",
    "学历": "education",
    "城市": "city",
    "城市等级": "city_tier",
    "城市线级": "city_tier",
    "职业": "occupation",
    "收入": "income_band",
    "月收入": "income_band",
    "同类产品消费": "similar_spend_band",
    "同类消费": "similar_spend_band",
    "了解渠道": "heard_from",
    "从哪里了解": "heard_from",
    "购买动机": "purchase_motive",
    "使用问题": "pains",
    "痛点": "pains",
    "生命周期": "lifecycle_stage",
    "客户阶段": "lifecycle_stage",
    "标签": "tags",
}
LIST_SEPARATORS = ("、", "，", ",", ";", "；", "|")
MAX_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class ImportProblem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class ImportRejected(Invalid):
    """The file had problems and nothing of it was stored."""

    title: ClassVar[dict[str, str]] = {
        "zh-CN": "导入被拒绝，未存储任何数据",
        "en": "Import rejected, nothing stored",
    }

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        summary = f"{problems[0]}{more}"
        super().__init__(say, "crm.import_rejected", count=len(problems), summary=summary)

    def extra(self) -> dict[str, Any]:
        return {
            "problems": [
                {"row": p.row, "column": p.column, "message": p.message} for p in self.problems
            ]
        }


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    stored: int = 0
    created: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len({p.row for p in self.problems if p.row > 1})

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "stored": self.stored,
            "created": self.created,
            "skipped": self.skipped,
            "ignored_columns": self.ignored_columns,
            "problems": [str(p) for p in self.problems],
        }


@dataclass(slots=True)
class Table:
    header: list[str]
    rows: list[list[Any]]
    problems: list[ImportProblem] = field(default_factory=list)


def _key(header: str) -> str:
    return "".join(header.split()).lower()


def read_csv(data: bytes, encoding: str = "utf-8-sig") -> Table:
    """Rows of a CSV file; each line that does not decode is reported with its cell."""
    if encoding.replace("-", "").lower() in ("utf8", "utf8sig"):
        encoding = "utf-8-sig"
    problems: list[ImportProblem] = []
    lines = data.splitlines(keepends=True)
    # Header names for the report, readable even when the header itself is mis-encoded.
    names = lines[0].decode(encoding, errors="replace").rstrip("\r\n").split(",") if lines else []
    decoded = []
    for number, line in enumerate(lines, start=1):
        try:
            decoded.append(line.decode(encoding if number == 1 else encoding.replace("-sig", "")))
        except UnicodeDecodeError as exc:
            cell = line[: exc.start].count(b",")
            column = names[cell].strip() if cell < len(names) else ""
            if not column or "\ufffd" in column:
                column = f"#{cell + 1}"  # the header cell is unreadable too: its position
            problems.append(
                ImportProblem(
                    number,
                    column,
                    f"not valid {encoding.replace('-sig', '')} text"
                    " (a file saved by Excel on Windows is often GBK: give the encoding)",
                )
            )
            decoded.append("")
    if problems:
        return Table([], [], problems)
    reader = csv.reader(io.StringIO("".join(decoded)))
    records = [row for row in reader]
    if not records:
        return Table([], [], [ImportProblem(1, "(file)", "the file is empty")])
    header = [h.strip() for h in records[0]]
    return Table(header, records[1:])


def read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        return Table([], [], [ImportProblem(1, "(file)", f"not a readable XLSX file: {exc}")])
    sheet = book.worksheets[0]
    records = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    if not records:
        return Table([], [], [ImportProblem(1, "(file)", "the sheet is empty")])
    header = ["" if h is None else str(h).strip() for h in records[0]]
    return Table(header, records[1:])


def read_table(path: Path, encoding: str = "utf-8-sig") -> Table:
    data = path.read_bytes()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(data)
    return read_csv(data, encoding)


def _text(value: Any) -> str:
    """A cell as text; spreadsheets turn long digit strings (phones, ids) into numbers."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value).strip()


def _split(value: str) -> list[str]:
    parts = [value]
    for sep in LIST_SEPARATORS:
        parts = [p for part in parts for p in part.split(sep)]
    return [p.strip() for p in parts if p.strip()]


def resolve_mapping(
    header: list[str], mapping: dict[str, str], custom: dict[str, dict[str, Any]]
) -> tuple[dict[int, str], list[str], list[ImportProblem]]:
    """Which column index feeds which target; returns also the ignored headers and problems."""
    problems: list[ImportProblem] = []
    explicit = {_key(k): v for k, v in mapping.items()}
    labels = {_key(f["label"]): f"custom.{key}" for key, f in custom.items()}
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        target = (
            explicit.get(_key(name)) or HEADER_ALIASES.get(_key(name)) or labels.get(_key(name))
        )
        if target is None and _key(name) in TARGETS:
            target = _key(name)
        if target is None and _key(name).startswith("custom.") and name[7:] in custom:
            target = name
        if target is None:
            ignored.append(name)
            continue
        valid = target in TARGETS or (target.startswith("custom.") and target[7:] in custom)
        if not valid:
            problems.append(ImportProblem(1, name, f"mapped to unknown field {target!r}"))
            continue
        if target in columns.values():
            problems.append(ImportProblem(1, name, f"a second column for {target!r}"))
            continue
        columns[index] = target
    for name in mapping:
        if _key(name) not in {_key(h) for h in header}:
            problems.append(ImportProblem(1, name, "the mapping names a column the file lacks"))
    for required in REQUIRED:
        if required not in columns.values():
            problems.append(
                ImportProblem(
                    1,
                    required,
                    "missing required column (e.g. 客户ID, or map one: --map 'Header=member')",
                )
            )
    return columns, ignored, problems


@dataclass(slots=True)
class Record:
    row: int
    channel: str
    member: str
    values: dict[str, Any]
    tags: list[str]


def check_table(
    table: Table,
    mapping: dict[str, str],
    custom: dict[str, dict[str, Any]],
    default_channel: str,
) -> tuple[list[Record], list[str], list[ImportProblem]]:
    """Every row checked; returns the good records, ignored columns and all problems."""
    if table.problems:
        return [], [], list(table.problems)
    columns, ignored, problems = resolve_mapping(table.header, mapping, custom)
    if problems:
        return [], ignored, problems
    if len(table.rows) > MAX_ROWS:
        return [], ignored, [ImportProblem(1, "(file)", f"more than {MAX_ROWS} rows")]
    records: list[Record] = []
    first_row: dict[tuple[str, str], int] = {}
    for offset, raw in enumerate(table.rows):
        row = offset + 2
        cells = {target: _text(raw[i]) if i < len(raw) else "" for i, target in columns.items()}
        if not any(cells.values()):
            continue  # blank lines at the end of a sheet
        bad: list[ImportProblem] = []
        header_of = {target: table.header[i] for i, target in columns.items()}
        member = cells.get("member", "")
        channel = cells.get("channel") or default_channel
        if not member:
            bad.append(ImportProblem(row, header_of["member"], "member id is empty"))
        elif len(member) > 128:
            bad.append(ImportProblem(row, header_of["member"], "member id longer than 128"))
        elif (channel, member) in first_row:
            bad.append(
                ImportProblem(
                    row,
                    header_of["member"],
                    f"duplicate member id {member!r} (first on row {first_row[(channel, member)]})",
                )
            )
        values: dict[str, Any] = {}
        tag_list: list[str] = []
        custom_values: dict[str, Any] = {}
        for target, text in cells.items():
            if target in ("member", "channel") or not text:
                continue
            try:
                if target == "phone":
                    values["phone"] = normalize_phone(text)
                elif target in ENUM_FIELDS:
                    values[target] = parse_enum(target, text)
                elif target == "pains":
                    values["pains"] = _split(text)[:20]
                elif target == "tags":
                    tag_list = _split(text)
                    if any(len(t) > 64 for t in tag_list):
                        raise ValueError("a tag is longer than 64 characters")
                elif target.startswith("custom."):
                    custom_values[target[7:]] = check_custom_value(custom[target[7:]], text)
                else:
                    limit = TEXT_FIELDS[target]
                    if len(text) > limit:
                        raise ValueError(f"longer than {limit} characters")
                    values[target] = text
            except ValueError as exc:
                bad.append(ImportProblem(row, header_of[target], str(exc)))
        if custom_values:
            values["custom"] = custom_values
        if bad:
            problems.extend(bad)
            continue
        first_row[(channel, member)] = row
        records.append(Record(row, channel, member, values, tag_list))
    return records, ignored, problems


def do_import_members(
    conn: Connection,
    ws: WorkspaceInfo,
    table: Table,
    mapping: dict[str, str] | None = None,
    *,
    channel: str = "sandbox",
    skip_invalid: bool = False,
    now: datetime,
    progress: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Check the whole table, then store it in the caller's transaction (or raise)."""
    custom = {f["key"]: f for f in list_custom_fields(conn, ws)}
    records, ignored, problems = check_table(table, mapping or {}, custom, channel)
    header_problems = [p for p in problems if p.row <= 1]
    if header_problems or (problems and not skip_invalid):
        raise ImportRejected(problems)
    report = ImportReport(rows=len(table.rows), problems=problems, ignored_columns=ignored)
    stamp = now
    existing = known_members(conn, ws, [(r.channel, r.member) for r in records])
    report.created = sum((r.channel, r.member) not in existing for r in records)
    for record in _with_progress(records, progress):
        upsert_profile_values(conn, ws, record.channel, record.member, dict(record.values), stamp)
        for tag in record.tags:
            do_tag_member(conn, ws, record.channel, record.member, tag, source="import", now=stamp)
        report.stored += 1
    return report


def _with_progress(
    records: list[Record], progress: Callable[[int], Any] | None
) -> Iterable[Record]:
    for index, record in enumerate(records, start=1):
        yield record
        if progress is not None and (index % 200 == 0 or index == len(records)):
            progress(200 if index % 200 == 0 else index % 200)
