"""What every `shequn` command shares: the --workspace option, the engine and workspace of a
command, the one-line failure and its exit status, times on the command line, the consoles,
and the command group that imports its sub-command groups only when one is used.

`shequn.cli` and every domain's `cli.py` import this module; it must stay light. It imports
no domain, no SQLAlchemy, no Alembic and not even the settings at import time: those come
with the command that needs them, so `shequn --help` and `shequn workspace list` start at
once (see docs/architecture.md, "The command line").
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, ClassVar, NoReturn, TypeVar

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from shequn.cli_language import translate_in_locale
from shequn.community.names import sqlite_workspace_names
from shequn.i18n import t
from shequn.platform.revision import newest_revision, sqlite_revision

if TYPE_CHECKING:
    from rich.progress import Progress
    from sqlalchemy import Connection, Engine

    from shequn.community.workspace import WorkspaceInfo
    from shequn.settings import Settings

T = TypeVar("T")

WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="SHEQUN_WORKSPACE",
        help="Workspace name (default: the only workspace, if there is just one).",
    ),
]

# Rich finds sys.stdout / sys.stderr when it prints, so a test runner's capture sees both.
out = Console()
err = Console(stderr=True)


class UserError(Exception):
    """Bad input: reported on one line, exit status 2."""


def current_settings() -> Settings:
    """This process's settings (SHEQUN_*). Loaded on first use: pydantic-settings is about a
    third of `shequn --help`'s start, and help needs no settings."""
    from shequn.settings import get_settings

    return get_settings()


def say(key: str, **values: Any) -> str:
    return t(key, current_settings().locale, **values)


def fail(message: str, details: Iterable[str] = ()) -> NoReturn:
    """End the command: the reason on one line of stderr (details indented below), status 2."""
    sys.stderr.write(f"{say('cli.error')}: {message}\n")
    for line in details:
        sys.stderr.write(f"  {line}\n")
    raise typer.Exit(2)


def guarded(fn: Callable[[], T]) -> T:
    """Turn the services' domain errors into a one-line reason (in SHEQUN_LOCALE) and exit
    status 2. Anything else, a bare ValueError included, is a bug and keeps its traceback."""
    try:
        return fn()
    except Exception as exc:
        reason = _reason(exc)
        if reason is None:
            raise
        fail(*reason)


def _reason(exc: Exception) -> tuple[str, list[str]] | None:
    """What to tell the user about an error of bad input; None for a bug (it propagates)."""
    # The services' error types come with the services; they load here only when a command
    # failed, so a command that needs none of them never pays for their import.
    from shequn.community.config import ConfigRejected
    from shequn.events import BatchRejected
    from shequn.platform.errors import DomainError

    if isinstance(exc, BatchRejected):
        return say("cli.nothing_stored", detail=exc), [str(e) for e in exc.errors[:50]]
    if isinstance(exc, ConfigRejected):
        return say("cli.config_rejected", count=len(exc.errors)), [str(e) for e in exc.errors]
    if isinstance(exc, DomainError):
        return exc.message(current_settings().locale), []
    if isinstance(exc, UserError):
        return str(exc), []
    if isinstance(exc, OSError):
        return (f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)), []
    return None


def check_port_free(host: str, port: int) -> None:
    """End the command at once, in one line, when another program listens on the port."""
    import socket

    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(say("cli.port_busy", host=host, port=port, reason=exc.strerror or exc))


