"""Growth and commerce register their rules and books on import;
until the core lists them (engine.rules.RULE_MODULES) the tests load them here."""

from __future__ import annotations

import pytest
from typer import Typer

from shequn.settings import Settings
from tests.growth.helpers import load_domains

load_domains()


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Typer:
    """The `shequn` command as users run it, on this test's database."""
    from shequn.cli import app

    monkeypatch.setattr("shequn.cli.get_settings", lambda: settings)
    return app
