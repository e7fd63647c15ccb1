"""Domain errors over HTTP: each answers its own status as problem+json, in the workspace's
language (or the one asked for), and nothing unhandled leaks a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.service import do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.i18n import Texts
from shequn.platform.db import transaction
from shequn.platform.errors import ERRORS, DomainError, TooMany
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.factories import NOW, T0, joined

PROBLEM = "application/problem+json"


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    # A 500 must come back as a response, as a real server would answer it.
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def auth(engine: Engine, workspace: WorkspaceInfo) -> dict[str, str]:
    with transaction(engine) as conn:
        return {"Authorization": f"Bearer {do_create_token(conn, workspace.slug, now=NOW)}"}


def url(ws: WorkspaceInfo, path: str) -> str:
    return f"/api/v1/workspaces/{ws.slug}{path}"


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert isinstance(body, dict) and body["status"] == status
    assert body["code"] and body["title"] and body["detail"], body
    return body


def test_spending_more_points_than_a_member_has_is_a_conflict(
    client: TestClient, engine: Engine, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    do_ingest_events(engine, workspace, [joined("u-1", at=T0)])
    body = {"member": "u-1", "amount": 50, "reason": "兑换", "key": "k-1"}
    r = client.post(url(workspace, "/engagement/points/spend"), json=body, headers=auth)
    got = problem(r, 409)
    assert got["code"] == "engagement.points_short"
    assert "u-1" in str(got["detail"]) and "50" in str(got["detail"])


def test_a_reporter_over_the_limit_is_told_when_to_come_back(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    def report(message_id: str) -> Any:
        body = {"group": "g-1", "message_id": message_id, "author": "u-1", "reporter": "r-1"}
        return client.post(url(workspace, "/moderation/reports"), json=body, headers=auth)

    for i in range(5):  # the default: five reports an hour
        r = report(f"m-{i}")
        assert r.status_code == 200, r.text
    r = report("m-9")
    got = problem(r, 429)
    assert got["code"] == "moderation.reports_too_many"
    retry = int(r.headers["retry-after"])
    assert 0 < retry <= 3600 and got["retry_after"] == retry


@pytest.mark.parametrize(
    ("method", "path", "json", "status", "code"),
    [
        ("GET", "/moderation/words/nope", None, 404, "moderation.no_category"),
        ("PUT", "/campaigns/bad%20key", None, 422, "growth.bad_key"),
        ("PUT", "/sources/bad%20key", {}, 422, "growth.bad_key"),
        ("PUT", "/growth/channels/bad%20key", {}, 422, "growth.bad_key"),
        ("PUT", "/shops/bad%20key", {}, 422, "growth.bad_key"),
        ("POST", "/livecodes", {"code": "lc-1", "channel": ""}, 422, "growth.bad_channel"),
        ("POST", "/livecodes", {"code": "lc-1", "channel": "SANDBOX"}, 422, "growth.bad_channel"),
    ],
)
def test_bad_input_past_the_schema_is_a_domain_error_not_a_crash(
    client: TestClient,
    workspace: WorkspaceInfo,
    auth: dict[str, str],
    method: str,
    path: str,
    json: Any,
    status: int,
    code: str,
) -> None:
    r = client.request(method, url(workspace, path), json=json, headers=auth)
    assert problem(r, status)["code"] == code


def test_errors_speak_chinese_by_default_and_english_on_request(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    path = url(workspace, "/moderation/words/nope")
    zh = problem(client.get(path, headers=auth), 404)
    assert zh["title"] == "未找到" and "nope" in str(zh["detail"])
    assert "未知" in str(zh["detail"])
    en = problem(client.get(path, headers={**auth, "Accept-Language": "en-US,en;q=0.9"}), 404)
    assert en["title"] == "Not found" and str(en["detail"]).startswith("unknown category 'nope'")
    assert en["code"] == zh["code"]


def test_an_english_workspace_answers_in_english(
    client: TestClient, engine: Engine, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    from shequn.community.service import do_apply_config

    with transaction(engine) as conn:
        do_apply_config(conn, workspace.slug, {"workspace": {"locale": "en"}})
    path = url(workspace, "/moderation/words/nope")
    assert problem(client.get(path, headers=auth), 404)["title"] == "Not found"
    asked = client.get(path, headers={**auth, "Accept-Language": "zh-CN"})
    assert problem(asked, 404)["title"] == "未找到"


def _app_raising(settings: Settings, engine: Engine, exc: Exception) -> TestClient:
    """The real app with one more route that raises `exc`."""
    app = create_app(settings, engine)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


def test_an_unhandled_error_is_a_500_problem_that_leaks_nothing(
    settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "password=hunter2 in /srv/shequn/internal.py"
    with _app_raising(settings, engine, ValueError(secret)) as client:
        r = client.get("/boom")
    got = r.json()
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM
    assert got == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "",
        "code": "internal",
    }
    assert "hunter2" not in r.text and "Traceback" not in r.text and "ValueError" not in r.text
    assert "hunter2" in caplog.text  # the operator's log has it


@pytest.mark.parametrize("kind", ERRORS, ids=lambda k: k.__name__)
def test_every_domain_error_answers_its_status(
    settings: Settings, engine: Engine, kind: type[DomainError]
) -> None:
    texts = Texts({"demo.refused": {"zh-CN": "不行：{why}", "en": "refused: {why}"}})
    extra: dict[str, Any] = {"retry_after": 30} if kind is TooMany else {}
    with _app_raising(settings, engine, kind(texts, "demo.refused", why="x", **extra)) as client:
        zh = client.get("/boom")
        en = client.get("/boom", headers={"Accept-Language": "en;q=0.8, fr"})
    assert zh.status_code == en.status_code == kind.status
    assert zh.headers["content-type"] == PROBLEM
    assert (zh.json()["title"], zh.json()["detail"]) == (kind.title["zh-CN"], "不行：x")
    assert (en.json()["title"], en.json()["detail"]) == (kind.title["en"], "refused: x")
    assert zh.json()["code"] == "demo.refused"
    if kind is TooMany:
        assert zh.headers["retry-after"] == "30" and zh.json()["retry_after"] == 30


def test_the_cli_says_a_domain_error_on_one_line_in_its_locale(
    cli_settings: Settings, workspace: WorkspaceInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from shequn.cli import app
    from shequn.settings import get_settings

    runner = CliRunner()
    args = ["moderation", "words", "export", "nope", "-w", workspace.slug]
    for locale, reason in (
        ("zh-CN", "错误: 未知的词库分类「nope」"),
        ("en", "error: unknown category 'nope'"),
    ):
        monkeypatch.setenv("SHEQUN_LOCALE", locale)
        get_settings.cache_clear()
        done = runner.invoke(app, args)
        assert done.exit_code == 2, done.output
        (line,) = done.output.strip().splitlines()
        assert line.startswith(reason), line
