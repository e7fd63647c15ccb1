"""The `shequn` command. Each command parses, then calls the same services the API uses.

This module imports only what every start needs (Typer and `cli_support`); each command
imports its own work when it runs, and the domains' command groups are listed in `COMMAND_GROUPS`
and imported only when used, so `shequn --help` starts at once.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from shequn.cli_support import (
    LazyGroup,
    UserError,
    WorkspaceOpt,
    check_port_free,
    current_settings,
    err,
    export_everything,
    export_rows,
    fail,
    find_workspace,
    guarded,
    in_workspace,
    latest,
    now,
    open_engine,
    out,
    parse_when,
    progress_bar,
    report_crash,
    say,
    workspace_names,
)
from shequn.platform.domain import Domain, install

COMMAND_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "moderation": (
        "Moderation 群风控: violations, ban list, spam samples, word lists.",
        ("shequn.moderation.cli:moderation_app",),
    ),
    "members": (
        "Members 客户: profiles, tags, segments, import, export.",
        ("shequn.crm.cli:members_app",),
    ),
    "points": (
        "Points 积分: leaderboards and redemptions.",
        ("shequn.engagement.cli:points_app",),
    ),
    # One `report` command: the analytics figures and the campaign review.
    "report": (
        "Reports 数据报表: funnel, retention, health, ROI, levels, persona, KOL …",
        ("shequn.analytics.cli:report_app", "shequn.growth.cli:report_app"),
    ),
    "campaign": ("Campaigns and their fission models.", ("shequn.growth.cli:campaign_app",)),
    "livecode": ("Live codes 活码.", ("shequn.growth.cli:livecode_app",)),
    "source": (
        "Acquisition sources 来源渠道 (store QR, ads, KOL …) with their cost and ROI.",
        ("shequn.growth.cli:source_app",),
    ),
    # `channel` is a chat platform only (it keeps `list`/`set` as deprecated aliases of
    # `source` for one release).
    "channel": (
        "Chat platforms 聊天平台 (sandbox, WeCom, Telegram).",
        ("shequn.channels.cli:channel_app", "shequn.growth.cli:channel_aliases"),
    ),
    "reward": ("The reward ledger and staff review.", ("shequn.growth.cli:reward_app",)),
    "order": ("Orders and refunds.", ("shequn.commerce.cli:order_app",)),
    "coupon": ("Coupons 优惠券.", ("shequn.commerce.cli:coupon_app",)),
    "commission": (
        "Distribution commissions 分销佣金.",
        ("shequn.commerce.cli:commission_app",),
    ),
    "promoter": (
        "Promoters 分销员: enrol, tier, disable.",
        ("shequn.commerce.cli:promoter_app",),
    ),
    "shop": ("Shops that call the order webhook.", ("shequn.commerce.cli:shop_app",)),
}
"""The domains' command groups: name → (the one-line help `shequn --help` shows, the Typer
apps that make the group). A static copy of what the domains' descriptors declare
(`shequn.domains.command_groups()`), so that `shequn --help` imports no domain; tests/cli
checks that the two agree and each help against its app."""


class ShequnCommands(LazyGroup):
    lazy = COMMAND_GROUPS


app = typer.Typer(
    name="shequn",
    help="Shequn 社群 — community operations for WeCom, Telegram and sandbox groups.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=ShequnCommands,
)
workspace_app = typer.Typer(help="Workspaces (one per brand).", no_args_is_help=True)
config_app = typer.Typer(help="Workspace configuration as YAML.", no_args_is_help=True)
token_app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)
user_app = typer.Typer(
    help="People who sign in to the console, and their roles.", no_args_is_help=True
)


@app.callback()
def _install_domains() -> None:
    # Before any command: the domains this program is made of. Resolved when a command first
    # needs them, so a command that needs none (`workspace list`) imports none.
    install(_domains)


def _domains() -> tuple[Domain, ...]:
    from shequn.domains import DOMAINS  # imports every domain's descriptor: only when asked

    return DOMAINS


app.add_typer(workspace_app, name="workspace")
app.add_typer(config_app, name="config")
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")


@app.command()
def migrate() -> None:
    """Apply database migrations (SHEQUN_DATABASE_URL)."""
    from shequn.platform.migrate import upgrade

    upgrade(current_settings())
    out.print(say("cli.migrated"))


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(help="Short name: lowercase letters, digits, - or _.")],
    display_name: Annotated[str | None, typer.Option(help="Brand name shown to people.")] = None,
) -> None:
    """Create a workspace with the default configuration."""
    from shequn.community.service import do_create_workspace
    from shequn.platform.db import transaction

    engine = open_engine()

    def run() -> None:
        with transaction(engine) as conn:
            do_create_workspace(conn, name, display_name, now=now())

    guarded(run)
    out.print(say("cli.workspace_created", name=name))


@workspace_app.command("delete")
def workspace_delete(
    name: Annotated[str, typer.Argument(help="The workspace to delete, with all its data.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    export_dir: Annotated[
        Path, typer.Option(help="Where every export is written first, one jsonl file a kind.")
    ] = Path("var/exports"),
    export: Annotated[
        bool, typer.Option("--export/--no-export", help="Export everything before deleting.")
    ] = True,
) -> None:
    """Delete a workspace and all its data, after exporting everything (asks to confirm)."""
    from shequn.community.service import do_delete_workspace
    from shequn.platform.db import transaction

    engine = open_engine()
    ws = guarded(lambda: find_workspace(engine, name))
    if not yes:
        if not sys.stdin.isatty():
            fail(say("cli.delete_needs_yes", name=name))
        typed = typer.prompt(say("cli.delete_confirm", name=name), default="", show_default=False)
        if typed.strip() != name:
            fail(say("cli.delete_not_confirmed"))
    saved = None
    if export:
        stamp = now().strftime("%Y%m%dT%H%M%S")
        saved = guarded(lambda: export_everything(engine, ws, export_dir / f"{name}-{stamp}"))
        sys.stderr.write(say("cli.delete_exported", path=saved) + "\n")

    def run() -> None:
        with transaction(engine) as conn:
            do_delete_workspace(conn, ws)

    guarded(run)
    from shequn.analytics.store import forget

    forget(engine, ws)  # the kept analytics store goes with the workspace
    sys.stdout.write(
        orjson.dumps({"deleted": name, "export": None if saved is None else str(saved)}).decode()
        + "\n"
    )


@workspace_app.command("list")
def workspace_list() -> None:
    """List workspaces."""
    for name in guarded(workspace_names):
        out.print(name)


@config_app.command("apply")
def config_apply(
    file: Annotated[Path, typer.Argument(help="YAML file with configuration sections.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Validate a configuration file and make it the workspace's configuration."""
    import yaml

    from shequn.community.service import do_apply_config
    from shequn.config.renames import renamed_keys_in
    from shequn.platform.db import transaction

    engine = open_engine()

    def run() -> None:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise UserError(f"{file}: not valid YAML: {exc}".replace("\n", " ")) from exc
        ws = find_workspace(engine, workspace)
        with transaction(engine) as conn:
            do_apply_config(conn, ws.slug, document, check_references=True)
        for renamed in renamed_keys_in(document):
            sys.stderr.write(say("cli.renamed_key", old=renamed.old_path, new=renamed.new_path))
            sys.stderr.write("\n")

    guarded(run)
    out.print(say("cli.config_applied"))