def report_crash(exc: BaseException) -> None:
    """An unexpected failure (a full disk, a database gone, a bug): one line on stderr that
    names the fault without the data it was handling, and the traceback in the log file. SQL
    parameters are hidden by the engine (platform.db), so message texts stay out of both."""
    import logging
    import traceback

    where = _log_file()
    logged = False
    if where is not None:
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(where, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            log = logging.getLogger("shequn.crash")
            log.propagate = False
            log.addHandler(handler)
            log.error("shequn %s\n%s", " ".join(sys.argv[1:2]), traceback.format_exc())
            handler.close()
            logged = True
        except OSError:
            logged = False  # the disk may be what failed: the one line still goes out
    line = t("cli.crashed", _locale(), fault=_fault(exc))
    if logged:
        line += " " + t("cli.crash_logged", _locale(), path=where)
    sys.stderr.write(f"{t('cli.error', _locale())}: {line}\n")


def _fault(exc: BaseException) -> str:
    """What failed, without the data: the driver's message for a database error (never the
    statement or its parameters), the system's for an OS error, else the error's kind."""
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error
    if isinstance(orig, BaseException):
        return f"{type(orig).__name__}: {str(orig).splitlines()[0] if str(orig) else ''}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or type(exc).__name__}" + (
            f": {exc.filename}" if exc.filename else ""
        )
    if type(exc).__module__ in ("sqlite3", "psycopg", "psycopg.errors"):
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return type(exc).__name__


def _locale() -> str:
    import os

    return os.environ.get("SHEQUN_LOCALE", "zh-CN")  # the settings themselves may be what broke


def _log_file() -> Path | None:
    try:
        return Path(current_settings().log_dir) / "shequn.log"
    except Exception:  # settings that do not load: no log file, still one line
        return None


def migrate_embedded(settings: Settings) -> None:
    """Bring the embedded SQLite file to the newest schema (the embedded default needs no
    separate migrate step). A current file, as at most starts, is told by its revision alone,
    without loading Alembic."""
    path = settings.sqlite_path()
    if path is None or sqlite_revision(path) == newest_revision():
        return
    from shequn.platform.migrate import upgrade

    upgrade(settings)


def open_engine() -> Engine:
    """The database of this command (SHEQUN_DATABASE_URL)."""
    from shequn.platform.db import get_engine

    settings = current_settings()
    migrate_embedded(settings)
    return get_engine(settings)


def find_workspace(engine: Engine, name: str | None) -> WorkspaceInfo:
    """The named workspace, or the only one when no name is given."""
    from shequn.community.service import list_workspaces, load_workspace

    if name is None:
        with engine.connect() as conn:
            names = list_workspaces(conn)
        if not names:
            raise UserError(say("cli.no_workspace_yet"))
        if len(names) > 1:
            raise UserError(say("cli.which_workspace", names=", ".join(names)))
        name = names[0]
    return load_workspace(engine, name)


def workspace_names() -> list[str]:
    """Every workspace's name, oldest first. The embedded SQLite file is read with the
    standard library: `shequn workspace list` answers before SQLAlchemy could have loaded."""
    settings = current_settings()
    path = settings.sqlite_path()
    if path is not None:
        migrate_embedded(settings)
        return sqlite_workspace_names(path)
    from shequn.community.service import list_workspaces

    with open_engine().connect() as conn:
        return list_workspaces(conn)


def now() -> datetime:
    """What "now" is for a command: SHEQUN_NOW when set, else the wall clock."""
    return current_settings().clock().now()


def latest() -> datetime:
    """The latest `at` a command's events may carry: now plus SHEQUN_MAX_FUTURE_SKEW."""
    return now() + current_settings().max_future_skew


def in_workspace(
    workspace: str | None, fn: Callable[[Connection, WorkspaceInfo], T], write: bool = False
) -> T:
    """fn(conn, ws) in the named workspace: in one transaction when it writes; bad input
    ends the command with a one-line reason."""
    from shequn.platform.db import transaction

    engine = open_engine()

    def call() -> T:
        ws = find_workspace(engine, workspace)
        if write:
            with transaction(engine) as conn:
                return fn(conn, ws)
        with engine.connect() as conn:
            return fn(conn, ws)

    return guarded(call)


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


def progress_bar() -> Progress:
    """A progress bar on stderr, shown only on a terminal."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def export_rows(
    kind: str,
    workspace: str | None,
    fmt: str,
    output: Path | None,
    header: str = "labels",
    reveal_phones: bool = False,
) -> None:
    """`shequn export`, and the commands that are one export kind (`members export`)."""
    from shequn.exports import check_export, write_export

    engine = open_engine()
    guarded(lambda: check_export(kind, fmt, header))
    ws = guarded(lambda: find_workspace(engine, workspace))
    if fmt == "xlsx" and output is None and sys.stdout.isatty():
        fail("xlsx is binary: give --output FILE")

    def write(out: BinaryIO) -> None:
        write_export(conn, ws, kind, fmt, out, header=header, reveal_phones=reveal_phones)

    with engine.connect() as conn:
        if output is not None:
            guarded(lambda: _write_atomically(output, write))
        else:
            guarded(lambda: write(sys.stdout.buffer))
            sys.stdout.buffer.flush()


def export_everything(engine: Engine, ws: WorkspaceInfo, folder: Path) -> Path:
    """Every export kind of a workspace as `folder/KIND.jsonl` (before it is deleted)."""
    from shequn.exports import EXPORTS, load_export_modules, write_export

    load_export_modules()
    folder.mkdir(parents=True, exist_ok=False)
    with engine.connect() as conn:
        for kind in sorted(EXPORTS):

            def write(out: BinaryIO, kind: str = kind) -> None:
                write_export(conn, ws, kind, "jsonl", out)

            _write_atomically(folder / f"{kind}.jsonl", write)
    return folder


def _write_atomically(output: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write to a temporary file beside the target, then rename: never half a file."""
    import os
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    except OSError as exc:
        raise UserError(f"{output}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, output)
    except OSError as exc:
        os.unlink(tmp)
        raise UserError(f"{output}: {exc.strerror}") from exc
    except BaseException:
        os.unlink(tmp)
        raise


# --- command groups loaded when used ---------------------------------------------------------


class LazyGroup(TyperGroup):
    """A command group whose sub-command groups are imported only when one of them runs (or
    shows its help). `lazy` names each such group: its one-line help, shown in this group's
    --help without importing anything, and the Typer apps ("module:attribute") that make it;
    the commands of the second and later apps join the first's. The group's help, and its
    sub-commands', is in SHEQUN_LOCALE (`shequn.cli_language`).
    """

    lazy: ClassVar[Mapping[str, tuple[str, Sequence[str]]]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (short_help, targets) in self.lazy.items():
            self.commands.setdefault(name, _Deferred(name, short_help, targets))

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # Translated as it starts, not when built: Typer adds its completion options after.
        translate_in_locale(self)
        return super().main(*args, **kwargs)


class _Deferred(TyperCommand):
    """Stands in for a sub-command group in listings; becomes it when invoked."""

    def __init__(self, name: str, short_help: str, targets: Sequence[str]) -> None:
        super().__init__(name, help=short_help, short_help=short_help)
        self.targets = tuple(targets)

    def load(self) -> TyperGroup:
        return load_group(self.name or "", self.targets)

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        # Both invoking and completing a command start here: hand over to the real group.
        return self.load().make_context(info_name, args, parent=parent, **extra)


def load_group(name: str, targets: Sequence[str]) -> TyperGroup:
    """The click group of the Typer apps named by `targets` ("module:attribute"), its help in
    SHEQUN_LOCALE."""
    apps = [_import(target) for target in targets]
    group = typer.main.get_group(apps[0])
    group.name = name
    for other in apps[1:]:
        for sub, command in typer.main.get_group(other).commands.items():
            group.add_command(command, sub)
    translate_in_locale(group)
    return group


def _import(target: str) -> typer.Typer:
    module, _, attribute = target.partition(":")
    app = getattr(importlib.import_module(module), attribute)
    if not isinstance(app, typer.Typer):
        raise TypeError(f"{target} is not a Typer app")
    return app
