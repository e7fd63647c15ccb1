"""The `shequn` command. Each command parses, then calls the same services the API uses."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from shequn.cli_support import WorkspaceOpt, now
from shequn.community.config import ConfigRejected
from shequn.events import BatchRejected
from shequn.i18n import t
from shequn.platform.errors import DomainError
from shequn.settings import get_settings

app = typer.Typer(
    name="shequn",
    help="Shequn 社群 — community operations for WeCom, Telegram and sandbox groups.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
workspace_app = typer.Typer(help="Workspaces (one per brand).", no_args_is_help=True)
config_app = typer.Typer(help="Workspace configuration as YAML.", no_args_is_help=True)
token_app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
app.add_typer(config_app, name="config")
app.add_typer(token_app, name="token")


def _mount_domains() -> None:
    from shequn.analytics.cli import report_app
    from shequn.commerce import cli as commerce
    from shequn.crm.cli import members_app
    from shequn.engagement.cli import points_app
    from shequn.growth import cli as growth
    from shequn.moderation.cli import moderation_app

    app.add_typer(moderation_app, name="moderation")
    app.add_typer(members_app, name="members")
    app.add_typer(points_app, name="points")
    # One `report` command: the analytics figures and the campaign review.
    report_app.command("campaign")(growth.report_campaign)
    app.add_typer(report_app, name="report")
    for sub, name in (
        (growth.campaign_app, "campaign"),
        (growth.livecode_app, "livecode"),
        (growth.channel_app, "channel"),
        (growth.reward_app, "reward"),
        (commerce.order_app, "order"),
        (commerce.coupon_app, "coupon"),
        (commerce.commission_app, "commission"),
        (commerce.promoter_app, "promoter"),
        (commerce.shop_app, "shop"),
    ):
        app.add_typer(sub, name=name)


_mount_domains()

err = Console(stderr=True)
out = Console()


T = TypeVar("T")


class UserError(Exception):
    """Bad input: reported on one line, exit status 2."""


def _say(key: str, **values: Any) -> str:
    return t(key, get_settings().locale, **values)


def _fail(message: str, details: Iterable[str] = ()) -> None:
    sys.stderr.write(f"{_say('cli.error')}: {message}\n")
    for line in details:
        sys.stderr.write(f"  {line}\n")
    raise typer.Exit(2)


def guarded(fn: Callable[[], T]) -> T:
    """Turn the services' domain errors into a one-line reason (in SHEQUN_LOCALE) and exit
    status 2. Anything else, a bare ValueError included, is a bug and keeps its traceback."""
    try:
        return fn()
    except BatchRejected as exc:
        _fail(_say("cli.nothing_stored", detail=exc), [str(e) for e in exc.errors[:50]])
    except ConfigRejected as exc:
        _fail(_say("cli.config_rejected", count=len(exc.errors)), [str(e) for e in exc.errors])
    except DomainError as exc:
        _fail(exc.message(get_settings().locale))
    except UserError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))
    raise AssertionError("unreachable")


def _engine() -> Any:
    from shequn.platform.db import get_engine
    from shequn.platform.migrate import upgrade

    settings = get_settings()
    if settings.sqlite_path() is not None:
        upgrade(settings)  # the embedded default needs no separate migrate step
    return get_engine(settings)


def _workspace(engine: Any, name: str | None) -> Any:
    from shequn.community.service import list_workspaces, load_workspace

    if name is None:
        with engine.connect() as conn:
            names = list_workspaces(conn)
        if len(names) != 1:
            raise UserError(
                "say which workspace with --workspace"
                + (
                    f" (one of: {', '.join(names)})"
                    if names
                    else " (none yet: shequn workspace create NAME)"
                )
            )
        name = names[0]
    return load_workspace(engine, name)


def parse_when(value: str) -> datetime:
    """An ISO 8601 instant with a UTC offset, or 'now'."""
    if value == "now":
        return now()
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserError(f"not an ISO 8601 time: {value!r}") from exc
    if when.tzinfo is None:
        raise UserError(f"time {value!r} needs a UTC offset (e.g. +08:00 or Z)")
    return when.astimezone(UTC)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command()
def migrate() -> None:
    """Apply database migrations (SHEQUN_DATABASE_URL)."""
    from shequn.platform.migrate import upgrade

    upgrade(get_settings())
    out.print(_say("cli.migrated"))


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(help="Short name: lowercase letters, digits, - or _.")],
    display_name: Annotated[str | None, typer.Option(help="Brand name shown to people.")] = None,
) -> None:
    """Create a workspace with the default configuration."""
    from shequn.community.service import do_create_workspace
    from shequn.platform.db import transaction

    engine = _engine()

    def run() -> None:
        with transaction(engine) as conn:
            do_create_workspace(conn, name, display_name, now=now())

    guarded(run)
    out.print(_say("cli.workspace_created", name=name))


@workspace_app.command("list")
def workspace_list() -> None:
    """List workspaces."""
    from shequn.community.service import list_workspaces

    with _engine().connect() as conn:
        for name in list_workspaces(conn):
            out.print(name)


@config_app.command("apply")
def config_apply(
    file: Annotated[Path, typer.Argument(help="YAML file with configuration sections.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Validate a configuration file and make it the workspace's configuration."""
    from shequn.community.service import do_apply_config
    from shequn.platform.db import transaction

    engine = _engine()

    def run() -> None:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise UserError(f"{file}: not valid YAML: {exc}".replace("\n", " ")) from exc
        ws = _workspace(engine, workspace)
        with transaction(engine) as conn:
            do_apply_config(conn, ws.slug, document, check_references=True)

    guarded(run)
    out.print(_say("cli.config_applied"))


