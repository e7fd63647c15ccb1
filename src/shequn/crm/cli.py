"""`shequn members …`: import and export members, profiles, tags, notes and segments."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import yaml
from rich.table import Table

from shequn.cli_support import (
    WorkspaceOpt,
    err,
    export_rows,
    find_workspace,
    guarded,
    now,
    open_engine,
    out,
    progress_bar,
)

members_app = typer.Typer(
    help="Members 客户: profiles, tags, segments, import, export.", no_args_is_help=True
)

ChannelOpt = Annotated[
    str, typer.Option(help="The members' chat platform (sandbox, wecom, telegram …).")
]


def _context(workspace: str | None) -> tuple[Any, Any]:

    engine = open_engine()
    return engine, guarded(lambda: find_workspace(engine, workspace))


def _echo(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        header, sep, target = pair.partition("=")
        if not sep or not header.strip() or not target.strip():
            err.print(f"error: --map {pair!r}: write Header=field", highlight=False)
            raise typer.Exit(2)
        mapping[header.strip()] = target.strip()
    return mapping


@members_app.command("import")
def import_members(
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file, one member per row.")],
    workspace: WorkspaceOpt = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="Header=field, e.g. 客户编号=member (repeatable)."),
    ] = None,
    channel: ChannelOpt = "sandbox",
    encoding: Annotated[str, typer.Option(help="Text encoding of a CSV (e.g. gbk).")] = "utf-8",
    skip_invalid: Annotated[
        bool, typer.Option(help="Store the good rows and list the bad ones.")
    ] = False,
) -> None:
    """Import members from CSV/XLSX. The whole file is checked first; a bad row stores nothing."""
    from shequn.crm.importer import ImportRejected, do_import_members, read_table
    from shequn.platform.db import transaction

    mapping = _mapping(map_ or [])
    engine, ws = _context(workspace)
    if not file.is_file():
        err.print(f"error: no such file: {file}", highlight=False)
        raise typer.Exit(2)
    try:
        table = guarded(lambda: read_table(file, encoding))
    except LookupError:
        err.print(f"error: unknown encoding {encoding!r}", highlight=False)
        raise typer.Exit(2) from None
    try:
        with progress_bar() as progress, transaction(engine) as conn:
            task = progress.add_task("import", total=len(table.rows))
            report = do_import_members(
                conn,
                ws,
                table,
                mapping,
                channel=channel,
                skip_invalid=skip_invalid,
                now=now(),
                progress=lambda n: progress.advance(task, n),
            )
    except ImportRejected as exc:
        sys.stderr.write(f"error: nothing stored: {len(exc.problems)} problem(s)\n")
        for problem in exc.problems[:200]:
            sys.stderr.write(f"  {problem}\n")
        raise typer.Exit(2) from None
    for problem in report.problems:
        sys.stderr.write(f"  skipped {problem}\n")
    sys.stdout.write(orjson.dumps(report.summary()).decode() + "\n")


@members_app.command("export")
def export_members(
    workspace: WorkspaceOpt = None,
    format_: Annotated[str, typer.Option("--format", "-f", help="csv, xlsx or jsonl.")] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
    header: Annotated[
        str, typer.Option(help="csv/xlsx headers: labels (workspace language) or ids.")
    ] = "labels",
    reveal_phones: Annotated[
        bool, typer.Option(help="Full phone numbers (needs crm.allow_phone_export).")
    ] = False,
) -> None:
    """Export members with profiles and tags (the same as `shequn export members`); phone
    numbers are masked unless revealed."""
    export_rows("members", workspace, format_, output, header, reveal_phones)


@members_app.command("show")
def show(member: str, workspace: WorkspaceOpt = None, channel: ChannelOpt = "sandbox") -> None:
    """A member's profile, first touch and tags."""
    from shequn.crm.service import access_profile

    engine, ws = _context(workspace)
    with engine.connect() as conn:
        _echo(guarded(lambda: access_profile(conn, ws, channel, member)))


@members_app.command("timeline")
def show_timeline(
    member: str,
    workspace: WorkspaceOpt = None,
    channel: ChannelOpt = "sandbox",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """A member's events, actions, notes and tags, newest first."""
    from shequn.crm.service import timeline

    engine, ws = _context(workspace)
    with engine.connect() as conn:
        items = timeline(conn, ws, channel, member, limit)
    table = Table()
    for name in ("at", "what", "type", "group", "data"):
        table.add_column(name)
    for item in items:
        data = orjson.dumps(item["data"]).decode()
        table.add_row(item["at"], item["what"], item["type"], item["group"] or "", data[:80])
    out.print(table)


@members_app.command("tag")
def tag(
    member: str,
    tag_name: Annotated[str, typer.Argument(metavar="TAG")],
    workspace: WorkspaceOpt = None,
    channel: ChannelOpt = "sandbox",
    remove: Annotated[bool, typer.Option("--remove", help="Take the tag off.")] = False,
) -> None:
    """Put a tag on a member (or take it off)."""
    from shequn.crm.service import do_tag_member, do_untag_member
    from shequn.platform.db import transaction

    engine, ws = _context(workspace)
    with transaction(engine) as conn:
        if remove:
            changed = do_untag_member(conn, ws, channel, member, tag_name)
        else:
            changed = do_tag_member(conn, ws, channel, member, tag_name, now=now())
    _echo({"member": member, "tag": tag_name, "changed": changed})


@members_app.command("note")
def note(
    member: str,
    text: str,
    workspace: WorkspaceOpt = None,
    channel: ChannelOpt = "sandbox",
    author: Annotated[str, typer.Option(help="Who interviewed.")] = "staff",
) -> None:
    """Add an interview note to a member."""
    from shequn.crm.schemas import NoteIn
    from shequn.crm.service import do_add_note
    from shequn.platform.db import transaction

    engine, ws = _context(workspace)
    with transaction(engine) as conn:
        _echo(do_add_note(conn, ws, channel, member, NoteIn(text=text, author=author), now=now()))


@members_app.command("segment")
def segment(
    name: str,
    file: Annotated[
        Path | None, typer.Argument(help="YAML/JSON filter tree to save (omit to show).")
    ] = None,
    workspace: WorkspaceOpt = None,
    members: Annotated[bool, typer.Option("--members", help="List who is in it.")] = False,
) -> None:
    """Save a segment from a filter file, or show its live count (and members)."""
    from pydantic import ValidationError

    from shequn.crm.service import access_segment, count_filter, do_save_segment, segment_members
    from shequn.platform.db import transaction

    engine, ws = _context(workspace)
    if file is not None:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
            with transaction(engine) as conn:
                do_save_segment(conn, ws, name, document, now=now())
        except (yaml.YAMLError, OSError) as exc:
            err.print(f"error: {file}: {exc}", highlight=False)
            raise typer.Exit(2) from None
        except ValidationError as exc:
            sys.stderr.write(f"error: filter rejected ({exc.error_count()} problems)\n")
            for e in exc.errors(include_url=False):
                sys.stderr.write(f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}\n")
            raise typer.Exit(2) from None
    at = now()
    with engine.connect() as conn:
        saved = guarded(lambda: access_segment(conn, ws, name))
        result: dict[str, Any] = {**saved, "count": count_filter(conn, ws, saved["filter"], now=at)}
        if members:
            result["members"] = [f"{c}:{m}" for c, m in segment_members(conn, ws, name, now=at)]
    _echo(result)
