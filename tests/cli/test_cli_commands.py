"""The `shequn` command end to end, as a user drives it: real files, a real database (SQLite in
a temporary directory; PostgreSQL too when SHEQUN_TEST_POSTGRES_URL is set). Commands run in
this process (tests/cli/helpers.py) where a process of their own adds nothing; the installed
console script runs in processes of its own where the process matters: `serve`, `worker`,
commands at once, a real pipe, and the entry point's own start.

Every test works in its own, uniquely named workspace and passes --workspace, so the same
tests can share one PostgreSQL database. Messages may be localised, so the checks look for
what must be in them (the line number, the field, the path, the name), not their wording.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import orjson
import pytest
import yaml

from shequn.cli import COMMAND_GROUPS
from shequn.cli_support import load_group
from shequn.community.service import list_workspaces
from shequn.domains import command_groups
from shequn.platform.db import make_engine
from tests.cli.helpers import ENGLISH, SHEQUN, clean_env, in_process
from tests.factories import NOW

POSTGRES_URL = os.environ.get("SHEQUN_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI)
CORE_EXPORTS = ("members", "memberships", "actions", "events")
WELCOME = "engagement.welcome"
"""The rule under test; other domains' rules may decide more actions from the same events."""
ACTION_CONTRACT = ("id", "kind", "group", "member", "data", "rule", "reason", "caused_by", "status")


# --- running the command ----------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode("utf-8")

    def json(self) -> Any:
        return orjson.loads(self.out)

    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def ok(self) -> Result:
        assert self.code == 0, f"shequn {' '.join(self.args)} exited {self.code}:\n{self.err}"
        assert "Traceback" not in self.err, self.err
        return self


def concurrently(*thunks: Callable[[], Result]) -> list[Result]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda thunk: thunk(), thunks))


@dataclass
class Shequn:
    """The `shequn` command, run in `cwd` against one database."""

    backend: str
    url: str
    cwd: Path
    ws: str = ""

    def run(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> Result:
        """The command in this process."""
        code, out, err = in_process(self.url, self.cwd, args, stdin, env)
        return Result(args, code, out, err)

    def spawn(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> Result:
        """The installed console script, in a process of its own (stdin a real pipe)."""
        proc = subprocess.run(
            [SHEQUN, *args],
            cwd=self.cwd,
            env=clean_env(self.url, **(env or {})),
            input=stdin if stdin is not None else b"",
            capture_output=True,
            timeout=180,
            check=False,
        )
        err = proc.stderr.decode("utf-8", "replace")
        return Result(args, proc.returncode, proc.stdout, err)

    def many(self, *calls: Sequence[str]) -> list[Result]:
        """Independent commands, one after the other; results in order."""
        return [self.run(*args) for args in calls]

    def at_once(self, *calls: Sequence[str]) -> list[Result]:
        """Commands at the same time, each a process of its own; results in order."""
        return concurrently(*[partial(self.spawn, *args) for args in calls])

    def ok(self, *args: str, **kw: Any) -> Result:
        return self.run(*args, **kw).ok()

    def fails(self, *args: str, **kw: Any) -> list[str]:
        """Run a command that must be refused: non-zero, a reason, no traceback."""
        r = self.run(*args, **kw)
        assert r.code != 0, f"shequn {' '.join(args)} should have failed:\n{r.text}"
        assert "Traceback" not in r.err, f"a crash, not a reason:\n{r.err}"
        lines = r.err_lines()
        assert lines, "no reason on stderr"
        return lines

    @property
    def w(self) -> tuple[str, str]:
        return ("--workspace", self.ws)

    def new_workspace(self) -> str:
        name = f"t-{uuid.uuid4().hex[:12]}"
        self.ok("workspace", "create", name)
        return name

    def export(self, kind: str, fmt: str = "jsonl", ws: str | None = None) -> bytes:
        return self.ok("export", kind, "--format", fmt, "--workspace", ws or self.ws).out

    def exports(
        self, kinds: Sequence[str] = CORE_EXPORTS, ws: str | None = None
    ) -> dict[str, bytes]:
        calls = [("export", kind, "--workspace", ws or self.ws) for kind in kinds]
        return {kind: r.ok().out for kind, r in zip(kinds, self.many(*calls), strict=True)}

    def rows(self, kind: str, ws: str | None = None) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.export(kind, ws=ws).splitlines()]

    def write(self, name: str, events: Sequence[dict[str, Any] | str | bytes]) -> Path:
        path = self.cwd / name
        with path.open("wb") as fh:
            for item in events:
                if isinstance(item, dict):
                    fh.write(orjson.dumps(item))
                else:
                    fh.write(item.encode() if isinstance(item, str) else item)
                fh.write(b"\n")
        return path

    def ingest(self, events: Sequence[dict[str, Any] | str], *extra: str) -> dict[str, Any]:
        path = self.write(f"in-{uuid.uuid4().hex[:8]}.jsonl", events)
        summary: dict[str, Any] = self.ok("ingest", str(path), *self.w, *extra).json()
        return summary


@pytest.fixture(scope="session")
def pg_migrated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shared PostgreSQL database (schema from tests/conftest.py), then `shequn migrate`."""
    url: str = request.getfixturevalue("postgres_url")
    Shequn("postgres", url, tmp_path_factory.mktemp("migrate")).ok("migrate")
    return url


def _url(backend: str, root: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{root / 's.db'}"
    return str(request.getfixturevalue("pg_migrated"))


@pytest.fixture(params=BACKENDS)
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> Shequn:
    """The command against an empty SQLite file, or the shared PostgreSQL database."""
    return Shequn(request.param, _url(request.param, tmp_path, request), tmp_path)


@pytest.fixture(scope="session")
def sqlite_seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A SQLite file that `shequn` itself migrated and gave one workspace; copied per test."""
    root = tmp_path_factory.mktemp("cli-seed")
    seed = Shequn("sqlite", f"sqlite:///{root / 's.db'}", root)
    return root / "s.db", seed.new_workspace()


@pytest.fixture
def sq(bare: Shequn, request: pytest.FixtureRequest) -> Shequn:
    """`bare` with this test's own workspace."""
    if bare.backend == "sqlite":
        seed, name = request.getfixturevalue("sqlite_seed")
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{seed}{suffix}").exists():
                shutil.copy(f"{seed}{suffix}", bare.cwd / f"s.db{suffix}")
        bare.ws = name
    else:
        bare.ws = bare.new_workspace()
    return bare


# --- events -----------------------------------------------------------------------------------


def ev(
    id_: str,
    type_: str,
    group: str | None = "g-001",
    member: str | None = None,
    at: datetime = T0,
    **data: Any,
) -> dict[str, Any]:
    return {
        "id": id_,
        "type": type_,
        "channel": "sandbox",
        "group": group,
        "member": member,
        "at": at.isoformat(),
        "data": data,
    }


def mins(n: float) -> timedelta:
    return timedelta(minutes=n)


def world() -> list[dict[str, Any]]:
    """Two groups, three people, a leave and an order; ends on a join whose welcome is due."""
    return [
        ev("w-01", "group.created", "g-001", None, T0, name="烘焙1群", capacity=50, owner="s-1"),
        ev("w-02", "group.created", "g-002", None, T0 + mins(1), name="烘焙2群"),
        ev("w-03", "member.joined", "g-001", "u-001", T0 + mins(10), nickname="小明", scene="qr"),
        ev(
            "w-04",
            "member.joined",
            "g-001",
            "u-002",
            T0 + mins(10.1),
            nickname="小红",
            scene="invite",
            inviter="u-001",
        ),
        ev(
            "w-05",
            "message.posted",
            "g-001",
            "u-001",
            T0 + mins(12),
            message_id="m-1",
            kind="text",
            text="大家好",
        ),
        ev("w-06", "member.joined", "g-002", "u-001", T0 + mins(20), nickname="小明", scene="link"),
        ev("w-07", "member.left", "g-001", "u-002", T0 + mins(30), reason="left"),
        ev("w-08", "order.paid", None, "u-001", T0 + mins(40), order_id="o-1", amount_fen=9900),
        ev("w-09", "member.joined", "g-002", "u-003", T0 + mins(50), nickname="阿强", scene="qr"),
    ]


def welcomes(data: bytes) -> list[dict[str, Any]]:
    """The welcome actions of an actions export (jsonl)."""
    rows = [orjson.loads(line) for line in data.splitlines()]
    return [a for a in rows if a["rule"] == WELCOME]


def names(line: int, field: str, text: str) -> bool:
    """Does `text` name input line `line` and then `field`?"""
    pattern = rf"(?<![\d.:]){line}(?!\d).*(?<![\w.]){re.escape(field)}(?!\w)"
    return re.search(pattern, text) is not None


# --- 1. help ----------------------------------------------------------------------------------

HELP = {
    (): ["workspace", "ingest", "tick", "export", "config", "simulate", "token", "serve"],
    ("workspace", "create"): ["NAME", "--display-name"],
    ("ingest",): ["SOURCE", "--skip-invalid", "--batch-size", "--workspace", "stdin"],
    ("tick",): ["--until", "--workspace", "ISO 8601"],
    ("export",): ["KIND", "--format", "--output", "jsonl", "csv", "xlsx"],
    ("config", "apply"): ["FILE", "--workspace", "YAML"],
    ("config", "show"): ["--workspace", "--json"],
    ("simulate",): ["--groups", "--members", "--days", "--seed", "--workspace"],
    ("token", "create"): ["--workspace", "--name", "token"],
    ("serve",): ["--host", "--port"],
    ("worker",): ["--once"],
    ("migrate",): ["migration"],
    ("bench",): ["WORKLOADS", "--json", "--batch"],
    ("demo",): ["--port", "--days", "--no-serve"],
}
TOP_LEVEL = ["migrate", "worker", "demo", "bench"]


@pytest.fixture(scope="module")
def helps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, ...], Result]]:
    """Every --help (in English, the words below), run at once against a database path that
    must stay untouched. The help in Chinese: tests/cli/test_cli_language.py."""
    root = tmp_path_factory.mktemp("help")
    cli = Shequn("sqlite", f"sqlite:///{root / 's.db'}", root)
    results = [cli.run(*command, "--help", env=ENGLISH) for command in HELP]
    return root, dict(zip(HELP, results, strict=True))


