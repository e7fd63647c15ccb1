"""`shequn channel connect | status | sync | disconnect | rotate-key` as a user types them,
against the local fake WeCom server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine

from shequn.channels.connections.service import connection_views
from shequn.community.workspace import WorkspaceInfo
from shequn.settings import Settings
from tests.channels.fake_wecom import Chat, FakeWecom, Member
from tests.channels.wecom_kit import AES_KEY, TOKEN
from tests.cli.helpers import in_process


@pytest.fixture
def fake() -> Iterator[FakeWecom]:
    server = FakeWecom().start()
    chat = Chat("wr-1", "一群", "staff-zhang", 1733000000)
    chat.members = {"wm-a": Member("wm-a", 1733000100, name="A")}
    server.chats["wr-1"] = chat
    yield server
    server.stop()


def shequn(
    settings: Settings, cwd: Path, *args: str, stdin: bytes | None = None
) -> tuple[int, bytes, str]:
    return in_process(settings.database_url, cwd, args, stdin=stdin)


def connect_args(ws: WorkspaceInfo, fake: FakeWecom, api_base: str | None = None) -> list[str]:
    return [
        "channel", "connect", "wecom", "-w", ws.slug, "--corp-id", fake.corp_id,
        "--agent-id", "1000002", "--token", TOKEN, "--aes-key", AES_KEY, "--secret-stdin",
        "--api-base", api_base or fake.base,
    ]  # fmt: skip


def test_connect_status_sync_disconnect(
    settings: Settings, workspace: WorkspaceInfo, engine: Engine, fake: FakeWecom, tmp_path: Path
) -> None:
    code, out, err = shequn(settings, tmp_path, *connect_args(workspace, fake),
                            stdin=f"{fake.secret}\n".encode())  # fmt: skip
    assert code == 0, err
    assert b"WeCom API: reachable" in out and fake.secret.encode() not in out
    assert (tmp_path / "var" / "secret.key").stat().st_mode & 0o077 == 0  # owner only

    code, out, err = shequn(settings, tmp_path, "channel", "sync", "wecom", "-w", workspace.slug)
    assert code == 0, err
    assert orjson.loads(out)["events"] == {"group.created": 1, "member.joined": 1}
    code, out, err = shequn(settings, tmp_path, "channel", "sync", "wecom", "-w", workspace.slug)
    assert code == 0 and orjson.loads(out)["accepted"] == 0

    code, out, err = shequn(settings, tmp_path, "channel", "status", "-w", workspace.slug)
    assert code == 0, err
    status = orjson.loads(out)["connections"][0]
    assert status["channel"] == "wecom" and status["reachable"] is True
    assert status["last_sync"]["groups"] == 1
    for secret in (fake.secret, AES_KEY, TOKEN, "token-1"):
        assert secret.encode() not in out

    code, out, err = shequn(settings, tmp_path, "channel", "disconnect", "wecom", "-w",
                            workspace.slug)  # fmt: skip
    assert code == 0, err
    with engine.connect() as conn:
        assert connection_views(conn, workspace.id) == []
    code, out, err = shequn(settings, tmp_path, "channel", "disconnect", "wecom", "-w",
                            workspace.slug)  # fmt: skip
    assert code == 2 and "wecom" in err


def test_connect_stores_the_credentials_when_wecom_cannot_be_reached(
    settings: Settings, workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    fake = FakeWecom()  # never started: nothing listens on its port
    args = connect_args(workspace, fake, api_base="http://127.0.0.1:9/cgi-bin/")
    code, out, err = shequn(settings, tmp_path, *args, stdin=b"app-secret\n")
    fake.server.server_close()
    assert code == 0, err
    assert b"not reachable" in out
    code, out, err = shequn(settings, tmp_path, "channel", "status", "-w", workspace.slug)
    status = orjson.loads(out)["connections"][0]
    assert status["reachable"] is False
    assert status["errors"][-1]["what"] == "check"
    assert status["settings"] == {"corp_id": fake.corp_id, "agent_id": 1000002,
                                  "api_base": "http://127.0.0.1:9/cgi-bin/"}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (["--aes-key", "short"], "EncodingAESKey"),
        (["--token", "not a token!"], "token"),
        (["--api-base", "ftp://x"], "api base"),
    ],
)
def test_bad_settings_are_refused_in_one_line_and_store_nothing(
    settings: Settings,
    workspace: WorkspaceInfo,
    engine: Engine,
    fake: FakeWecom,
    tmp_path: Path,
    change: list[str],
    says: str,
) -> None:
    args = connect_args(workspace, fake)
    index = args.index(change[0])
    args[index + 1] = change[1]
    code, _, err = shequn(settings, tmp_path, *args, stdin=b"app-secret\n")
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1
    with engine.connect() as conn:
        assert connection_views(conn, workspace.id) == []


def test_the_secret_comes_from_stdin_only(
    settings: Settings, workspace: WorkspaceInfo, fake: FakeWecom, tmp_path: Path
) -> None:
    args = [a for a in connect_args(workspace, fake) if a != "--secret-stdin"]
    code, _, err = shequn(settings, tmp_path, *args)
    assert code == 2 and "--secret-stdin" in err


def test_rotate_key_with_the_key_file(
    settings: Settings, workspace: WorkspaceInfo, fake: FakeWecom, tmp_path: Path
) -> None:
    shequn(settings, tmp_path, *connect_args(workspace, fake), stdin=b"app-secret\n")
    key_file = tmp_path / "var" / "secret.key"
    before = key_file.read_text()
    code, out, err = shequn(settings, tmp_path, "channel", "rotate-key")
    assert code == 0, err
    assert re.search(rb"re-encrypted \d+ connection", out)
    after = key_file.read_text()
    assert after != before and len(after.split()) == 1  # the old key is gone
    code, out, err = shequn(settings, tmp_path, "channel", "sync", "wecom", "-w", workspace.slug)
    assert code == 0, err  # the secrets open with the new key alone


def test_the_old_channel_aliases_still_work(
    settings: Settings, workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    code, _, err = shequn(settings, tmp_path, "channel", "list", "-w", workspace.slug)
    assert code == 0, err
    assert "source" in err  # deprecated: it says what to use instead
