"""`shequn channel …`: the chat platforms 聊天平台 (sandbox, WeCom, Telegram) a workspace
talks through. `channel` means a chat platform only; acquisition sources 来源渠道 are
`shequn source …`. Here: connect, status, disconnect, sync and rotate-key; the group also
holds growth's old `channel list` / `channel set`, deprecated, for one release (joined from
`shequn.growth.cli:channel_aliases`).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer

from shequn.cli_support import WorkspaceOpt, current_settings, fail, guarded, now, open_engine

channel_app = typer.Typer(
    help="Chat platforms 聊天平台 (sandbox, WeCom, Telegram).", no_args_is_help=True
)

CONNECTABLE = ("wecom",)


@channel_app.callback()
def channels() -> None:
    """Chat platforms 聊天平台 (sandbox, WeCom, Telegram)."""


def _platform(channel: str) -> str:
    if channel not in CONNECTABLE:
        from shequn.channels.connections.texts import say

        fail(say("channels.unknown_channel", current_settings().locale, channel=channel,
                 choices=", ".join(CONNECTABLE)))  # fmt: skip
    return channel


def _echo(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


ChannelArg = Annotated[str, typer.Argument(help="The chat platform: wecom.")]


@channel_app.command("connect")
def connect(
    platform: ChannelArg,
    workspace: WorkspaceOpt = None,
    corp_id: Annotated[str, typer.Option("--corp-id", help="The corp id (企业ID).")] = "",
    agent_id: Annotated[int, typer.Option("--agent-id", help="The self-built app's AgentId.")] = -1,
    token: Annotated[str, typer.Option("--token", help="The callback Token.")] = "",
    aes_key: Annotated[
        str, typer.Option("--aes-key", help="The callback EncodingAESKey (43 characters).")
    ] = "",
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="Read the app's Secret from standard input.")
    ] = False,
    api_base: Annotated[
        str | None, typer.Option("--api-base", help="Another API server (default: WeCom's).")
    ] = None,
) -> None:
    """Connect a workspace to a WeCom self-built app. Secrets are stored encrypted and never
    printed; the credentials are kept even when WeCom cannot be reached now."""
    _platform(platform)
    from shequn.channels.connections.keyring import keyring
    from shequn.channels.wecom.connection import check_app
    from shequn.channels.wecom.service import do_connect_wecom
    from shequn.cli_support import find_workspace

    if not secret_stdin:
        fail("--secret-stdin: give the app's Secret on standard input (never as an argument)")
    secret = sys.stdin.readline().strip()
    app = guarded(lambda: check_app(corp_id, agent_id, token, aes_key, secret, api_base))
    engine = open_engine()
    ws = guarded(lambda: find_workspace(engine, workspace))
    keys = guarded(lambda: keyring(current_settings()))
    checked = guarded(lambda: do_connect_wecom(engine, ws, app, keys=keys, now=now()))
    sys.stdout.write(f"connected {ws.slug} to WeCom corp {app.corp_id} (app {app.agent_id})\n")
    sys.stdout.write(f"callback URL: …/channels/wecom/{ws.slug}/callback\n")
    if checked.reachable:
        sys.stdout.write("WeCom API: reachable, credentials accepted\n")
    else:
        sys.stdout.write(
            f"WeCom API: not reachable now ({checked.reason}); the credentials are stored, "
            "`shequn channel status` shows the error\n"
        )


@channel_app.command("status")
def status(workspace: WorkspaceOpt = None) -> None:
    """What is connected, the last callback and sync, and recent errors (never a secret)."""
    from shequn.channels.connections.service import connection_views
    from shequn.cli_support import find_workspace

    engine = open_engine()
    ws = guarded(lambda: find_workspace(engine, workspace))
    with engine.connect() as conn:
        views = connection_views(conn, ws.id)
    _echo({"workspace": ws.slug, "connections": views})


@channel_app.command("disconnect")
def disconnect(platform: ChannelArg, workspace: WorkspaceOpt = None) -> None:
    """Remove the stored credentials and the cached access token."""
    from shequn.channels.connections.service import do_disconnect
    from shequn.cli_support import in_workspace

    in_workspace(workspace, lambda conn, ws: do_disconnect(conn, ws.id, platform), write=True)
    sys.stdout.write(f"disconnected {platform}\n")


@channel_app.command("sync")
def sync(platform: ChannelArg, workspace: WorkspaceOpt = None) -> None:
    """Fetch every customer group and member and turn what changed into events; running it
    again adds nothing."""
    _platform(platform)
    from shequn.channels.base import ChannelError
    from shequn.channels.connections.keyring import keyring
    from shequn.channels.wecom.service import do_sync_wecom
    from shequn.cli_support import find_workspace

    engine = open_engine()
    ws = guarded(lambda: find_workspace(engine, workspace))
    keys = guarded(lambda: keyring(current_settings()))
    try:
        report = guarded(lambda: do_sync_wecom(engine, ws, keys=keys, now=now()))
    except ChannelError as exc:
        fail(f"WeCom: {exc}")
    _echo(report.public())


@channel_app.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored secret with the first key. With SHEQUN_SECRET_KEY: put the new
    key first (new,old), run this, then drop the old one. With the key file: a new key is
    made and the old one removed once everything is re-encrypted."""
    from shequn.channels.connections.keyring import (
        Keyring,
        key_file,
        keyring,
        new_key,
        write_key_file,
    )
    from shequn.channels.connections.service import do_rotate
    from shequn.platform.db import transaction

    settings = current_settings()
    engine = open_engine()
    if settings.secret_key is not None:
        keys = guarded(lambda: keyring(settings))
        with transaction(engine) as conn:
            done = guarded(lambda: do_rotate(conn, keys))
        sys.stdout.write(f"re-encrypted {done.resealed} connection(s) with key {keys.primary_id}\n")
        _unreadable(done.unreadable)
        return
    path = key_file(settings)
    old = guarded(lambda: keyring(settings))
    fresh = new_key()
    # New key first, old ones kept until every row is re-sealed: a stop half-way loses nothing.
    kept = path.read_text(encoding="ascii").split()
    write_key_file(path, [fresh, *kept])
    keys = Keyring.parse(path.read_text(encoding="ascii"))
    with transaction(engine) as conn:
        done = guarded(lambda: do_rotate(conn, keys))
    # What the old keys could not open, they never will: dropping them loses nothing.
    write_key_file(path, [fresh])
    sys.stdout.write(
        f"re-encrypted {done.resealed} connection(s): key {old.primary_id} → {keys.primary_id}\n"
    )
    _unreadable(done.unreadable)


def _unreadable(rows: list[tuple[int, str]]) -> None:
    if rows:
        named = ", ".join(f"workspace #{ws} {channel}" for ws, channel in rows)
        sys.stderr.write(
            f"no configured key opens these connections; connect them again: {named}\n"
        )
