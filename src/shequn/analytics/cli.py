"""`shequn report …`: each analytic as a terminal table, JSON, a PNG chart or an HTML page.

The main command joins growth's `report campaign` to these (`shequn.cli.COMMAND_GROUPS`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from shequn.analytics.report import Report, cell, label
from shequn.analytics.service import Options, check_period, run_report
from shequn.cli_support import (
    WorkspaceOpt,
    current_settings,
    fail,
    find_workspace,
    guarded,
    now,
    open_engine,
    out,
    say,
)

report_app = typer.Typer(
    help="Reports 数据报表: funnel, retention, health, ROI, levels, persona, KOL …",
    no_args_is_help=True,
)

SinceOpt = Annotated[
    str | None, typer.Option(help="First day, YYYY-MM-DD in the workspace's time zone.")
]
UntilOpt = Annotated[str | None, typer.Option(help="Last day (default today).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]
PngOpt = Annotated[Path | None, typer.Option("--png", help="Also write the chart as PNG.")]
HtmlOpt = Annotated[Path | None, typer.Option("--html", help="Also write an HTML page.")]


def print_table(report: Report, locale: str) -> None:
    period = report.period
    table = Table(title=f"{report.title(locale)}  {period.since} – {period.until}")
    for column in report.columns:
        numeric = column.fmt in ("int", "pct", "fen", "float")
        table.add_column(label(column.key, locale), justify="right" if numeric else "left")
    for row in report.rows:
        table.add_row(*(cell(row.get(c.key), c.fmt, locale) for c in report.columns))
    out.print(table)
    for key, value in report.meta.items():
        if value is not None:
            out.print(f"{label(key, locale)}: {value}", highlight=False)
    for note in report.note_texts(locale):
        out.print(note, highlight=False)


def _run(
    name: str,
    workspace: str | None,
    since: str | None,
    until: str | None,
    json_: bool,
    png: Path | None,
    html: Path | None,
    options: Options,
) -> None:
    engine = open_engine()

    def run() -> Report:
        ws = find_workspace(engine, workspace)
        return run_report(engine, ws, name, check_period(ws, since, until, now=now()), options)

    report = guarded(run)
    locale = current_settings().locale
    if json_:
        sys.stdout.write(orjson.dumps(report.to_json()).decode() + "\n")
    else:
        print_table(report, locale)
    if png is not None or html is not None:
        from shequn.analytics import charts

        if png is not None:
            png.write_bytes(charts.png(report, locale))
        if html is not None:
            html.write_text(charts.page(report, locale), encoding="utf-8")


@report_app.command()
def funnel(
    workspace: WorkspaceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    by: Annotated[
        str | None, typer.Option(help="Breakdown: source 来源渠道, campaign, group or cohort.")
    ] = None,
    json_: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
) -> None:
    """AARRR funnel 漏斗: joined → activated → retained → revenue → referral."""
    from shequn.analytics.funnel import RENAMED_BREAKDOWNS, breakdown_named

    if by in RENAMED_BREAKDOWNS:
        new = RENAMED_BREAKDOWNS[by]
        sys.stderr.write(say("cli.renamed_option", old=f"--by {by}", new=f"--by {new}") + "\n")
    breakdown = breakdown_named(by) if by else None
    if by and breakdown is None:
        _bad(f"--by must be source, campaign, group or cohort, not {by!r}")
    _run("funnel", workspace, since, until, json_, png, html, Options(by=breakdown))


@report_app.command()
def retention(
    workspace: WorkspaceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    unit: Annotated[str, typer.Option(help="day or week.")] = "week",
    mode: Annotated[str, typer.Option(help="first (first join) or recurring.")] = "first",
    measure: Annotated[str, typer.Option(help="on or on_or_after.")] = "on",
    json_: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
) -> None:
    """Retention cohorts 留存 by day or week."""
    for value, allowed in ((unit, ("day", "week")), (mode, ("first", "recurring"))):
        if value not in allowed:
            _bad(f"{value!r}: choose {' or '.join(allowed)}")
    if measure not in ("on", "on_or_after"):
        _bad(f"{measure!r}: choose on or on_or_after")
    options = Options(unit=unit, mode=mode, measure=measure)  # type: ignore[arg-type]
    _run("retention", workspace, since, until, json_, png, html, options)


@report_app.command()
def health(
    workspace: WorkspaceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    group: Annotated[str | None, typer.Option(help="One group's id.")] = None,
    json_: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
) -> None:
    """Group health 群健康度 per day: members, speakers, messages, joins, leaves, stage."""
    _run("health", workspace, since, until, json_, png, html, Options(group=group))


@report_app.command()
def persona(
    workspace: WorkspaceOpt = None,
    segment: Annotated[str | None, typer.Option(help="A saved segment (default all).")] = None,
    until: UntilOpt = None,
    json_: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
) -> None:
    """Persona 用户画像 of a segment: profile distributions, common tags and pains."""
    _run("persona", workspace, until, until, json_, png, html, Options(segment=segment))


@report_app.command()
def kol(
    workspace: WorkspaceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Board size.")] = 20,
    json_: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
) -> None:
    """KOL board 挖掘KOL: answers, replies and mentions received, consistency, tenure."""
    _run("kol", workspace, since, until, json_, png, html, Options(limit=limit))


def _plain_command(name: str, doc: str) -> None:
    def command(
        workspace: WorkspaceOpt = None,
        since: SinceOpt = None,
        until: UntilOpt = None,
        json_: JsonOpt = False,
        png: PngOpt = None,
        html: HtmlOpt = None,
    ) -> None:
        _run(name, workspace, since, until, json_, png, html, Options())

    command.__doc__ = doc
    report_app.command(name)(command)


for _name, _doc in (
    ("roi", "Source ROI 渠道ROI: cost and revenue of the members each source brought."),
    ("levels", "Orbit levels 成员等级 per month and movement up and down."),
    ("gravity", "Community gravity 社群引力 per month (love × reach)."),
    ("cohorts", "Preset cohorts: new and active; recently inactive top members."),
    ("moderation", "Moderation figures 风控: violations by rule, reverted share."),
    ("points", "Points economy 积分经济: issued vs spent by kind."),
):
    _plain_command(_name, _doc)


def _bad(message: str) -> Any:
    fail(message)