@config_app.command("show")
def config_show(
    workspace: WorkspaceOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="JSON instead of YAML.")] = False,
) -> None:
    """Print the effective configuration (defaults plus what was applied)."""
    from shequn.community.service import effective_config_document

    engine = _engine()
    ws = guarded(lambda: _workspace(engine, workspace))
    doc = effective_config_document(ws)
    if json_:
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


@token_app.command("create")
def token_create(
    workspace: WorkspaceOpt = None,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "admin",
) -> None:
    """Create a bearer token for the API, scoped to one workspace."""
    from shequn.community.service import do_create_token
    from shequn.platform.db import transaction

    engine = _engine()

    def run() -> str:
        ws = _workspace(engine, workspace)
        with transaction(engine) as conn:
            return do_create_token(conn, ws.slug, name, now=now())

    sys.stdout.write(guarded(run) + "\n")


def _file_lines(source: str) -> Callable[[], Iterator[tuple[int, bytes]]]:
    if source == "-":
        buffered = sys.stdin.buffer.read().splitlines()

        def from_stdin() -> Iterator[tuple[int, bytes]]:
            yield from enumerate(buffered, start=1)

        return from_stdin
    path = Path(source)
    if not path.is_file():
        raise UserError(f"no such file: {source}")

    def from_file() -> Iterator[tuple[int, bytes]]:
        with path.open("rb") as fh:
            yield from enumerate(fh, start=1)

    return from_file


@app.command()
def ingest(
    source: Annotated[str, typer.Argument(help="A JSON-lines file of events, or - for stdin.")],
    workspace: WorkspaceOpt = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Store the valid lines and list the invalid ones.")
    ] = False,
    batch_size: Annotated[
        int | None, typer.Option(min=1, max=100_000, help="Events per commit [default: 20000].")
    ] = None,
) -> None:
    """Ingest events. The whole input is validated first; a bad line stores nothing."""
    from shequn.engine.ingest import DEFAULT_BATCH
    from shequn.engine.service import do_ingest_lines

    engine = _engine()

    def run() -> Any:
        ws = _workspace(engine, workspace)
        lines = _file_lines(source)
        total = sum(1 for _ in lines())
        with _progress() as progress:
            task = progress.add_task("ingest", total=total)
            return do_ingest_lines(
                engine,
                ws,
                lines,
                skip_invalid=skip_invalid,
                batch_size=batch_size or DEFAULT_BATCH,
                progress=lambda n: progress.advance(task, n),
            )

    report = guarded(run)
    summary = report.summary()
    sys.stdout.write(orjson.dumps(summary).decode() + "\n")


