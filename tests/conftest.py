"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
SHEQUN_TEST_POSTGRES_URL is set. The schema always comes from the migrations."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from shequn.community.service import do_create_workspace
from shequn.community.workspace import WorkspaceInfo
from shequn.domains import install
from shequn.platform.db import make_engine, transaction
from shequn.platform.migrate import upgrade
from shequn.settings import Settings, get_settings
from tests.factories import NOW

POSTGRES_URL = os.environ.get("SHEQUN_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("SHEQUN_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])

install()  # the tests run the program's domains, as its entry points do


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    """Every test's clock stands at NOW: Settings, the `shequn` command (in process and
    spawned), the API and the worker read SHEQUN_NOW, so the suite is the same on any day."""
    monkeypatch.setenv("SHEQUN_NOW", NOW.isoformat())
    get_settings.cache_clear()
    yield NOW
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def secret_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Channel secrets are sealed with a key made in the test's own folder, never in the
    checkout's var/ (a `shequn` command run by a test keeps its own, under its cwd)."""
    monkeypatch.setenv("SHEQUN_SECRET_KEY_FILE", str(tmp_path / "secret.key"))


@pytest.fixture(scope="session")
def analytics_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("analytics-store")


@pytest.fixture(autouse=True)
def kept_analytics(monkeypatch: pytest.MonkeyPatch, analytics_dir: Path) -> None:
    """Reports keep their analytics store under the session's temporary directory, never
    in the working directory (each database has its own files there)."""
    monkeypatch.setenv("SHEQUN_ANALYTICS_DIR", str(analytics_dir))
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "shequn.db"
    upgrade(Settings(database_url=f"sqlite:///{path}"))
    return path


def worker_database(url: str) -> str:
    """The database of this test process. Under pytest-xdist each worker has its own,
    `<database>_<worker>` (test_gw0, test_gw1 …) on the same server, made when missing: every
    worker resets its schema once per session, which would pull the tables from under the
    others' tests in one shared database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A clean schema built by the migrations, once per session (per xdist worker)."""
    assert POSTGRES_URL is not None
    url = worker_database(POSTGRES_URL)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(Settings(database_url=url))
    return url


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Settings:
    if request.param == "sqlite":
        path = tmp_path / "shequn.db"
        shutil.copy(sqlite_template, path)
        return Settings(database_url=f"sqlite:///{path}")
    return Settings(database_url=request.getfixturevalue("postgres_url"))


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """`settings` for the `shequn` command run in this process (typer.testing.CliRunner): in
    the environment, as a user gives them, and read afresh by `get_settings`."""
    monkeypatch.setenv("SHEQUN_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


def create_workspace(engine: Engine, slug: str | None = None) -> WorkspaceInfo:
    """Each test works in its own workspace: on a shared PostgreSQL that is the isolation."""
    with transaction(engine) as conn:
        return do_create_workspace(conn, slug or f"t-{uuid.uuid4().hex[:12]}", now=NOW)


@pytest.fixture
def workspace(engine: Engine) -> WorkspaceInfo:
    return create_workspace(engine)
