"""Running `shequn` for the command-line tests: in this process, or as the installed console
script in a process of its own where the process itself matters (serve, worker, kill -9,
concurrent processes, a real pipe)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from typer.testing import CliRunner

from shequn.cli import app
from shequn.platform.db import dispose_engines
from shequn.settings import get_settings
from tests.factories import NOW

_NEXT_TO_PYTHON = Path(sys.executable).parent / "shequn"
SHEQUN = str(_NEXT_TO_PYTHON) if _NEXT_TO_PYTHON.exists() else (shutil.which("shequn") or "shequn")

PYCACHE = Path(tempfile.gettempdir()) / f"shequn-cli-tests-pycache-{os.getuid()}"
"""Bytecode of the processes these tests start, kept outside the source tree: each command
is a new interpreter, and recompiling the package every time would double the suite's time."""

TERMINAL = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
ENGLISH = {"SHEQUN_LOCALE": "en"}
"""For the tests that read the English help: the message ids, as the code writes them."""


def clean_env(url: str, **extra: str) -> dict[str, str]:
    """The user's environment without any SHEQUN_* setting of theirs, pointed at `url`, with
    the suite's clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEQUN_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(PYTHONPYCACHEPREFIX=str(PYCACHE))
    env.update(SHEQUN_DATABASE_URL=url, SHEQUN_NOW=NOW.isoformat(), **TERMINAL)
    env.update(extra)
    return env


_RUNNER = CliRunner()


def in_process(
    url: str,
    cwd: Path,
    args: Sequence[str],
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, bytes, str]:
    """`shequn ARGS` called in this process as a user would type it: in `cwd`, with `stdin`,
    and with the same environment `clean_env` gives a process (no SHEQUN_* setting but the
    database, the suite's clock and `env`). Returns the exit status, stdout and stderr; an
    exception that escaped the command is on stderr as its traceback, with status 1, as a
    process would show it."""
    environment: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SHEQUN_")}
    # The command sets gettext's LANGUAGE from SHEQUN_LOCALE (shequn.cli_language); named
    # here, it is put back as it was when the command ends.
    environment.update(LANGUAGE=None)
    environment.update(SHEQUN_DATABASE_URL=url, SHEQUN_NOW=NOW.isoformat(), **TERMINAL)
    environment.update(env or {})
    get_settings.cache_clear()
    try:
        with contextlib.chdir(cwd):
            result = _RUNNER.invoke(app, list(args), input=stdin or b"", env=environment)
    finally:
        get_settings.cache_clear()  # read afresh by the next command, with its environment
        dispose_engines()  # a process's connections end with it; so do this command's
    err = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        err += "".join(traceback.format_exception(result.exception))
    return result.exit_code, result.stdout_bytes, err