@config_app.command("show")
def config_show(
    workspace: WorkspaceOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="JSON instead of YAML.")] = False,
) -> None:
    """Print the effective configuration (defaults plus what was applied)."""
    import yaml

    from shequn.community.service import effective_config_document

    engine = open_engine()
    ws = guarded(lambda: find_workspace(engine, workspace))
    doc = effective_config_document(ws)
    if json_:
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


@token_app.command("create")
def token_create(
    workspace: WorkspaceOpt = None,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "admin",
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Days until the token stops working (default never).")
    ] = None,
) -> None:
    """Create a bearer token for the API, scoped to one workspace (shown once)."""
    from shequn.community.service import do_create_token
    from shequn.platform.db import transaction

    engine = open_engine()
    at = now()
    expires = None if expires_in_days is None else at + timedelta(days=expires_in_days)

    def run() -> str:
        ws = find_workspace(engine, workspace)
        with transaction(engine) as conn:
            return do_create_token(conn, ws.slug, name, now=at, expires_at=expires)

    sys.stdout.write(guarded(run) + "\n")


@token_app.command("list")
def token_list(workspace: WorkspaceOpt = None) -> None:
    """The workspace's tokens, one JSON line each: id, name, first characters, state."""
    from shequn.community.service import list_tokens

    at = now()
    tokens = in_workspace(workspace, lambda conn, ws: list_tokens(conn, ws, now=at))
    for token in tokens:
        sys.stdout.write(orjson.dumps(token).decode() + "\n")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (shequn token list).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Revoke a token: the API refuses it from now on."""
    from shequn.community.service import do_revoke_token

    at = now()
    token = in_workspace(
        workspace, lambda conn, ws: do_revoke_token(conn, ws, token_id, now=at), write=True
    )
    sys.stdout.write(orjson.dumps(token).decode() + "\n")


RoleOpt = Annotated[
    str, typer.Option(help="owner, admin, operator, staff (their own groups) or viewer (reads).")
]


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The person's email: they sign in with it.")],
    workspace: WorkspaceOpt = None,
    role: RoleOpt = "operator",
    name: Annotated[str | None, typer.Option(help="Their name, as colleagues know it.")] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from stdin (never from the command line).")
    ] = False,
) -> None:
    """Give a person a role in a workspace; a new person gets an account with a password."""
    from shequn.community.accounts import do_create_user

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else ""
    at = now()
    made = in_workspace(
        workspace,
        lambda conn, ws: do_create_user(conn, ws, email, password, role, now=at, name=name),
        write=True,
    )
    sys.stdout.write(orjson.dumps(made).decode() + "\n")


@user_app.command("list")
def user_list(workspace: WorkspaceOpt = None) -> None:
    """The people of a workspace with their role, one JSON line each."""
    from shequn.community.accounts import list_users

    for person in in_workspace(workspace, list_users):
        sys.stdout.write(orjson.dumps(person).decode() + "\n")


@user_app.command("set-role")
def user_set_role(
    email: Annotated[str, typer.Argument(help="The person's email.")],
    role: Annotated[str, typer.Argument(help="owner, admin, operator, staff or viewer.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Change a person's role in a workspace."""
    from shequn.community.accounts import do_set_role

    done = in_workspace(workspace, lambda c, ws: do_set_role(c, ws, email, role), write=True)
    sys.stdout.write(orjson.dumps(done).decode() + "\n")