@app.command()
def tick(
    until: Annotated[str, typer.Option(help="Run due work up to this time (ISO 8601 or now).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the scheduler (welcomes, holds, cleanups …) and deliver due actions up to a time."""
    from shequn.worker import run_due_work

    engine = _engine()
    when = guarded(lambda: parse_when(until))
    named = None if workspace is None else [workspace]
    work = guarded(lambda: run_due_work(engine, get_settings(), when, workspaces=named, drain=True))
    sys.stdout.write(orjson.dumps({"jobs": work.jobs, "actions": work.actions}).decode() + "\n")


@app.command()
def export(
    kind: Annotated[
        str,
        typer.Argument(
            help="members, memberships, groups, actions, events, points, checkins, levels, "
            "violations, banlist, profiles, member_tags, orders, coupons, commissions, "
            "rewards, referrals, scans … (an unknown kind lists them all)."
        ),
    ],
    workspace: WorkspaceOpt = None,
    format_: Annotated[str, typer.Option("--format", "-f", help="jsonl, csv or xlsx.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
) -> None:
    """Export rows in a stable order."""
    from shequn.exports import check_export, write_export

    engine = _engine()
    guarded(lambda: check_export(kind, format_))
    ws = guarded(lambda: _workspace(engine, workspace))
    if format_ == "xlsx" and output is None and sys.stdout.isatty():
        _fail("xlsx is binary: give --output FILE")
    with engine.connect() as conn:
        if output is not None:
            guarded(lambda: _export_to_file(conn, ws, kind, format_, output))
        else:
            write_export(conn, ws, kind, format_, sys.stdout.buffer)
            sys.stdout.buffer.flush()


def _export_to_file(conn: Any, ws: Any, kind: str, fmt: str, output: Path) -> None:
    """Write to a temporary file beside the target, then rename: never half a file."""
    import os
    import tempfile

    from shequn.exports import write_export

    try:
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    except OSError as exc:
        raise UserError(f"{output}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            write_export(conn, ws, kind, fmt, fh)
        os.replace(tmp, output)
    except OSError as exc:
        os.unlink(tmp)
        raise UserError(f"{output}: {exc.strerror}") from exc
    except BaseException:
        os.unlink(tmp)
        raise


@app.command()
def simulate(
    workspace: WorkspaceOpt = None,
    groups: Annotated[int, typer.Option(min=1, max=1000, help="Groups in the world.")] = 5,
    members: Annotated[int, typer.Option(min=1, max=1_000_000, help="People who arrive.")] = 500,
    days: Annotated[int, typer.Option(min=1, max=365, help="Days of community life.")] = 28,
    seed: Annotated[int, typer.Option(help="Same seed, same world.")] = 1,
    start: Annotated[str, typer.Option(help="First day (ISO 8601 with offset).")] = (
        "2026-10-01T00:00:00+08:00"
    ),
) -> None:
    """Generate a believable world and push it through ingestion (seeded, reproducible)."""
    from shequn.simulate.service import do_simulate

    engine = _engine()

    def run() -> Any:
        ws = _workspace(engine, workspace)
        with _progress() as progress:
            task = progress.add_task("simulate", total=None)
            return do_simulate(
                engine,
                ws,
                groups=groups,
                members=members,
                days=days,
                seed=seed,
                start=parse_when(start),
                progress=lambda n: progress.advance(task, n),
            )

    report = guarded(run)
    sys.stdout.write(orjson.dumps(report.summary()).decode() + "\n")


@app.command()
def backtest(
    config: Annotated[Path, typer.Option("--config", help="Candidate configuration (YAML).")],
    workspace: WorkspaceOpt = None,
    since: Annotated[str | None, typer.Option(help="Replay from this time (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Replay up to this time (ISO 8601).")] = None,
    examples: Annotated[int, typer.Option(min=0, max=100, help="Examples per rule.")] = 3,
    json_: Annotated[bool, typer.Option("--json", help="The whole report as JSON.")] = False,
) -> None:
    """Replay recorded history with another configuration; report what would change per rule.

    Live state is not touched: both the live and the candidate configuration are replayed
    into a scratch database and their decisions compared.
    """
    from rich.table import Table

    from shequn.engine.backtest import run_backtest

    engine = _engine()

    def run() -> Any:
        try:
            document = yaml.safe_load(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{config}: {exc}") from exc
        except yaml.YAMLError as exc:
            raise UserError(f"{config}: not valid YAML: {exc}".replace("\n", " ")) from exc
        ws = _workspace(engine, workspace)
        return run_backtest(
            engine,
            ws,
            document,
            since=parse_when(since) if since else None,
            until=parse_when(until) if until else None,
        )

    report = guarded(run)
    summary = report.summary(examples)
    if json_:
        sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(title=f"backtest: {report.events:,} events replayed")
    for column in ("rule", "live", "candidate", "added", "dropped", "changed"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for r in summary["rules"]:
        table.add_row(
            r["rule"], str(r["baseline"]), str(r["candidate"]),
            str(r["added"]), str(r["dropped"]), str(r["changed"]),
        )  # fmt: skip
    out.print(table)
    for r in summary["rules"]:
        for what in ("added", "dropped"):
            for ex in r["examples"][what]:
                out.print(
                    f"{what:>7} {r['rule']} {ex['kind']} {ex['member'] or ''} "
                    f"@{ex['group'] or ''}: {ex['reason']}",
                    highlight=False,
                    markup=False,
                )
    if not report.differences:
        out.print("no differences")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
) -> None:
    """Serve the API (and console) with the in-process worker."""
    from shequn.web.server import run_server

    _engine()
    settings = get_settings()
    run_server(host or settings.host, port or settings.port, in_process_worker=True)


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Drain what is queued, then stop.")] = False,
) -> None:
    """A separate worker: consumes the Redis bus, runs the scheduler and the outbox."""
    from shequn.worker import run_worker

    _engine()
    settings = get_settings()
    run_worker(settings, settings.clock(), once=once)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen port.")] = 8000,
    days: Annotated[int, typer.Option(min=1, max=120, help="Days to simulate.")] = 21,
    serve_: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after.")] = True,
) -> None:
    """A demo workspace with a few simulated weeks, served on 127.0.0.1."""
    from shequn.community.service import do_create_token
    from shequn.platform.db import transaction
    from shequn.simulate.service import ensure_demo

    engine = _engine()
    started = now()
    with _progress() as progress:
        task = progress.add_task("simulating community life", total=None)
        ws, report = ensure_demo(
            engine, started, days=days, progress=lambda n: progress.advance(task, n)
        )
    with transaction(engine) as conn:
        token = do_create_token(conn, ws.slug, "demo admin", now=started)
    from shequn.engine.ingest import tick as run_tick

    run_tick(engine, ws, started + timedelta(seconds=1))
    base = f"http://{host}:{port}"
    events = report.accepted + report.duplicates
    lines = [
        _say("cli.demo_ready", name=ws.slug, events=f"{events:,}"),
        f"{_say('cli.demo_url')}: {base}",
        f"{_say('cli.demo_docs')}: {base}/docs",
        f"{_say('cli.demo_token')}: {token}",
        f"{_say('cli.demo_try')}: curl -H 'Authorization: Bearer {token}' "
        f"{base}/api/v1/workspaces/{ws.slug}/groups",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    if serve_:
        from shequn.web.server import run_server

        run_server(host, port, in_process_worker=True)


@app.command()
def bench(
    workloads: Annotated[list[str] | None, typer.Argument(help="Workloads (default all).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Only the JSON lines.")] = False,
    size: Annotated[
        int | None, typer.Option(help="Events per workload (default: each workload's own).")
    ] = None,
    batch: Annotated[
        int | None, typer.Option(min=1, help="Events per transaction for `ingest`.")
    ] = None,
) -> None:
    """Run benchmark workloads; one JSON line each with rate, baseline and ratio."""
    from shequn.bench import WORKLOADS, run_workload

    names = workloads or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        _fail(f"unknown workload {unknown[0]!r}; choose from {', '.join(WORKLOADS)}")
    for name in names:
        options = {"size": size, "batch": batch}
        for result in run_workload(name, **{k: v for k, v in options.items() if v}):
            sys.stdout.write(orjson.dumps(result).decode() + "\n")
            sys.stdout.flush()
            if not json_:
                figure = result.get("figure", result["workload"])
                err.print(f"{figure}: ratio {result.get('ratio')}", highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