@pytest.mark.parametrize("command", list(HELP), ids=lambda c: " ".join(c) or "shequn")
def test_help_explains_each_command_without_touching_a_database(
    command: tuple[str, ...], helps: tuple[Path, dict[tuple[str, ...], Result]]
) -> None:
    root, results = helps
    r = results[command].ok()
    assert r.err == ""
    assert "Usage" in r.text and "shequn" in r.text
    for word in HELP[command] + (TOP_LEVEL if not command else []):
        assert word.lower() in r.text.lower(), f"`shequn {' '.join(command)} --help`: no {word}"
    # A description beyond the usage line and the boxes of arguments and options.
    prose = [
        line
        for line in r.text.splitlines()
        if line.strip() and not line.lstrip().startswith(("Usage", "╭", "│", "╰"))
    ]
    assert prose, r.text
    assert not (root / "s.db").exists() and not (root / "var").exists(), "--help opened a DB"


def test_the_installed_command_starts_and_explains_itself(tmp_path: Path) -> None:
    cli = Shequn("sqlite", f"sqlite:///{tmp_path / 's.db'}", tmp_path)
    r = cli.spawn("--help", env=ENGLISH).ok()
    assert r.err == "" and "Usage" in r.text and "shequn" in r.text
    for word in HELP[()] + TOP_LEVEL + list(COMMAND_GROUPS):
        assert word in r.text, word
    assert not (tmp_path / "s.db").exists() and not (tmp_path / "var").exists()


HEAVY = ("sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn", "duckdb", "matplotlib")
DOMAIN_PACKAGES = ("engine", "moderation", "engagement", "growth", "commerce", "crm", "analytics")


