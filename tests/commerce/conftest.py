"""The commerce command line on each test's database."""

from __future__ import annotations

import pytest
from typer import Typer

from shequn.settings import Settings, get_settings


@pytest.fixture
def cli(cli_settings: Settings) -> Typer:
    """The `shequn` command as users run it, on this test's database."""
    from shequn.cli import app

    return app


@pytest.fixture
def cli_en(cli_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Typer:
    """The `shequn` command with SHEQUN_LOCALE=en: its error lines in English."""
    from shequn.cli import app

    monkeypatch.setenv("SHEQUN_LOCALE", "en")
    get_settings.cache_clear()
    return app
