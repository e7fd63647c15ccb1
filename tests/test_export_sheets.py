"""Exports for spreadsheets: headers in the workspace's language, times in its zone, typed
xlsx cells, custom fields as columns, a member list that imports back, and no formulas."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import Engine

from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.crm.importer import do_import_members, read_csv
from shequn.crm.schemas import CustomFieldIn, ProfileIn
from shequn.crm.service import do_define_custom_field, do_upsert_profile
from shequn.engine.service import do_ingest_events
from shequn.exports import EXPORTS, load_export_modules, write_export
from shequn.exports.labels import ZH_CN, is_time, label
from shequn.platform.db import transaction
from tests.conftest import create_workspace
from tests.factories import NOW, T0, event, joined, posted

ISO_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


def export(engine: Engine, ws: WorkspaceInfo, kind: str, fmt: str, header: str = "labels") -> bytes:
    out = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, fmt, out, header=header)
    return out.getvalue()


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode()), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def lived(engine: Engine, workspace: WorkspaceInfo) -> WorkspaceInfo:
    """A member who joined, spoke, bought and has a profile with a custom field."""
    do_ingest_events(
        engine,
        workspace,
        [
            joined("u-1", at=T0, nickname="小明"),
            posted("u-1", "大家好", at=T0 + timedelta(minutes=5)),
            event(
                "order.paid",
                None,
                "u-1",
                T0 + timedelta(hours=1),
                order_id="o-1",
                amount_fen=1990,
            ),
        ],
    )
    with transaction(engine) as conn:
        do_define_custom_field(conn, workspace, CustomFieldIn(key="vip", label="会员等级"), now=NOW)
        do_upsert_profile(
            conn,
            workspace,
            "sandbox",
            "u-1",
            ProfileIn(name="王小明", city="上海", custom={"vip": "金卡"}),
            now=NOW,
        )
    return workspace


def test_headers_read_in_the_workspace_language_or_as_ids(
    engine: Engine, lived: WorkspaceInfo
) -> None:
    zh = csv_rows(export(engine, lived, "members", "csv"))[0]
    assert zh[:4] == ["平台", "成员ID", "昵称", "姓名"]
    assert "会员等级" in zh and "custom" not in zh  # a custom field is a column of its own
    ids = csv_rows(export(engine, lived, "members", "csv", header="ids"))[0]
    assert ids[:4] == ["channel", "member", "nickname", "name"] and "custom.vip" in ids
    with transaction(engine) as conn:
        english = do_apply_config(conn, lived.slug, {"workspace": {"locale": "en"}})
    en = csv_rows(export(engine, english, "members", "csv"))[0]
    assert en[:4] == ["Channel", "Member", "Nickname", "Name"]
    assert label("first_joined_at", "en") == "First joined at"


def test_times_are_the_workspace_zone_and_typed_in_xlsx(
    engine: Engine, lived: WorkspaceInfo
) -> None:
    header, row = csv_rows(export(engine, lived, "memberships", "csv", header="ids"))
    joined_at = row[header.index("joined_at")]
    assert joined_at == "2026-11-22 10:00:00"  # T0 in Asia/Shanghai, the workspace's zone
    book = openpyxl.load_workbook(io.BytesIO(export(engine, lived, "memberships", "xlsx")))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    labels = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=labels.index("入群时间") + 1)
    assert cell.value == datetime(2026, 11, 22, 10, 0) and cell.is_date
    letter = cell.column_letter
    assert sheet.column_dimensions[letter].width >= 19  # a whole time shows


def test_the_member_list_imports_back_as_it_was(engine: Engine, lived: WorkspaceInfo) -> None:
    data = export(engine, lived, "members", "csv")
    other = create_workspace(engine)
    with transaction(engine) as conn:
        do_define_custom_field(conn, other, CustomFieldIn(key="vip", label="会员等级"), now=NOW)
        report = do_import_members(conn, other, read_csv(data), now=NOW)
    assert (report.stored, report.problems) == (1, [])
    again = csv_rows(export(engine, other, "members", "csv"))
    before = dict(zip(*csv_rows(data), strict=True))
    after = dict(zip(*again, strict=True))
    for column in ("成员ID", "姓名", "城市", "会员等级"):
        assert after[column] == before[column], column
    assert after["会员等级"] == "金卡"


def test_a_members_text_never_becomes_a_formula(engine: Engine, workspace: WorkspaceInfo) -> None:
    do_ingest_events(engine, workspace, [joined("u-1", at=T0, nickname="=1+2")])
    header, row = csv_rows(export(engine, workspace, "members", "csv", header="ids"))
    assert row[header.index("nickname")] == "'=1+2"


def test_every_column_has_a_chinese_header_and_every_header_a_column() -> None:
    load_export_modules()
    columns = {c for kind in EXPORTS.values() for c in kind.columns}
    assert sorted(columns - set(ZH_CN)) == []
    assert sorted(set(ZH_CN) - columns) == []


def test_every_column_holding_instants_is_shown_in_the_zone(
    engine: Engine, lived: WorkspaceInfo
) -> None:
    """A new `…` column of times that the spreadsheet writer would not localise fails here."""
    load_export_modules()
    with engine.connect() as conn:
        for kind in EXPORTS.values():
            for row in kind.rows(conn, lived):
                for column, value in row.items():
                    if isinstance(value, str) and ISO_INSTANT.match(value):
                        assert is_time(column), (kind.name, column)