@user_app.command("disable")
def user_disable(
    email: Annotated[str, typer.Argument(help="The person's email.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Disable a person's account: they cannot sign in, and their sessions end now."""
    from shequn.community.accounts import do_disable_user

    at = now()
    done = in_workspace(workspace, lambda c, ws: do_disable_user(c, ws, email, now=at), write=True)
    sys.stdout.write(orjson.dumps(done).decode() + "\n")


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

    engine = open_engine()

    def run() -> Any:
        ws = find_workspace(engine, workspace)
        lines = _file_lines(source)
        total = sum(1 for _ in lines())
        with progress_bar() as bar:
            task = bar.add_task("ingest", total=total)
            return do_ingest_lines(
                engine,
                ws,
                lines,
                skip_invalid=skip_invalid,
                batch_size=batch_size or DEFAULT_BATCH,
                progress=lambda n: bar.advance(task, n),
                latest=latest(),
            )

    report = guarded(run)
    summary = report.summary()
    if report.accepted + report.duplicates == 0 and not report.skipped:
        sys.stderr.write(say("cli.empty_input", source=source) + "\n")
    sys.stdout.write(orjson.dumps(summary).decode() + "\n")


@app.command()
def tick(
    until: Annotated[str, typer.Option(help="Run due work up to this time (ISO 8601 or now).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the scheduler (welcomes, holds, cleanups …) and deliver due actions up to a time."""
    from shequn.worker import run_due_work

    engine = open_engine()
    when = guarded(lambda: parse_when(until))
    named = None if workspace is None else [workspace]
    work = guarded(
        lambda: run_due_work(engine, current_settings(), when, workspaces=named, drain=True)
    )
    sys.stdout.write(orjson.dumps({"jobs": work.jobs, "actions": work.actions}).decode() + "\n")


@app.command()
def export(
    kind: Annotated[
        str,
        typer.Argument(
            help="members, memberships, groups, actions, events, points, checkins, levels, "
            "violations, banlist, member_tags, orders, coupons, commissions, "
            "rewards, referrals, scans … (an unknown kind lists them all)."
        ),
    ],
    workspace: WorkspaceOpt = None,
    format_: Annotated[str, typer.Option("--format", "-f", help="jsonl, csv or xlsx.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
    header: Annotated[
        str,
        typer.Option(
            help="csv/xlsx headers: labels (in the workspace's language) or ids (stable "
            "column ids, for scripts)."
        ),
    ] = "labels",
    reveal_phones: Annotated[
        bool, typer.Option(help="Full phone numbers (members; needs crm.allow_phone_export).")
    ] = False,
) -> None:
    """Export rows in a stable order."""
    export_rows(kind, workspace, format_, output, header, reveal_phones)


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

    engine = open_engine()

    def run() -> Any:
        ws = find_workspace(engine, workspace)
        with progress_bar() as bar:
            task = bar.add_task("simulate", total=None)
            return do_simulate(
                engine,
                ws,
                groups=groups,
                members=members,
                days=days,
                seed=seed,
                start=parse_when(start),
                progress=lambda n: bar.advance(task, n),
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
    import yaml
    from rich.table import Table

    from shequn.engine.backtest import run_backtest

    engine = open_engine()

    def run() -> Any:
        try:
            document = yaml.safe_load(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{config}: {exc}") from exc
        except yaml.YAMLError as exc:
            raise UserError(f"{config}: not valid YAML: {exc}".replace("\n", " ")) from exc
        ws = find_workspace(engine, workspace)
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

    settings = current_settings()
    port = settings.port if port is None else port  # 0: any free port (the log says which)
    host = host or settings.host
    check_port_free(host, port)  # before the start-up work, not after it
    open_engine()
    run_server(host, port, in_process_worker=True)


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Drain what is queued, then stop.")] = False,
) -> None:
    """A separate worker: consumes the Redis bus, runs the scheduler and the outbox."""
    from shequn.worker import run_worker

    open_engine()
    settings = current_settings()
    run_worker(settings, settings.clock(), once=once)


DEMO_DATABASE = "sqlite:///./var/demo.db"
DEMO_EMAIL = "demo@example.com"


def demo_owner(conn: Any, ws: Any, password: str, *, now: datetime) -> None:
    """The demo's console owner, with a fresh password each time the demo starts."""
    from shequn.community.accounts import do_create_user, do_set_password
    from shequn.platform.errors import Conflict

    try:
        do_create_user(conn, ws, DEMO_EMAIL, password, "owner", now=now, name="演示店长")
    except Conflict:
        do_set_password(conn, DEMO_EMAIL, password)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen port.")] = 8000,
    days: Annotated[int, typer.Option(min=1, max=120, help="Days to simulate.")] = 21,
    serve_: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after.")] = True,
    database_url: Annotated[
        str, typer.Option(help="The demo's own database, apart from your workspaces.")
    ] = DEMO_DATABASE,
) -> None:
    """A demo workspace with a few simulated weeks, served on 127.0.0.1."""
    from shequn.cli_support import migrate_embedded
    from shequn.community.service import do_create_token
    from shequn.platform.db import get_engine, transaction
    from shequn.simulate.service import ensure_demo

    if serve_:
        check_port_free(host, port)  # before minutes of simulation, not after them
    # Its own database: the demo server's worker runs on the wall clock over every workspace
    # it sees, and must not run due work in the user's own workspaces.
    settings = current_settings().model_copy(update={"database_url": database_url})
    migrate_embedded(settings)
    engine = get_engine(settings)
    started = settings.clock().now()
    sys.stderr.write(say("cli.demo_simulating", days=days, database=database_url) + "\n")
    with progress_bar() as bar:
        task = bar.add_task("simulating community life", total=None)
        ws, report = ensure_demo(
            engine, started, days=days, progress=lambda n: bar.advance(task, n)
        )
    password = secrets.token_urlsafe(9)
    with transaction(engine) as conn:
        token = do_create_token(conn, ws.slug, "demo admin", now=started)
        demo_owner(conn, ws, password, now=started)
    from shequn.engine.ingest import tick as run_tick

    run_tick(engine, ws, started + timedelta(seconds=1))
    base = f"http://{host}:{port}"
    events = report.accepted + report.duplicates
    lines = [
        say("cli.demo_ready", name=ws.slug, events=f"{events:,}"),
        f"{say('cli.demo_database')}: {database_url}",
        f"{say('cli.demo_url')}: {base}",
        f"{say('cli.demo_docs')}: {base}/docs",
        f"{say('cli.demo_login')}: {DEMO_EMAIL} / {password}",
        f"{say('cli.demo_token')}: {token}",
        f"{say('cli.demo_try')}: curl -H 'Authorization: Bearer {token}' "
        f"{base}/api/v1/workspaces/{ws.slug}/groups",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    if serve_:
        from shequn.web.server import run_server

        run_server(host, port, in_process_worker=True, settings=settings)


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
    corpus: Annotated[
        Path | None,
        typer.Option(
            help="`moderation-quality`: labelled file, label<TAB>text (1/0).", exists=True
        ),
    ] = None,
    train: Annotated[
        Path | None,
        typer.Option(
            help="`moderation-quality`: train the classifier on this file first.", exists=True
        ),
    ] = None,
    folds: Annotated[
        int | None,
        typer.Option(min=2, help="`moderation-quality`: cross-validate the classifier in N folds."),
    ] = None,
) -> None:
    """Run benchmark workloads; one JSON line each with rate, baseline and ratio."""
    from shequn.bench import ON_REQUEST, WORKLOADS, run_workload

    names = workloads or [n for n in WORKLOADS if n not in ON_REQUEST]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        fail(f"unknown workload {unknown[0]!r}; choose from {', '.join(WORKLOADS)}")
    if "moderation-quality" in names and corpus is None:
        fail("moderation-quality needs --corpus FILE.tsv")
    for name in names:
        options: dict[str, Any] = {"size": size, "batch": batch}
        if name == "moderation-quality":
            options = {"corpus": corpus, "train": train, "folds": folds}
        for result in run_workload(name, **{k: v for k, v in options.items() if v}):
            sys.stdout.write(orjson.dumps(result).decode() + "\n")
            sys.stdout.flush()
            if not json_:
                figure = result.get("figure", result["workload"])
                err.print(f"{figure}: ratio {result.get('ratio')}", highlight=False)


def main() -> None:
    try:
        app()
    except Exception as exc:  # a fault or a bug: one line here, the details in the log
        report_crash(exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
