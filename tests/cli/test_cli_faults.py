"""A command that fails for a reason outside the user's input (a database it cannot open, a
full disk, a bug) prints one line and leaves the details in the log file: never a traceback,
never the statement's values on the terminal."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from shequn.cli_support import _fault
from shequn.platform.db import make_engine, transaction
from shequn.settings import Settings
from tests.cli.helpers import SHEQUN, clean_env, in_process


def test_a_fault_is_one_line_and_the_traceback_goes_to_the_log(tmp_path: Path) -> None:
    unusable = tmp_path / "db.sqlite"
    unusable.mkdir()  # a directory where the database file should be
    logs = tmp_path / "logs"
    env = clean_env(f"sqlite:///{unusable}", SHEQUN_LOG_DIR=str(logs), SHEQUN_LOCALE="en")
    done = subprocess.run(
        [SHEQUN, "workspace", "create", "acme"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    lines = done.stderr.decode().splitlines()
    assert done.returncode == 1
    assert len(lines) == 1, lines
    assert "unable to open database file" in lines[0] and str(logs) in lines[0]
    logged = (logs / "shequn.log").read_text(encoding="utf-8")
    assert "Traceback" in logged and "OperationalError" in logged


def test_a_database_error_names_the_fault_without_the_values(
    settings: Settings, tmp_path: Path
) -> None:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    secret = "加我微信 abc123 领红包"
    with pytest.raises(Exception) as caught, transaction(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE t (x TEXT UNIQUE)")
        for _ in range(2):
            conn.execute(text("INSERT INTO t (x) VALUES (:x)"), {"x": secret})
    engine.dispose()
    assert secret not in str(caught.value)  # hidden by the engine, for logs too
    fault = _fault(caught.value)
    assert fault.startswith("IntegrityError: UNIQUE constraint failed") and secret not in fault


def test_a_busy_port_is_one_line_naming_the_option(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(f"sqlite:///{tmp_path / 'x.db'}", SHEQUN_LOCALE="en")
        done = subprocess.run(
            [SHEQUN, "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            timeout=120,
        )
    lines = done.stderr.decode().splitlines()
    assert done.returncode == 2 and len(lines) == 1, lines
    assert f"127.0.0.1:{port}" in lines[0] and "--port" in lines[0]
    assert not (tmp_path / "x.db").exists()  # refused before any start-up work


def test_an_empty_input_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    empty = tmp_path / "events.jsonl"
    empty.write_bytes(b"")
    assert in_process(url, tmp_path, ["workspace", "create", "acme"])[0] == 0
    code, out, err = in_process(url, tmp_path, ["ingest", str(empty), "-w", "acme"])
    assert code == 0 and b'"accepted":0' in out
    assert "没有事件" in err and str(empty) in err
