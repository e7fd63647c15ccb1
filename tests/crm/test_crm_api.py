"""The CRM over HTTP and as `shequn members …` commands."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from shequn.community.service import do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.crm.api import router
from shequn.crm.cli import members_app
from shequn.platform.db import transaction
from shequn.settings import Settings, get_settings
from shequn.web.app import create_app
from tests.factories import NOW

CSV = (
    "客户ID,姓名,手机号,城市等级,标签\nc-1,王芳,13800138000,一线,老客\nc-2,李雷,13900001111,二线,\n"
)


@pytest.fixture
def client(settings: Settings, engine: Engine, workspace: WorkspaceInfo) -> TestClient:
    app = create_app(settings, engine)
    app.include_router(router)
    with transaction(engine) as conn:
        token = do_create_token(conn, workspace.slug, now=NOW)
    test_client = TestClient(app)
    test_client.headers["Authorization"] = f"Bearer {token}"
    test_client.base_url = test_client.base_url.join(f"/api/v1/workspaces/{workspace.slug}/crm/")
    return test_client


def test_import_profiles_tags_segments_and_export_over_http(client: TestClient) -> None:
    bad = CSV.replace("13900001111", "1390000")
    answer = client.post("import", params={"filename": "c.csv"}, content=bad.encode())
    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        {"row": 3, "column": "手机号", "message": answer.json()["problems"][0]["message"]}
    ]
    assert client.get("export", params={"format": "jsonl"}).content == b""
    answer = client.post("import", params={"filename": "c.csv"}, content=CSV.encode())
    assert answer.json()["stored"] == 2
    answer = client.patch("members/c-2", json={"gender": "male", "pains": ["价格高"]})
    assert answer.status_code == 200 and answer.json()["gender"] == "male"
    assert client.patch("members/c-2", json={"gender": "robot"}).status_code == 422
    assert client.post("members/c-2/tags", json={"tag": "宝妈"}).json()["added"]
    assert client.post("members/c-2/notes", json={"text": "喜欢低糖"}).status_code == 201
    assert [n["text"] for n in client.get("members/c-2/notes").json()] == ["喜欢低糖"]
    tags = {t["name"]: t["members"] for t in client.get("tags").json()}
    assert tags == {"老客": 1, "宝妈": 1}
    count = client.post("segments/count", json={"filter": {"field": "city_tier", "value": "tier1"}})
    assert count.json() == {"count": 1}
    wrong = client.post("segments/count", json={"filter": {"any": [{"behaviour": "hugs"}]}})
    assert wrong.status_code == 422 and wrong.json()["errors"]
    saved = client.put("segments/宝妈们", json={"filter": {"tag": "宝妈"}})
    assert saved.json()["count"] == 1
    assert client.get("segments/宝妈们/members").json() == [{"channel": "sandbox", "member": "c-2"}]
    exported = client.get("export", params={"format": "csv"}).content.decode("utf-8-sig")
    assert "138****8000" in exported and "13800138000" not in exported
    refused = client.get("export", params={"reveal_phones": True})
    assert refused.status_code == 403
    assert client.get("members/nobody").status_code == 404


def test_members_commands_import_and_export(
    settings: Settings,
    workspace: WorkspaceInfo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHEQUN_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    app = typer.Typer()
    app.add_typer(members_app, name="members")
    runner = CliRunner()
    source = tmp_path / "members.csv"
    source.write_bytes(CSV.replace("13900001111", "555").encode())
    result = runner.invoke(app, ["members", "import", str(source), "-w", workspace.slug])
    assert result.exit_code == 2
    assert "row 3, column 手机号" in result.stderr and "nothing stored" in result.stderr
    result = runner.invoke(
        app, ["members", "import", str(source), "-w", workspace.slug, "--skip-invalid"]
    )
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout.splitlines()[-1])["stored"] == 1
    result = runner.invoke(app, ["members", "export", "-w", workspace.slug, "-f", "jsonl"])
    assert orjson.loads(result.stdout)["phone"] == "138****8000"
    result = runner.invoke(app, ["members", "export", "-w", workspace.slug, "--reveal-phones"])
    assert result.exit_code == 2 and "allow_phone_export" in result.stderr
    filter_file = tmp_path / "seg.yaml"
    filter_file.write_text("field: city_tier\nvalue: 一线\n", encoding="utf-8")
    result = runner.invoke(
        app, ["members", "segment", "一线", str(filter_file), "-w", workspace.slug, "--members"]
    )
    assert orjson.loads(result.stdout)["members"] == ["sandbox:c-1"]
    get_settings.cache_clear()