@pytest.mark.parametrize("command", [("--help",), ("workspace", "list")], ids=" ".join)
def test_help_and_workspace_list_load_no_database_toolkit_and_no_domain(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    """What makes every `shequn` start at once (docs/architecture.md, "The command line")."""
    cli = Shequn("sqlite", f"sqlite:///{tmp_path / 's.db'}", tmp_path)
    cli.ok("workspace", "create", "w-1")  # the file exists and is current
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", SHEQUN, *command],
        cwd=tmp_path,
        env=clean_env(cli.url),
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stderr.decode().splitlines()
    imported = {line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time")}
    assert "shequn.cli" in imported
    heavy = sorted(
        name
        for name in imported
        if name.split(".")[0] in HEAVY
        or (name.startswith("shequn.") and name.split(".")[1] in DOMAIN_PACKAGES)
    )
    assert heavy == [], f"`shequn {' '.join(command)}` imported {heavy}"
    if command == ("workspace", "list"):
        assert proc.stdout == b"w-1\n"


def test_each_listed_command_group_is_the_group_that_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """`shequn --help` lists the domains' groups from `COMMAND_GROUPS` without importing them:
    each one-line help there must be the help of the group that then runs."""
    monkeypatch.setenv("SHEQUN_LOCALE", "en")  # the helps as written, not translated
    for name, (short_help, targets) in COMMAND_GROUPS.items():
        group = load_group(name, targets)
        assert (group.name, group.help) == (name, short_help)
        assert group.commands, name
    report = load_group("report", COMMAND_GROUPS["report"][1])
    assert {"funnel", "retention", "roi", "campaign"} <= set(report.commands)


def test_the_listed_command_groups_are_the_domains_own() -> None:
    """The static table `shequn --help` reads is what the domains' descriptors declare."""
    assert command_groups() == COMMAND_GROUPS


# --- 2. workspaces ----------------------------------------------------------------------------


def test_workspace_create_then_again_is_a_conflict(bare: Shequn) -> None:
    name = f"t-{uuid.uuid4().hex[:12]}"
    r = bare.ok("workspace", "create", name)
    assert name in r.text
    assert r.err == ""
    lines = bare.fails("workspace", "create", name)
    assert len(lines) == 1 and name in lines[0]


def test_workspace_list_names_them_oldest_first(bare: Shequn) -> None:
    suffix = uuid.uuid4().hex[:8]
    made = [f"zeta-{suffix}", f"alpha-{suffix}", f"mid-{suffix}"]
    for name in made:
        bare.ok("workspace", "create", name)
    listed = bare.ok("workspace", "list").text.split()
    assert [name for name in listed if name.endswith(suffix)] == made
    # On SQLite the list is read without SQLAlchemy: the same as the service's.
    engine = make_engine(bare.url)
    try:
        with engine.connect() as conn:
            assert list_workspaces(conn) == listed
    finally:
        engine.dispose()


BAD_NAMES = ["Bad Name!", "-leading-dash", "x[bold]y"]


@pytest.mark.parametrize("bare", ["sqlite"], indirect=True)
def test_workspace_create_refuses_bad_names_and_says_why(bare: Shequn) -> None:
    # The first alone: it migrates the fresh file (see test_concurrent_first_use_…).
    results = [bare.run("workspace", "create", "--", BAD_NAMES[0])]
    results += bare.many(*[("workspace", "create", "--", bad) for bad in BAD_NAMES[1:]])
    for bad, r in zip(BAD_NAMES, results, strict=True):
        assert r.code != 0 and "Traceback" not in r.err, (bad, r)
        lines = r.err_lines()
        assert len(lines) == 1, (bad, lines)
        # The reason quotes the name exactly as given (no markup eaten) and says what is allowed.
        assert bad in lines[0], (bad, lines[0])
        assert re.search(r"lowercase|a-z|小写", lines[0]), lines[0]
        # The name it suggests is one that `create` accepts.
        suggested = re.search(r"(?:例如|e\.g\.) (\S+)$", lines[0])
        assert suggested and re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", suggested[1]), lines[0]
    # Nothing was created: with no workspace at all, naming none is explained.
    assert "workspace create" in bare.fails("export", "events")[0]


def test_a_missing_workspace_is_a_clear_error_everywhere(sq: Shequn) -> None:
    ghost = f"nope-{uuid.uuid4().hex[:8]}"
    results = sq.many(
        ("export", "events", "-w", ghost),
        ("token", "create", "-w", ghost),
        ("tick", "--until", "2026-11-22T12:00:00+08:00", "-w", ghost),
        ("export", "events", "-w", "a[/x]"),
    )
    for r in results:
        assert r.code != 0 and "Traceback" not in r.err, r
        lines = r.err_lines()
        assert len(lines) == 1, r
        assert r.args[-1] in lines[0], r
    # The command it suggests to create the missing one would work.
    suggested = re.search(r"workspace create ([a-z0-9_-]+)", results[-1].err_lines()[0])
    assert suggested and sq.run("workspace", "create", suggested[1]).code == 0


# --- 3. ingest --------------------------------------------------------------------------------


def test_ingest_twice_is_once_from_a_file_or_stdin(sq: Shequn) -> None:
    events = world()
    path = sq.write("world.jsonl", events)
    first = sq.ok("ingest", str(path), *sq.w)
    assert first.err == ""
    summary = first.json()
    assert summary["accepted"] == len(events)
    assert summary["duplicates"] == 0
    assert summary.get("skipped", 0) == 0
    once = sq.exports()
    assert len(once["events"].splitlines()) == len(events)
    assert all(once.values())
    # The two welcome windows that closed within the file were decided, not yet delivered.
    pending = welcomes(once["actions"])
    assert [(a["caused_by"], a["status"]) for a in pending] == [
        ("w-03", "pending"),
        ("w-06", "pending"),
    ]

    # Two processes at once, one reading a real pipe.
    again, again_piped = concurrently(
        partial(sq.spawn, "ingest", str(path), *sq.w),
        partial(sq.spawn, "ingest", "-", *sq.w, stdin=path.read_bytes()),
    )
    for r in (again, again_piped):
        assert r.ok().json()["accepted"] == 0 and r.json()["duplicates"] == len(events)
    assert sq.exports() == once


def test_ingest_counts_repeats_within_one_file_and_skips_blank_lines(sq: Shequn) -> None:
    events = world()[:3]
    summary = sq.ingest([events[0], "", events[1], events[0], "   ", events[2], events[1]])
    assert summary["accepted"] == 3 and summary["duplicates"] == 2
    assert summary["conflicts"] == []
    assert [e["id"] for e in sq.rows("events")] == [e["id"] for e in events]


def test_ingest_lists_changed_events_under_old_ids_as_conflicts(sq: Shequn) -> None:
    events = world()[:3]
    sq.ingest(events)
    renamed = {**events[0], "data": {**events[0]["data"], "name": "改名了"}}
    summary = sq.ingest([renamed, events[1]])
    assert (summary["accepted"], summary["duplicates"]) == (0, 1)
    assert summary["conflicts"] == [events[0]["id"]]
    assert sq.rows("events")[0]["data"] == events[0]["data"]  # the first version is kept


def test_ingest_of_a_missing_file_names_it(sq: Shequn) -> None:
    lines = sq.fails("ingest", "no-such-file.jsonl", *sq.w)
    assert len(lines) == 1 and "no-such-file.jsonl" in lines[0]


def _flood(at: datetime) -> list[dict[str, Any]]:
    """Six messages in five seconds from one member; the 2nd and 3rd share a second."""
    rows = [
        ev("f-1", "group.created", "g-001", None, at, name="烘焙1群"),
        ev("f-2", "member.joined", "g-001", "u-001", at, nickname="小明", scene="qr"),
    ]
    for k, second in enumerate([1, 2, 2, 3, 4, 5], start=1):
        text = f"第{k}条消息内容"
        rows.append(
            ev(
                f"f-m{k}",
                "message.posted",
                "g-001",
                "u-001",
                at + timedelta(seconds=second),
                message_id=f"m-{k}",
                kind="text",
                text=text,
            )
        )
    return rows


def test_batch_size_does_not_change_what_is_decided(sq: Shequn) -> None:
    path = sq.write("flood.jsonl", _flood(T0))
    other = sq.new_workspace()
    small, whole = sq.many(
        ("ingest", str(path), *sq.w, "--batch-size", "4"),  # a batch boundary inside a second
        ("ingest", str(path), "--workspace", other),
    )
    assert small.ok().json()["accepted"] == whole.ok().json()["accepted"] == 8

    def decided(ws: str) -> list[dict[str, Any]]:
        rows = [orjson.loads(line) for line in sq.export("actions", ws=ws).splitlines()]
        return [{k: v for k, v in a.items() if k != "id"} for a in rows]  # ids are per workspace

    assert decided(sq.ws) == decided(other)


# --- 4. bad input -----------------------------------------------------------------------------

GOOD_HEAD = [
    ev("h-1", "group.created", "g-001", None, T0, name="烘焙1群"),
    ev("h-2", "member.joined", "g-001", "u-001", T0 + mins(1), nickname="小明", scene="qr"),
]
GOOD_TAIL = ev(
    "h-4",
    "message.posted",
    "g-001",
    "u-001",
    T0 + mins(2),
    message_id="m-9",
    kind="text",
    text="hi",
)


def _line(raw: dict[str, Any]) -> str:
    return orjson.dumps(raw).decode()


def _naive(at: str) -> str:
    return _line({**ev("b-1", "group.created", "g-9", None, T0, name="x"), "at": at})


def _post(text: str) -> str:
    return _line(
        ev("b-1", "message.posted", "g-001", "u-001", T0, message_id="m", kind="text", text=text)
    )


# name: (a bad line, what an error about it must name after its line number)
BAD_LINES: dict[str, tuple[str, str]] = {
    "broken-json": ('{"id": "b-1", "type": "member.joined", "channel": ', "json"),
    "unknown-type": (
        _line(ev("b-1", "member.exploded", "g-001", "u-9", T0, nickname="x", scene="qr")),
        "type",
    ),
    "missing-field": (
        _line(ev("b-1", "member.joined", "g-001", "u-9", T0, scene="qr")),
        "data.nickname",
    ),
    "mistyped-field": (
        _line(ev("b-1", "order.paid", None, "u-9", T0, order_id="o-1", amount_fen="abc")),
        "data.amount_fen",
    ),
    "naive-timestamp": (_naive("2026-11-22T10:00:00"), "at"),
    "oversized-event": (_post("x" * 70_000), "65536"),
}
MORE_BAD_LINES: dict[str, tuple[str, str]] = {
    "not-an-object": ('["member.joined"]', "event"),
    "missing-member": (
        _line(ev("b-1", "member.joined", "g-001", None, T0, nickname="x", scene="qr")),
        "member",
    ),
    "bad-scene": (
        _line(ev("b-1", "member.joined", "g-001", "u-9", T0, nickname="x", scene="teleport")),
        "data.scene",
    ),
    "negative-amount": (
        _line(ev("b-1", "order.paid", None, "u-9", T0, order_id="o-1", amount_fen=-5)),
        "data.amount_fen",
    ),
    "not-a-timestamp": (_naive("yesterday"), "at"),
    "unknown-data-field": (
        _line(ev("b-1", "group.created", "g-9", None, T0, name="x", colour="red")),
        "data.colour",
    ),
    "text-too-long": (_post("x" * 30_000), "data.text"),
    # Times out of range, or ahead of the clock by more than the allowed skew.
    "year-9999": (_naive("9999-12-31T23:59:59-12:00"), "at"),
    "year-1": (_naive("0001-01-01T00:00:00+08:00"), "at"),
    "next-year": (_naive((NOW + timedelta(days=365)).isoformat()), "at"),
    # Strict types: no coercion of a Unix time or of an amount given as text.
    "unix-time": (_line({**ev("b-1", "group.created", "g-9", None, T0, name="x"), "at": 1}), "at"),
    "amount-as-text": (
        _line(ev("b-1", "order.paid", None, "u-9", T0, order_id="o-1", amount_fen="3990")),
        "data.amount_fen",
    ),
}


def test_a_bad_line_stores_nothing_and_names_line_and_field(sq: Shequn) -> None:
    files = {}
    for case, (bad, _) in BAD_LINES.items():
        files[case] = sq.write(f"bad-{case}.jsonl", [*GOOD_HEAD, bad, GOOD_TAIL])
    results = sq.many(*[("ingest", str(path), *sq.w) for path in files.values()])
    for (case, (_, field)), r in zip(BAD_LINES.items(), results, strict=True):
        assert r.code != 0 and "Traceback" not in r.err, (case, r)
        first = r.err_lines()[0]
        assert names(3, field, first), (
            f"{case}: the first line should name line 3 and {field}: {first}"
        )
    # Each file was refused whole: not even its good lines 1, 2 and 4 are stored.
    assert sq.export("events") == b""


def test_bad_stdin_is_refused_like_a_bad_file(sq: Shequn) -> None:
    cases = [BAD_LINES["naive-timestamp"], BAD_LINES["oversized-event"]]
    head = b"\n".join(orjson.dumps(e) for e in GOOD_HEAD) + b"\n"
    results = [sq.run("ingest", "-", *sq.w, stdin=head + bad.encode()) for bad, _ in cases]
    for (_, field), r in zip(cases, results, strict=True):
        assert r.code != 0 and "Traceback" not in r.err, r
        assert names(3, field, r.err_lines()[0]), r.err
    assert sq.export("events") == b""


def test_every_bad_line_is_listed_and_skip_invalid_stores_the_rest(sq: Shequn) -> None:
    cases = list(BAD_LINES.values()) + list(MORE_BAD_LINES.values())
    content: list[dict[str, Any] | str] = [GOOD_HEAD[0], ""]  # lines 1 and 2 (blank lines count)
    expected: list[tuple[int, str]] = []
    for i, (bad, field) in enumerate(cases):
        content.append(bad.replace('"b-1"', f'"b-{i}"'))
        expected.append((len(content), field))
        if i == 3:
            content.append(GOOD_HEAD[1])
    content.append(GOOD_TAIL)
    # Just under the bound: ~57 KB of UTF-8, under 64 KiB and under 20,000 characters.
    big_text = "好" * 19_000
    content.append(
        ev(
            "h-5",
            "message.posted",
            "g-001",
            "u-001",
            T0,
            message_id="m",
            kind="text",
            text=big_text,
        )
    )
    path = sq.write("mixed.jsonl", content)

    lines = sq.fails("ingest", str(path), *sq.w)
    for line, field in expected:
        assert any(names(line, field, one) for one in lines), (line, field, lines)
    assert sq.export("events") == b""

    summary = sq.ok("ingest", str(path), *sq.w, "--skip-invalid").json()
    assert summary["accepted"] == 4 and summary["duplicates"] == 0
    assert summary["skipped"] == len(cases)
    for line, field in expected:
        assert any(names(line, field, e) for e in summary["errors"]), (line, field)
    stored = sq.rows("events")
    assert [e["id"] for e in stored] == ["h-1", "h-2", "h-4", "h-5"]
    assert stored[-1]["data"]["text"] == big_text

    piped = sq.ok("ingest", "-", *sq.w, "--skip-invalid", stdin=path.read_bytes()).json()
    assert piped["accepted"] == 0 and piped["duplicates"] == 4
    assert piped["skipped"] == len(cases)


# --- 5. tick ----------------------------------------------------------------------------------

BAD_TIMES = ["2026-11-22T10:00:00", "yesterday", "2026-13-40T10:00:00+08:00"]


def test_tick_refuses_a_naive_or_malformed_time(sq: Shequn) -> None:
    results = sq.many(*[("tick", "--until", t, *sq.w) for t in BAD_TIMES])
    for until, r in zip(BAD_TIMES, results, strict=True):
        assert r.code != 0 and "Traceback" not in r.err, (until, r)
        lines = r.err_lines()
        assert len(lines) == 1, lines
        assert until in lines[0]


def test_tick_sends_the_welcome_with_its_cause(sq: Shequn) -> None:
    join_at = T0 + mins(5)
    sq.ingest(
        [
            ev("t-1", "group.created", "g-001", None, T0, name="烘焙1群"),
            ev("t-2", "member.joined", "g-001", "u-001", join_at, nickname="小明", scene="qr"),
        ]
    )
    # Nothing is decided while the welcome window is open …
    early = sq.ok("tick", "--until", (join_at + timedelta(seconds=10)).isoformat(), *sq.w).json()
    assert early["actions"]["done"] == 0
    # … and once it has closed the welcome is decided and delivered (sandbox).
    later = (join_at + mins(60)).astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")
    done = sq.ok("tick", "--until", later, *sq.w).json()
    assert done["jobs"] >= 1
    assert done["actions"]["done"] >= 1
    exported = sq.export("actions")
    rows = welcomes(exported)
    assert len(rows) == 1
    action = rows[0]
    missing = [k for k in ACTION_CONTRACT if k not in action]
    assert not missing, missing
    assert action["kind"] == "message.send"
    assert action["group"] == "g-001"
    assert action["status"] == "done"
    assert action["caused_by"] == "t-2"
    assert action["decided_at"] == "2026-11-22T02:05:30Z"  # when the 30 s window closed
    assert action["rule"] and action["reason"]
    assert action["id"] and isinstance(action["id"], str)
    assert "小明" in action["data"]["text"]
    assert action["data"]["mentions"] == ["u-001"]
    # Ticking again changes nothing.
    again = sq.ok("tick", "--until", later, *sq.w).json()
    assert again["jobs"] == 0 and again["actions"]["done"] == 0
    assert sq.export("actions") == exported


# --- 6. exports -------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def lived_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Shequn:
    """A workspace after world() and a tick; shared by tests that only read it."""
    root = tmp_path_factory.mktemp("lived")
    sq = Shequn(request.param, _url(request.param, root, request), root)
    sq.ws = sq.new_workspace()
    sq.ingest(world())
    sq.ok("tick", "--until", (T0 + mins(120)).isoformat(), *sq.w)
    return sq


@pytest.fixture(scope="module")
def lived_jsonl(lived_world: Shequn) -> dict[str, bytes]:
    return lived_world.exports((*CORE_EXPORTS, "groups"))


@pytest.fixture
def lived(lived_world: Shequn, tmp_path: Path) -> Shequn:
    return replace(lived_world, cwd=tmp_path)


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "a csv export starts with a BOM (Excel reads UTF-8)"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx_rows(data: bytes) -> list[list[str]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        sheet = book.worksheets[0]
        return [[_as_csv(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _as_csv(value: Any) -> str:
    return "" if value is None else str(value)


EXPECTED_COLUMNS = {
    "members": {"member"},
    "memberships": {"group", "member"},
    "actions": set(ACTION_CONTRACT),
    "events": {"id", "type", "channel", "group", "member", "at", "data"},
}


@pytest.mark.parametrize("kind", CORE_EXPORTS)
def test_export_formats_agree_and_name_the_channel_ids(
    lived: Shequn, lived_jsonl: dict[str, bytes], kind: str
) -> None:
    sq = lived
    xlsx = sq.cwd / f"{kind}.xlsx"
    csv_out, xlsx_out = sq.many(
        ("export", kind, "--format", "csv", "--header", "ids", *sq.w),
        ("export", kind, "--format", "xlsx", "--header", "ids", "--output", str(xlsx), *sq.w),
    )
    rows = [orjson.loads(line) for line in lived_jsonl[kind].splitlines()]
    assert rows
    table = _csv_rows(csv_out.ok().out)
    header, body = table[0], table[1:]
    assert EXPECTED_COLUMNS[kind] <= set(header), header
    assert len(body) == len(rows)
    for i, column in enumerate(header):
        if column in ("group", "member", "id", "caused_by", "status", "nickname"):
            assert [r[i] for r in body] == [_as_csv(j[column]) for j in rows], column
    assert xlsx_out.ok().out == b""
    assert _xlsx_rows(xlsx.read_bytes()) == table


def test_export_is_stable_and_a_file_equals_stdout(
    lived: Shequn, lived_jsonl: dict[str, bytes]
) -> None:
    sq = lived
    files = {fmt: sq.cwd / f"memberships.{fmt}" for fmt in ("jsonl", "csv")}
    results = sq.many(
        *[("export", "memberships", "-f", fmt, "-o", str(f), *sq.w) for fmt, f in files.items()],
        ("export", "memberships", "-f", "csv", *sq.w),
        ("export", "memberships", "-f", "xlsx", *sq.w),
    )
    to_jsonl, to_csv, csv_, xlsx = (r.ok() for r in results)
    assert to_jsonl.out == b"" and to_csv.out == b""
    # The same rows in the same order as the earlier export (stable), file or stdout alike.
    assert files["jsonl"].read_bytes() == lived_jsonl["memberships"]
    assert files["csv"].read_bytes() == csv_.out
    # Binary xlsx to a pipe is fine too.
    assert _xlsx_rows(xlsx.out) == _csv_rows(csv_.out)


def test_exports_name_what_was_ingested(lived_jsonl: dict[str, bytes]) -> None:
    out = lived_jsonl
    events = [orjson.loads(line) for line in out["events"].splitlines()]
    assert [e["id"] for e in events] == [e["id"] for e in world()]
    assert events[2] == {
        "id": "w-03",
        "type": "member.joined",
        "channel": "sandbox",
        "group": "g-001",
        "member": "u-001",
        "at": "2026-11-22T02:10:00Z",
        "data": {"nickname": "小明", "scene": "qr"},
    }
    memberships = [orjson.loads(line) for line in out["memberships"].splitlines()]
    assert [(m["group"], m["member"], m["active"]) for m in memberships] == [
        ("g-001", "u-001", True),
        ("g-001", "u-002", False),
        ("g-002", "u-001", True),
        ("g-002", "u-003", True),
    ]
    left = memberships[1]
    assert left["left_reason"] == "left" and left["inviter"] == "u-001"
    members = [orjson.loads(line) for line in out["members"].splitlines()]
    assert [m["member"] for m in members] == ["u-001", "u-002", "u-003"]
    groups = {g["group"]: g for g in map(orjson.loads, out["groups"].splitlines())}
    assert groups["g-001"]["capacity"] == 50
    assert groups["g-002"]["capacity"] == 500  # the default capacity
    # After the tick: the two welcomes decided during ingest and the one due later, all done;
    # one welcome for the two newcomers of group 1, one each for group 2.
    done = [
        (a["group"], a["caused_by"], a["status"], a["data"]["mentions"])
        for a in welcomes(out["actions"])
    ]
    assert done == [
        ("g-001", "w-03", "done", ["u-001", "u-002"]),
        ("g-002", "w-06", "done", ["u-001"]),
        ("g-002", "w-09", "done", ["u-003"]),
    ]


def test_export_refuses_an_unknown_kind_or_format(lived: Shequn) -> None:
    sq = lived
    out = sq.cwd / "never.out"
    cases = [(("nope",), "nope"), (("events", "--format", "pdf"), "pdf")]
    results = sq.many(*[("export", *args, "--output", str(out), *sq.w) for args, _ in cases])
    for (_, token), r in zip(cases, results, strict=True):
        assert r.code != 0 and "Traceback" not in r.err, r
        lines = r.err_lines()
        assert len(lines) == 1 and token in lines[0], lines
    assert not out.exists()


def _one_nickname(sq: Shequn, nickname: str) -> None:
    sq.ingest(
        [
            ev("n-1", "group.created", "g-001", None, T0, name="群"),
            ev("n-2", "member.joined", "g-001", "u-001", T0, nickname=nickname, scene="qr"),
        ]
    )


def test_xlsx_export_survives_control_characters_in_a_nickname(sq: Shequn) -> None:
    _one_nickname(sq, "小\x01明")  # a valid event: stored (the ingest succeeds)
    out = sq.cwd / "m.xlsx"
    sq.ok("export", "memberships", "-f", "xlsx", "--header", "ids", "-o", str(out), *sq.w)
    rows = _xlsx_rows(out.read_bytes())
    assert len(rows) == 2 and rows[1][2] == "u-001"


def test_xlsx_export_keeps_text_as_text(sq: Shequn) -> None:
    nickname = '=HYPERLINK("http://evil.example","点我")'
    _one_nickname(sq, nickname)
    out = sq.cwd / "m.xlsx"
    sq.ok("export", "memberships", "-f", "xlsx", "--header", "ids", "-o", str(out), *sq.w)
    book = openpyxl.load_workbook(out)
    try:
        sheet = book.worksheets[0]
        header = [c.value for c in sheet[1]]
        cell = sheet.cell(row=2, column=header.index("nickname") + 1)
        assert cell.value == nickname
        assert cell.data_type == "s", "the nickname became a formula"
    finally:
        book.close()


@pytest.mark.parametrize("where", ["missing-dir", "a-directory"])
def test_an_unusable_output_path_gets_a_one_line_reason(lived: Shequn, where: str) -> None:
    target = lived.cwd / "missing" / "x.jsonl" if where == "missing-dir" else lived.cwd
    lines = lived.fails("export", "events", "--output", str(target), *lived.w)
    assert len(lines) == 1 and str(target) in lines[0]


def test_config_apply_of_a_directory_gets_a_one_line_reason(lived: Shequn) -> None:
    lines = lived.fails("config", "apply", str(lived.cwd), *lived.w)
    assert len(lines) == 1 and str(lived.cwd) in lines[0]


# --- 7. configuration -------------------------------------------------------------------------

BAD_CONFIG = """\
workspace:
  timezone: Mars/Olympus_Mons
  colour: red
groups:
  default_capacity: lots
welcome:
  template: "欢迎 {nick} 来到 {group}"
moderaton:
  enabled: true
"""
BAD_PATHS = [
    "workspace.timezone",
    "workspace.colour",
    "groups.default_capacity",
    "welcome.template",
    "moderaton",
]
MALFORMED_YAML = {
    "flow-sequence": "workspace:\n  timezone: [Asia/Shanghai\n",
    "markup-like": "welcome:\n  template: [/b]]\n",
}

GOOD_CONFIG = """\
workspace:
  timezone: Europe/Berlin
groups:
  default_capacity: 200
welcome:
  template: "欢迎 {mentions} 来到 {group}"
"""


def test_config_show_then_apply_reports_every_error_by_path_and_changes_nothing(
    sq: Shequn,
) -> None:
    as_yaml, as_json = sq.many(("config", "show", *sq.w), ("config", "show", "--json", *sq.w))
    before = as_yaml.ok().out
    assert "timezone: Asia/Shanghai" in as_yaml.text
    assert "default_capacity: 500" in as_yaml.text
    doc = yaml.safe_load(as_yaml.text)
    assert doc["workspace"]["timezone"] == "Asia/Shanghai"
    assert doc["groups"]["default_capacity"] == 500
    assert as_json.ok().json() == doc

    bad = sq.cwd / "bad.yaml"
    bad.write_text(BAD_CONFIG, encoding="utf-8")
    lines = sq.fails("config", "apply", str(bad), *sq.w)
    text = "\n".join(lines)
    for p in BAD_PATHS:
        assert re.search(rf"(^|\s){re.escape(p)}\b", text, re.M), f"{p} not named:\n{text}"
    assert re.search(r"(?<!\d)5(?!\d)", lines[0]), lines[0]  # how many errors

    files = {}
    for name, content in MALFORMED_YAML.items():
        files[name] = sq.cwd / f"broken-{name}.yaml"
        files[name].write_text(content, encoding="utf-8")
    files["not-a-mapping"] = sq.cwd / "list.yaml"
    files["not-a-mapping"].write_text("- workspace\n- groups\n", encoding="utf-8")
    files["absent"] = sq.cwd / "absent.yaml"
    results = sq.many(
        *[("config", "apply", str(path), *sq.w) for path in files.values()],
        ("config", "show", *sq.w),
    )
    for (name, path), r in zip(files.items(), results[:-1], strict=True):
        assert r.code != 0 and "Traceback" not in r.err, (name, r.err)
        lines = r.err_lines()
        if name in MALFORMED_YAML:
            assert len(lines) == 1, lines
            assert path.name in lines[0] and "YAML" in lines[0], lines
        elif name == "not-a-mapping":
            assert "(root)" in r.err
        else:
            assert path.name in lines[0]
    assert results[-1].ok().out == before

    # What show prints can be applied back unchanged.
    current = sq.cwd / "current.yaml"
    current.write_bytes(before)
    sq.ok("config", "apply", str(current), *sq.w)
    assert sq.ok("config", "show", *sq.w).out == before


def test_a_good_config_applies_and_takes_effect(sq: Shequn) -> None:
    path = sq.cwd / "good.yaml"
    path.write_text(GOOD_CONFIG, encoding="utf-8")
    sq.ok("config", "apply", str(path), *sq.w)
    doc = yaml.safe_load(sq.ok("config", "show", *sq.w).text)
    assert doc["workspace"]["timezone"] == "Europe/Berlin"
    assert doc["workspace"]["locale"] == "zh-CN"  # untouched defaults stay
    assert doc["groups"]["default_capacity"] == 200
    assert doc["welcome"]["template"] == "欢迎 {mentions} 来到 {group}"
    assert doc["welcome"]["window_seconds"] == 30

    sq.ingest(
        [
            ev("c-1", "group.created", "g-001", None, T0, name="烘焙1群"),
            ev("c-2", "member.joined", "g-001", "u-001", T0, nickname="小明", scene="qr"),
        ]
    )
    sq.ok("tick", "--until", (T0 + mins(5)).isoformat(), *sq.w)
    out = sq.exports(("groups", "actions"))
    assert orjson.loads(out["groups"])["capacity"] == 200
    assert [a["data"]["text"] for a in welcomes(out["actions"])] == ["欢迎 @小明 来到 烘焙1群"]


# --- 8. tokens --------------------------------------------------------------------------------


def test_token_create_prints_a_fresh_token(sq: Shequn) -> None:
    tokens = []
    for r in sq.many(("token", "create", *sq.w), ("token", "create", "--name", "bot", *sq.w)):
        assert r.ok().err == ""
        lines = r.text.splitlines()
        assert len(lines) == 1
        tokens.append(lines[0])
    for token in tokens:
        assert re.fullmatch(r"sq_[A-Za-z0-9_-]{30,}", token), token
    assert tokens[0] != tokens[1]


def test_tokens_are_listed_and_revoked(sq: Shequn) -> None:
    token = sq.ok("token", "create", "--name", "报表", "--expires-in-days", "30", *sq.w).text
    listed = [orjson.loads(line) for line in sq.ok("token", "list", *sq.w).text.splitlines()]
    mine = next(t for t in listed if t["name"] == "报表")
    assert mine["status"] == "active" and mine["hint"] == token[:7] and mine["expires_at"]
    assert token.strip() not in sq.ok("token", "list", *sq.w).text
    revoked = sq.ok("token", "revoke", str(mine["id"]), *sq.w).json()
    assert revoked["status"] == "revoked"
    lines = sq.fails("token", "revoke", "999999", *sq.w)
    assert len(lines) == 1 and "999999" in lines[0]


# --- 9. simulate ------------------------------------------------------------------------------

SIM = ("simulate", "--groups", "2", "--members", "60", "--days", "3", "--seed", "5")


def test_simulate_is_seeded_and_idempotent(sq: Shequn) -> None:
    first = sq.ok(*SIM, *sq.w).json()
    assert first["accepted"] > 0 and first["duplicates"] == 0
    twin = sq.new_workspace()
    again, twin_run = sq.many((*SIM, *sq.w), (*SIM, "--workspace", twin))
    assert again.ok().json() == {**first, "accepted": 0, "duplicates": first["accepted"]}
    assert twin_run.ok().json() == first

    kinds = ("events", "memberships")
    mine, twins = sq.exports(kinds), sq.exports(kinds, twin)
    assert len(mine["events"].splitlines()) == first["accepted"]
    assert twins == mine


def test_simulate_refuses_a_naive_start(sq: Shequn) -> None:
    lines = sq.fails(*SIM, "--start", "2026-10-01T00:00:00", *sq.w)
    assert "2026-10-01T00:00:00" in lines[0]
    assert sq.export("events") == b""


# --- 10. choosing the workspace ---------------------------------------------------------------


def test_the_workspace_must_be_named_when_there_are_several(sq: Shequn) -> None:
    second = sq.new_workspace()
    sq.ingest(world()[:2])
    results = sq.many(
        ("export", "events"),
        ("ingest", "-"),
    )
    for r in results:
        assert r.code != 0 and "Traceback" not in r.err, r
        lines = r.err_lines()
        assert len(lines) == 1, lines
        assert sq.ws in lines[0] and second in lines[0] and "--workspace" in lines[0], lines
    mine = sq.run("export", "events", env={"SHEQUN_WORKSPACE": sq.ws})
    both = sq.run("export", "events", "-w", second, env={"SHEQUN_WORKSPACE": sq.ws})
    assert len(mine.ok().out.splitlines()) == 2
    assert both.ok().out == b""  # --workspace wins over the environment


@pytest.mark.parametrize("bare", ["sqlite"], indirect=True)
def test_the_only_workspace_needs_no_name(bare: Shequn) -> None:
    name = bare.new_workspace()
    bare.ok("ingest", "-", stdin=b"\n".join(orjson.dumps(e) for e in world()[:2]))
    implicit, explicit = bare.many(("export", "events"), ("export", "events", "-w", name))
    assert len(explicit.ok().out.splitlines()) == 2
    assert implicit.ok().out == explicit.out


# --- the other commands -----------------------------------------------------------------------


@pytest.mark.parametrize("bare", ["sqlite"], indirect=True)
def test_migrate_creates_the_schema_and_is_repeatable(bare: Shequn) -> None:
    bare.ok("migrate")
    assert (bare.cwd / "s.db").exists()
    bare.ok("migrate")


def test_bench_prints_one_json_line_per_workload(tmp_path: Path) -> None:
    cli = Shequn("sqlite", f"sqlite:///{tmp_path / 's.db'}", tmp_path)
    good, bad = cli.many(("bench", "ingest", "--size", "2000", "--json"), ("bench", "nope-load"))
    lines = good.ok().text.splitlines()
    assert len(lines) == 1
    result = orjson.loads(lines[0])
    assert result["workload"] == "ingest"
    assert "rate" in result or "seconds" in result
    assert result["ratio"] > 0
    assert bad.code != 0 and "Traceback" not in bad.err
    assert "nope-load" in bad.err_lines()[0] and "ingest" in bad.err_lines()[0]


@pytest.mark.parametrize("bare", ["sqlite"], indirect=True)
def test_demo_without_serving_prints_a_url_and_a_token(bare: Shequn) -> None:
    mine = bare.new_workspace()
    r = bare.ok("demo", "--no-serve", "--days", "1", "--port", "8765")
    assert "http://127.0.0.1:8765" in r.text
    assert re.search(r"\bsq_[A-Za-z0-9_-]{20,}", r.text)
    assert re.search(r"demo@example\.com / \S{8,}", r.text)  # the console's sign-in
    # The demo lives in a database of its own: the user's holds only their workspace.
    assert bare.ok("workspace", "list").text.split() == [mine]
    demo_db = {"SHEQUN_DATABASE_URL": "sqlite:///./var/demo.db"}
    events = bare.ok("export", "events", "-w", "demo", env=demo_db).out
    assert len(events.splitlines()) > 0


@pytest.mark.parametrize("bare", ["sqlite"], indirect=True)
def test_worker_once_delivers_what_is_due_on_its_clock(bare: Shequn) -> None:
    past = datetime(2020, 1, 1, 10, tzinfo=SHANGHAI)
    bare.ws = bare.new_workspace()
    bare.ingest(
        [
            ev("k-1", "group.created", "g-001", None, past, name="群"),
            ev("k-2", "member.joined", "g-001", "u-001", past, nickname="小明", scene="qr"),
        ]
    )
    bare.spawn("worker", "--once").ok()
    [action] = welcomes(bare.export("actions"))
    assert action["status"] == "done" and action["caused_by"] == "k-2"


SERVING = re.compile(rb"Uvicorn running on (http://[\w.:]+)")


def _serving_at(proc: subprocess.Popen[bytes], log: Path) -> str:
    """The address `shequn serve` says it serves on, once it says so: it is ready then. However
    long a loaded machine takes to start it, so long as the process lives (pytest-timeout
    bounds a hang)."""
    while (ready := SERVING.search(log.read_bytes())) is None:
        assert proc.poll() is None, f"shequn serve exited {proc.returncode}:\n{log.read_text()}"
        time.sleep(0.1)
    return ready.group(1).decode()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Shequn, str]]:
    sq = Shequn("sqlite", f"sqlite:///{tmp_path / 's.db'}", tmp_path)
    sq.ws = sq.new_workspace()
    log = tmp_path / "serve.log"
    with log.open("wb") as fh:
        # Port 0: the system picks a free one, and no other test can take it first.
        proc = subprocess.Popen(
            [SHEQUN, "serve", "--port", "0"],
            cwd=tmp_path,
            env=clean_env(sq.url),
            stdout=fh,
            stderr=fh,
        )
        try:
            base = _serving_at(proc, log)
            assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
            yield sq, base
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def test_a_created_token_reads_its_workspace_through_serve(served: tuple[Shequn, str]) -> None:
    sq, base = served
    other = sq.new_workspace()
    # The world happens in 2096: the server's worker, on the wall clock, finds nothing due, so
    # what the server and the command read cannot change between the two reads. The command
    # that ingests it has its clock there (events ahead of its clock would be refused).
    later = timedelta(days=365 * 70)
    shifted = [{**e, "at": (datetime.fromisoformat(e["at"]) + later).isoformat()} for e in world()]
    path = sq.write("2096.jsonl", shifted)
    sq.ok("ingest", str(path), *sq.w, env={"SHEQUN_NOW": (NOW + later).isoformat()})
    token = sq.ok("token", "create", *sq.w).text.strip()
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.get(f"{base}/api/v1/workspaces/{sq.ws}/exports/events", headers=headers)
    assert r.status_code == 200
    assert r.content == sq.export("events")
    r = httpx.get(f"{base}/api/v1/workspaces/{other}/exports/events", headers=headers)
    assert r.status_code in (403, 404)
    assert r.headers["content-type"].startswith("application/problem+json")


def test_concurrent_first_use_of_a_fresh_sqlite_database(tmp_path: Path) -> None:
    for attempt in range(3):
        root = tmp_path / f"try-{attempt}"
        root.mkdir()
        cli = Shequn("sqlite", f"sqlite:///{root / 's.db'}", root)
        for r in cli.at_once(*[("workspace", "create", f"w-{i}") for i in range(4)]):
            r.ok()
        assert sorted(cli.ok("workspace", "list").text.split()) == [f"w-{i}" for i in range(4)]
