"""Command line of growth: `shequn campaign …`, `shequn report campaign ID`, `shequn livecode
…`, `shequn source …`, `shequn reward …`. Each command parses, then calls the services.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import yaml
from rich.table import Table

from shequn.cli_support import (
    UserError,
    WorkspaceOpt,
    current_settings,
    guarded,
    in_workspace,
    now,
    out,
    say,
)

campaign_app = typer.Typer(help="Campaigns and their fission models.", no_args_is_help=True)
report_app = typer.Typer(help="Reports.", no_args_is_help=True)
livecode_app = typer.Typer(help="Live codes 活码.", no_args_is_help=True)
source_app = typer.Typer(
    help="Acquisition sources 来源渠道 (store QR, ads, KOL …) with their cost and ROI.",
    no_args_is_help=True,
)
reward_app = typer.Typer(help="The reward ledger and staff review.", no_args_is_help=True)


def _json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


# --- campaign ------------------------------------------------------------------------------


@campaign_app.command("list")
def campaign_list(workspace: WorkspaceOpt = None) -> None:
    """Campaigns with their model and participant-cost warnings."""
    from shequn.growth.campaigns import list_campaigns

    listed = in_workspace(workspace, lambda conn, ws: list_campaigns(ws))
    table = Table("key", "model", "name", "reward value (¥)", "warnings")
    for c in listed:
        table.add_row(
            c["key"],
            c["model"],
            c["spec"]["name"],
            f"{c['reward_value_fen'] / 100:.2f}",
            "; ".join(c["warnings"]),
        )
    out.print(table)


@campaign_app.command("apply")
def campaign_apply(
    file: Annotated[Path, typer.Argument(help="YAML: a mapping of campaign key to campaign.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Create or replace the campaigns in a YAML file (all are checked before any is kept)."""
    from shequn.growth.campaigns import check_campaign, do_put_campaign
    from shequn.growth.livecode import check_key

    def apply(conn: Any, ws: Any) -> list[dict[str, Any]]:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise UserError(f"{file}: not valid YAML: {exc}".replace("\n", " ")) from exc
        if not isinstance(document, dict) or not document:
            raise UserError(f"{file}: expected a mapping of campaign key to campaign")
        for key, spec in document.items():
            check_key(str(key), "campaign")
            check_campaign(spec)
        described = []
        for key, spec in document.items():
            ws, one = do_put_campaign(conn, ws, str(key), spec)
            described.append(one)
        return described

    for c in in_workspace(workspace, apply, write=True):
        out.print(f"{c['key']}: {c['model']}")
        for w in c["warnings"]:
            out.print(f"  ! {w}", style="yellow")


@campaign_app.command("show")
def campaign_show(key: str, workspace: WorkspaceOpt = None) -> None:
    """One campaign as YAML."""
    from shequn.growth.campaigns import access_campaign

    spec = in_workspace(workspace, lambda conn, ws: access_campaign(ws, key))
    sys.stdout.write(
        yaml.safe_dump({key: spec.model_dump(mode="json", exclude_none=True)}, allow_unicode=True)
    )


@campaign_app.command("preset")
def campaign_preset(
    name: Annotated[str, typer.Argument(help="redpacket, stored_value, coupon or crowdfunding.")],
    key: Annotated[str, typer.Argument(help="Key of the new campaign.")],
) -> None:
    """Print a campaign made from a preset, ready for `campaign apply`."""
    from shequn.growth.campaigns import preset

    document = guarded(lambda: preset(name))
    sys.stdout.write(yaml.safe_dump({key: document}, allow_unicode=True, sort_keys=False))


@campaign_app.command("referrals")
def campaign_referrals(key: str, workspace: WorkspaceOpt = None) -> None:
    """The referral tree's layers, K-factor and leaderboard."""
    from shequn.growth.referrals import referral_graph

    graph = in_workspace(workspace, lambda conn, ws: referral_graph(conn, ws, key))
    graph.pop("edges")
    _json(graph)


@campaign_app.command("avatar")
def campaign_avatar(
    key: Annotated[str, typer.Argument(help="Campaign key.")],
    member: Annotated[str, typer.Argument(help="The participant.")],
    url: Annotated[str, typer.Argument(help="http(s) URL of the picture; '-' clears it.")],
    workspace: WorkspaceOpt = None,
    channel: Annotated[str, typer.Option(help="Chat platform of the member.")] = "sandbox",
) -> None:
    """Set the avatar a participant's poster draws (else the nickname's initial)."""
    from shequn.growth.posters import do_set_avatar

    avatar = None if url == "-" else url
    allow = current_settings().avatar_allow_private_hosts
    _json(
        in_workspace(
            workspace,
            lambda conn, ws: do_set_avatar(conn, ws, key, channel, member, avatar, now(), allow),
            write=True,
        )
    )


@campaign_app.command("close-vote")
def campaign_close_vote(key: str, workspace: WorkspaceOpt = None) -> None:
    """Close a vote: prizes by rank, claimed by adding the staff account."""
    from shequn.growth.fission import do_close_vote

    _json(in_workspace(workspace, lambda conn, ws: do_close_vote(conn, ws, key, now()), write=True))


