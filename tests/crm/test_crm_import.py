"""Member import from CSV and XLSX: a bad file is reported by row and column and stores
nothing; --skip-invalid stores the good rows."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from shequn.community.workspace import WorkspaceInfo
from shequn.crm.importer import ImportRejected, do_import_members, read_csv, read_xlsx
from shequn.crm.models import member_tags, profiles
from shequn.crm.schemas import CustomFieldIn
from shequn.crm.service import access_profile, do_define_custom_field
from shequn.platform.db import transaction
from tests.factories import NOW

GOOD = (
    "客户ID,姓名,手机号,性别,城市,城市等级,标签,痛点\n"
    "c-001,王芳,138 0013 8000,女,杭州,新一线,老客、爱吃甜,太贵\n"
    "c-002,李雷,+86 139-0000-1111,男,上海,一线,,\n"
)


def stored(engine: Engine, ws: WorkspaceInfo) -> tuple[int, int]:
    with engine.connect() as conn:
        n_profiles = conn.execute(
            select(func.count()).select_from(profiles).where(profiles.c.workspace_id == ws.id)
        ).scalar_one()
        n_tags = conn.execute(
            select(func.count()).select_from(member_tags).where(member_tags.c.workspace_id == ws.id)
        ).scalar_one()
    return int(n_profiles), int(n_tags)


def run_import(engine: Engine, ws: WorkspaceInfo, table: Any, **kw: Any) -> Any:
    with transaction(engine) as conn:
        kw.setdefault("now", NOW)
        return do_import_members(conn, ws, table, kw.pop("mapping", None), **kw)


def test_a_good_csv_is_stored_with_phones_normalised_and_tags(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    progress: list[int] = []
    report = run_import(
        engine, workspace, read_csv(GOOD.encode("utf-8-sig")), progress=progress.append
    )
    assert report.summary()["stored"] == 2 and report.created == 2 and sum(progress) == 2
    with engine.connect() as conn:
        fang = access_profile(conn, workspace, "sandbox", "c-001")
        lei = access_profile(conn, workspace, "sandbox", "c-002")
    assert (fang["name"], fang["phone"], fang["gender"], fang["city_tier"]) == (
        "王芳",
        "13800138000",
        "female",
        "new_tier1",
    )
    assert fang["tags"] == ["爱吃甜", "老客"] and fang["pains"] == ["太贵"]
    assert (lei["phone"], lei["gender"], lei["city_tier"]) == ("13900001111", "male", "tier1")
    # A second import updates in place: nothing doubles.
    run_import(engine, workspace, read_csv(GOOD.encode()))
    assert stored(engine, workspace) == (2, 2)


def test_a_bad_file_names_every_row_and_column_and_stores_nothing(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    bad = (
        "客户ID,姓名,手机号,性别,学历\n"
        "c-001,王芳,13800138000,女,本科\n"
        "c-002,李雷,12345,男,本科\n"  # bad phone
        "c-001,韩梅梅,13900001111,女,本科\n"  # duplicate id
        "c-004,张三,13900002222,不详,大学\n"  # two bad choices
        ",无名,13900003333,男,本科\n"  # empty id
    )
    with pytest.raises(ImportRejected) as caught:
        run_import(engine, workspace, read_csv(bad.encode()))
    problems = {(p.row, p.column) for p in caught.value.problems}
    assert problems == {(3, "手机号"), (4, "客户ID"), (5, "性别"), (5, "学历"), (6, "客户ID")}
    assert "first on row 2" in str(next(p for p in caught.value.problems if p.row == 4).message)
    assert stored(engine, workspace) == (0, 0)


def test_skip_invalid_stores_the_good_rows(engine: Engine, workspace: WorkspaceInfo) -> None:
    data = "客户ID,手机号\nc-1,13800138000\nc-2,555\nc-3,13900001111\n".encode()
    report = run_import(engine, workspace, read_csv(data), skip_invalid=True)
    assert (report.stored, report.skipped) == (2, 1)
    assert [str(p) for p in report.problems] == [
        "row 3, column 手机号: '555' is not a Chinese mobile number (1[3-9] and 9 digits)"
    ]
    assert stored(engine, workspace) == (2, 0)


def test_missing_required_column_and_mapping(engine: Engine, workspace: WorkspaceInfo) -> None:
    data = "编号,姓名\nA1,王芳\n".encode()
    with pytest.raises(ImportRejected) as caught:
        run_import(engine, workspace, read_csv(data))
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (1, "member")
    assert "missing required column" in problem.message
    # The same file with a mapping goes in.
    report = run_import(engine, workspace, read_csv(data), mapping={"编号": "member"})
    assert report.stored == 1
    # A mapping naming a column the file lacks is an error even with --skip-invalid.
    with pytest.raises(ImportRejected) as caught:
        run_import(engine, workspace, read_csv(data), mapping={"手机": "phone"}, skip_invalid=True)
    assert caught.value.problems[0].column == "手机"


def test_wrong_encoding_names_the_row_and_column(engine: Engine, workspace: WorkspaceInfo) -> None:
    data = "客户ID,姓名\nc-1,王芳\nc-2,李雷\n".encode("gbk")
    with pytest.raises(ImportRejected) as caught:
        run_import(engine, workspace, read_csv(data))
    problems = caught.value.problems
    # The header is unreadable too, so columns are named by position.
    assert [(p.row, p.column) for p in problems] == [(1, "#1"), (2, "#2"), (3, "#2")]
    assert "GBK" in problems[0].message
    assert stored(engine, workspace) == (0, 0)
    # One row pasted in from elsewhere, in a UTF-8 file: row and header are named.
    mixed = (
        "客户ID,姓名,城市\nc-1,王芳,杭州\n".encode() + "c-2,李雷,".encode() + "上海\n".encode("gbk")
    )
    with pytest.raises(ImportRejected) as caught:
        run_import(engine, workspace, read_csv(mixed))
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "城市")]
    # Given the right encoding it imports.
    report = run_import(engine, workspace, read_csv(data, "gbk"))
    assert report.stored == 2


def test_xlsx_with_numbers_for_phones_and_custom_fields(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    with transaction(engine) as conn:
        do_define_custom_field(
            conn,
            workspace,
            CustomFieldIn(key="baby_age", label="宝宝月龄", type="number"),
            now=NOW,
        )
        do_define_custom_field(
            conn,
            workspace,
            CustomFieldIn(key="plan", label="会员方案", type="choice", choices=["年卡", "月卡"]),
            now=NOW,
        )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["会员ID", "手机", "宝宝月龄", "会员方案"])
    sheet.append(["v-1", 13800138000, 7, "年卡"])
    sheet.append(["v-2", 13900001111, "七个月", "周卡"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ImportRejected) as caught:
        run_import(engine, workspace, read_xlsx(buffer.getvalue()))
    assert {(p.row, p.column) for p in caught.value.problems} == {(3, "宝宝月龄"), (3, "会员方案")}
    report = run_import(engine, workspace, read_xlsx(buffer.getvalue()), skip_invalid=True)
    assert report.stored == 1
    with engine.connect() as conn:
        profile = access_profile(conn, workspace, "sandbox", "v-1")
    assert profile["phone"] == "13800138000"
    assert profile["custom"] == {"baby_age": 7, "plan": "年卡"}
