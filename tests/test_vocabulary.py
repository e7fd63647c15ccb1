"""One meaning per word: `channel` is a chat platform (sandbox, WeCom, Telegram), and the
acquisition sources 来源渠道 members come from (a store QR, an ads campaign, a KOL) are
`source`s — in the command line, the API, the configuration and every exported column. The
old names of the sources' commands, paths and options still work for one release, and say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from shequn.analytics.service import REPORTS, Options, check_period, run_report
from shequn.cli import COMMAND_GROUPS, app
from shequn.cli_support import load_group
from shequn.community.service import do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.config import WorkspaceConfig
from shequn.crm.exports import MEMBER_COLUMNS
from shequn.exports import EXPORTS, load_export_modules
from shequn.platform.db import transaction
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.factories import NOW

CHAT_PLATFORM = re.compile(r"platform|sandbox", re.IGNORECASE)
"""How the help of an option named `channel` must describe it."""


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as c:
        yield c


@pytest.fixture
def auth(engine: Engine, workspace: WorkspaceInfo) -> dict[str, str]:
    with transaction(engine) as conn:
        return {"Authorization": f"Bearer {do_create_token(conn, workspace.slug, now=NOW)}"}


# --- The API ----------------------------------------------------------------------------------


def test_the_old_source_paths_answer_the_same_and_say_they_are_deprecated(
    client: TestClient, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    base = f"/api/v1/workspaces/{workspace.slug}"
    body = {"name": "门店二维码", "kind": "store", "cost_fen": 10_000}
    old = client.put(f"{base}/growth/channels/store", json=body, headers=auth)
    assert old.status_code == 200, old.text
    assert old.json() == {"key": "store", "name": "门店二维码", "kind": "store", "cost_fen": 10_000}
    assert old.headers["deprecation"] == "true"
    assert old.headers["link"] == f'<{base}/sources/store>; rel="successor-version"'
    new = client.put(f"{base}/sources/store", json=body, headers=auth)
    assert new.json() == old.json() and "deprecation" not in new.headers

    listed_old = client.get(f"{base}/growth/channels", headers=auth)
    listed_new = client.get(f"{base}/sources", headers=auth)
    assert listed_old.status_code == listed_new.status_code == 200
    assert listed_old.json() == listed_new.json()
    assert [s["source"] for s in listed_new.json()] == ["store"]
    assert listed_old.headers["link"] == f'<{base}/sources>; rel="successor-version"'
    assert "deprecation" not in listed_new.headers

    operations = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    ws = "/api/v1/workspaces/{ws}"
    assert operations[f"{ws}/growth/channels"]["get"]["deprecated"] is True
    assert operations[f"{ws}/growth/channels/{{key}}"]["put"]["deprecated"] is True
    assert "deprecated" not in operations[f"{ws}/sources"]["get"]
    # The operations keep their ids, so a generated client keeps its methods.
    ids = {
        operations[f"{ws}/growth/channels"]["get"]["operationId"],
        operations[f"{ws}/sources"]["get"]["operationId"],
        operations[f"{ws}/growth/channels/{{key}}"]["put"]["operationId"],
        operations[f"{ws}/sources/{{key}}"]["put"]["operationId"],
    }
    assert ids == {
        "growth_get_channels",
        "growth_get_sources",
        "growth_put_channel",
        "growth_put_source",
    }


def test_the_funnel_breakdown_by_channel_is_the_breakdown_by_source(
    client: TestClient, cli_settings: Settings, workspace: WorkspaceInfo, auth: dict[str, str]
) -> None:
    base = f"/api/v1/workspaces/{workspace.slug}/reports/funnel"
    old = client.get(base, params={"by": "channel"}, headers=auth).json()
    new = client.get(base, params={"by": "source"}, headers=auth).json()
    assert old == new and new["meta"]["by"] == "source"

    runner = CliRunner()
    args = ["report", "funnel", "--json", "-w", workspace.slug, "--by"]
    by_channel = runner.invoke(app, [*args, "channel"])
    by_source = runner.invoke(app, [*args, "source"])
    assert by_channel.exit_code == by_source.exit_code == 0, by_channel.output
    assert by_channel.stdout == by_source.stdout
    assert by_channel.stderr.splitlines() == [
        "提示：--by channel 已更名为 --by source（来源渠道），旧写法将在下一版本停用"
    ]
    assert by_source.stderr == ""


# --- No `channel` for a source ----------------------------------------------------------------


def _properties(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            yield from _properties(value)
    elif isinstance(node, list):
        for value in node:
            yield from _properties(value)


def test_no_path_schema_or_configuration_key_calls_a_source_a_channel(
    client: TestClient,
) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    current = [
        path
        for path, item in spec["paths"].items()
        if "channel" in path.replace("{channel}", "")
        and not all(op.get("deprecated") for op in item.values())
    ]
    # A path about channels is about a chat platform: `/channels/<platform>/…`, or the list
    # of connected ones `…/channels` (and a `{channel}` in a path is a member's chat platform
    # beside the member's id).
    platform = r"/channels(/(sandbox|wecom|telegram|\{)|$)"
    assert [p for p in current if not re.search(platform, p)] == []
    # Every answer and body: `channel` is a member's or a group's chat platform, nothing else.
    names = set(_properties(spec["components"]["schemas"]))
    assert {n for n in names if "channel" in n} <= {"channel"}
    for schema in ("SourceOut", "SourceStatsOut", "ReviewSourceCost", "ReviewOut"):
        assert "channel" not in spec["components"]["schemas"][schema]["properties"], schema
    assert "source" in spec["components"]["schemas"]["SourceStatsOut"]["properties"]
    # The configuration.
    config_keys = set(_properties(WorkspaceConfig.model_json_schema()))
    assert "sources" in config_keys
    assert {n for n in config_keys if "channel" in n} == set()


def _commands(group: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in sorted(group.commands.items()):
        if not path and name in COMMAND_GROUPS:
            command = load_group(name, COMMAND_GROUPS[name][1])
        yield (*path, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))


def test_no_command_or_option_calls_a_source_a_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEQUN_LOCALE", "en")  # the helps as written (the message ids)
    root = typer.main.get_command(app)
    for path, command in _commands(root, ()):
        where = " ".join(path)
        if path[0] == "channel" and len(path) > 1 and path[1] in ("list", "set"):
            # For one release the old names of `source`'s commands live beside the chat
            # platforms' own (connect, status, sync …).
            help_ = command.help or ""
            assert help_.startswith("(已弃用 deprecated)") and "shequn source" in help_, where
        for param in command.params:
            names = [*param.opts, param.name or ""]
            if any("channel" in n for n in names):
                assert param.opts == ["--channel"], where
                assert CHAT_PLATFORM.search(getattr(param, "help", "") or ""), where
            if "acquisition" in (getattr(param, "help", "") or "").lower():
                assert not any("channel" in n for n in names), where
    assert {"list", "set"} <= set(load_group("source", COMMAND_GROUPS["source"][1]).commands)


def test_no_export_or_report_column_calls_a_source_a_channel(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    load_export_modules()
    columns = {(f"export {kind}", c) for kind, e in EXPORTS.items() for c in e.columns}
    columns |= {("members export", c) for c in MEMBER_COLUMNS}
    period = check_period(workspace, None, None, now=NOW)
    for name in REPORTS:
        options = Options(by="source") if name == "funnel" else Options()
        report = run_report(engine, workspace, name, period, options)
        columns |= {(f"report {name}", c.key) for c in report.columns}
        assert orjson.dumps(report.meta).find(b"channel") == -1, name
    # `channel` names the chat platform of a member or group row, beside its id.
    with_channel = {where for where, c in columns if c == "channel"}
    assert {c for _, c in columns if "channel" in c} <= {"channel"}
    assert "report roi" not in with_channel
    assert ("report roi", "source") in columns