# --- report --------------------------------------------------------------------------------


@report_app.command("campaign")
def report_campaign(
    key: Annotated[str, typer.Argument(help="Campaign key.")],
    workspace: WorkspaceOpt = None,
    html_: Annotated[
        Path | None, typer.Option("--html", help="Also write a page with charts.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Campaign review 复盘: every figure, as a table (or JSON), optionally an HTML page."""
    from shequn.growth.review import render_html, review, table_rows

    figures, locale = in_workspace(
        workspace, lambda conn, ws: (review(conn, ws, key, now=now()), ws.locale)
    )
    if json_:
        _json(figures)
    else:
        table = Table(title=f"{figures['name']} ({key})", show_header=False)
        table.add_column(justify="left")
        table.add_column(justify="right")
        for name, value in table_rows(figures, locale):
            table.add_row(name, value)
        out.print(table)
        for w in figures["warnings"]:
            out.print(f"! {w}", style="yellow")
    if html_ is not None:
        html_.write_text(render_html(figures, locale), encoding="utf-8")


# --- livecode and source -------------------------------------------------------------------


@livecode_app.command("create")
def livecode_create(
    code: str,
    workspace: WorkspaceOpt = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="Pool groups, in order.")
    ] = None,
    channel: Annotated[str, typer.Option(help="Chat platform of the groups.")] = "sandbox",
    state: Annotated[str | None, typer.Option(help="Attribution tag carried by joins.")] = None,
    source: Annotated[
        str | None, typer.Option(help="Acquisition source 来源渠道 (`shequn source set KEY`).")
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Campaign key.")] = None,
    blueprint: Annotated[
        str | None, typer.Option(help="Blueprint new groups are made from.")
    ] = None,
    base_name: Annotated[str | None, typer.Option(help="New groups: base name + number.")] = None,
    admissions: Annotated[int | None, typer.Option(help="Scans per group (default 200).")] = None,
    qr: Annotated[
        Path | None, typer.Option(help="Also write the printable QR code (PNG) to this file.")
    ] = None,
) -> None:
    """Create a live code with a pool of groups; prints its public URL (the workspace's
    growth.posters.base_url + /l/TOKEN) and can write its printable QR code."""
    from shequn.growth.livecode import do_create_code
    from shequn.growth.qr import qr_png

    def create(conn: Any, ws: Any) -> tuple[str, dict[str, Any]]:
        base = str(ws.config.growth.posters.base_url).rstrip("/")
        return base, do_create_code(
            conn,
            ws,
            code,
            channel=channel,
            state=state,
            source=source,
            campaign=campaign,
            blueprint=blueprint,
            base_name=base_name,
            groups_=list(group or []),
            admissions_cap=admissions,
            at=now(),
        )

    base, made = in_workspace(workspace, create, write=True)
    url = base + made["url"]
    if qr is not None:
        # Printed on a table card or a shop window: 20 pixels a module, a wide quiet zone.
        guarded(lambda: qr.write_bytes(qr_png(url, box=20, border=4)))
    sys.stdout.write(url + "\n")


@livecode_app.command("list")
def livecode_list(workspace: WorkspaceOpt = None) -> None:
    """Live codes with their pools."""
    from shequn.growth.livecode import list_codes

    _json(in_workspace(workspace, list_codes))


@livecode_app.command("add-group")
def livecode_add_group(
    code: str,
    group: str,
    workspace: WorkspaceOpt = None,
    url: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a group at the end of a code's pool."""
    from shequn.growth.livecode import do_add_group

    in_workspace(
        workspace,
        lambda conn, ws: do_add_group(conn, ws, code, group, join_url=url, at=now()),
        write=True,
    )


@livecode_app.command("group-url")
def livecode_group_url(code: str, group: str, url: str, workspace: WorkspaceOpt = None) -> None:
    """Set a pool group's join link (opens a group staff have just made)."""
    from shequn.growth.livecode import do_set_group_url

    in_workspace(
        workspace, lambda conn, ws: do_set_group_url(conn, ws, code, group, url), write=True
    )


@livecode_app.command("pause")
def livecode_pause(code: str, workspace: WorkspaceOpt = None) -> None:
    """Pause a live code: scans are refused until it is resumed."""
    from shequn.growth.livecode import do_set_code_active

    in_workspace(workspace, lambda conn, ws: do_set_code_active(conn, ws, code, False), write=True)
    _json({"code": code, "status": "paused"})


@livecode_app.command("resume")
def livecode_resume(code: str, workspace: WorkspaceOpt = None) -> None:
    """Resume a paused live code."""
    from shequn.growth.livecode import do_set_code_active

    in_workspace(workspace, lambda conn, ws: do_set_code_active(conn, ws, code, True), write=True)
    _json({"code": code, "status": "active"})


@livecode_app.command("close-group")
def livecode_close_group(code: str, group: str, workspace: WorkspaceOpt = None) -> None:
    """Take a group out of a code's pool; later scans go to the other groups."""
    from shequn.growth.livecode import do_close_group

    in_workspace(workspace, lambda conn, ws: do_close_group(conn, ws, code, group), write=True)
    _json({"code": code, "group": group, "status": "closed"})


@livecode_app.command("stats")
def livecode_stats(workspace: WorkspaceOpt = None) -> None:
    """Scans, unique scanners, joins and join rate per code."""
    from shequn.growth.livecode import code_stats

    table = Table("code", "source", "scans", "scanners", "joins", "new", "join rate")
    for s in in_workspace(workspace, code_stats):
        rate = "—" if s["join_rate"] is None else f"{s['join_rate']:.1%}"
        table.add_row(
            s["code"],
            s["source"] or "",
            *(str(s[k]) for k in ("scans", "scanners", "joins", "new")),
            rate,
        )
    out.print(table)


@source_app.command("set")
def source_set(
    key: str,
    workspace: WorkspaceOpt = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    kind: Annotated[str, typer.Option(help="poster, store, article, ads, partner …")] = "other",
    cost_fen: Annotated[int, typer.Option(min=0, help="What the source cost, in fen.")] = 0,
) -> None:
    """Create or update an acquisition source 来源渠道 and its cost."""
    from shequn.growth.livecode import do_upsert_source

    _json(
        in_workspace(
            workspace,
            lambda conn, ws: do_upsert_source(conn, ws, key, name, kind, cost_fen),
            write=True,
        )
    )


@source_app.command("list")
def source_list(workspace: WorkspaceOpt = None) -> None:
    """Sources with scans, joins, new members, cost, cost per new member and ROI."""
    from shequn.growth.livecode import source_stats

    _json(in_workspace(workspace, lambda conn, ws: source_stats(conn, ws, now=now())))


# --- reward --------------------------------------------------------------------------------


@reward_app.command("list")
def reward_list(
    workspace: WorkspaceOpt = None,
    status: Annotated[
        str | None, typer.Option(help="issued, review, rejected, reversed, paid.")
    ] = None,
    campaign: Annotated[str | None, typer.Option()] = None,
) -> None:
    """The reward ledger."""
    from shequn.growth.rewards import list_rewards

    for row in in_workspace(workspace, lambda conn, ws: list_rewards(conn, ws, status, campaign)):
        sys.stdout.write(orjson.dumps(row).decode() + "\n")


@reward_app.command("review")
def reward_review(
    reward_id: int,
    approve: Annotated[bool, typer.Option("--approve/--reject", help="The decision.")],
    workspace: WorkspaceOpt = None,
    by: Annotated[str, typer.Option(help="Who decides.")] = "staff",
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Approve or reject a reward waiting for review."""
    from shequn.growth.rewards import do_review

    _json(
        in_workspace(
            workspace,
            lambda conn, ws: do_review(
                conn, ws, reward_id, approve=approve, by=by, at=now(), note=note
            ),
            write=True,
        )
    )


@reward_app.command("reverse")
def reward_reverse(
    reward_id: int,
    workspace: WorkspaceOpt = None,
    by: Annotated[str, typer.Option(help="Who reverses it.")] = "staff",
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Reverse an issued or in-review reward: points are taken back, a coupon voided."""
    from shequn.growth.rewards import do_reverse

    _json(
        in_workspace(
            workspace,
            lambda conn, ws: do_reverse(conn, ws, reward_id, by=by, at=now(), note=note),
            write=True,
        )
    )


@reward_app.command("paid")
def reward_paid(
    ids: Annotated[list[int], typer.Argument(help="Reward ids paid out.")],
    workspace: WorkspaceOpt = None,
    by: Annotated[str, typer.Option()] = "staff",
) -> None:
    """Record cash / red-packet rewards as paid (the money moves outside Shequn)."""
    from shequn.growth.rewards import do_mark_paid

    done = in_workspace(
        workspace, lambda conn, ws: do_mark_paid(conn, ws, ids, by=by, at=now()), write=True
    )
    out.print(f"{done}")


# --- the old `shequn channel list|set`, joined to the chat platforms' `channel` group -----

channel_aliases = typer.Typer(no_args_is_help=True)


def _renamed(command: Callable[..., None], name: str) -> Callable[..., None]:
    """`command` of `shequn source`, first telling on stderr that `shequn channel NAME` is
    now `shequn source NAME` (the options stay the same)."""

    @functools.wraps(command)
    def alias(*args: Any, **kwargs: Any) -> None:
        sys.stderr.write(say("cli.renamed_command", old=f"channel {name}", new=f"source {name}"))
        sys.stderr.write("\n")
        command(*args, **kwargs)

    return alias


# Not click's `deprecated=True`: its notice is a second line, in English only.
channel_aliases.command("list", help="(已弃用 deprecated) Use `shequn source list` (来源渠道).")(
    _renamed(source_list, "list")
)
channel_aliases.command("set", help="(已弃用 deprecated) Use `shequn source set KEY` (来源渠道).")(
    _renamed(source_set, "set")
)
