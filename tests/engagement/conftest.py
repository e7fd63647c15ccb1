"""The `shequn` command in process, on the test's database: `shequn(*args)` runs it the way an
operator would type it and returns its exit code and output (stdout and stderr)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner, Result

from shequn.cli import app
from shequn.events import Event
from shequn.settings import Settings

Shequn = Callable[..., Result]


@pytest.fixture
def shequn(cli_settings: Settings) -> Shequn:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return run


def write_events(path: Path, evs: Iterable[Event]) -> Path:
    """Events as the JSON-lines file `shequn ingest` reads."""
    path.write_bytes(b"".join(orjson.dumps(ev.to_json_dict()) + b"\n" for ev in evs))
    return path
