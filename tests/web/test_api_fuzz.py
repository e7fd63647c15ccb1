"""Schemathesis drives every operation of Shequn's own OpenAPI in process (ASGI, no server):
the schema's examples, its boundary values and values just outside them, then generated
requests. No answer may be a 5xx. Generation is derandomized, so a run is the same every
time: a failure here is a bug to fix, never a flake."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from sqlalchemy import Engine

from shequn.community.service import do_apply_config, do_create_token
from shequn.platform.db import transaction
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.conftest import create_workspace
from tests.factories import NOW
from tests.web.test_api_contract import CONFIG

EXAMPLES = 10
"""Generated requests per operation, beside the examples and boundary values."""

SHARDS = 4
"""The operations are split into this many tests, so pytest-xdist spreads them."""


OLDEST = NOW - timedelta(days=30)


def recent(body: Any) -> None:
    """An `at` decades old is valid history, and the next event in the workspace then runs the
    daily work of every day since (in bounded transactions, tested in test_web_event_bounds):
    correct, but minutes of work per example. Generated times are kept to the last month."""
    if isinstance(body, dict) and isinstance(body.get("at"), str):
        with contextlib.suppress(ValueError):
            at = datetime.fromisoformat(body["at"])
            if at.tzinfo is not None and at < OLDEST:
                body["at"] = OLDEST.isoformat()


@pytest.fixture
def fuzzed(settings: Settings, engine: Engine) -> Iterator[tuple[Any, str, str]]:
    ws = create_workspace(engine)
    with transaction(engine) as conn:
        do_apply_config(conn, ws.slug, CONFIG)
        token = do_create_token(conn, ws.slug, now=NOW)
    app = create_app(settings, engine)
    with TestClient(app):
        yield app, ws.slug, token


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_operation_answers_5xx(fuzzed: tuple[Any, str, str], shard: int) -> None:
    app, slug, token = fuzzed
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    # Every request is in this test's workspace, with its token.
    api.config.update(headers={"Authorization": f"Bearer {token}"}, parameters={"ws": slug})
    api.config.generation.update(max_examples=EXAMPLES, deterministic=True, database="none")
    api.config.seed = 0
    failures: list[str] = []

    def call(case: Any) -> None:
        recent(case.body)
        where = f"{case.method} {case.formatted_path} query={case.query} body={case.body!r:.300}"
        try:
            response = case.call()
        except Exception as exc:  # the app raised: what a server answers with a 500
            failures.append(f"{where}: {type(exc).__name__}: {exc!s:.300}")
            return
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code} {response.text:.300}")

    operations = sorted(
        (result.ok() for result in api.get_all_operations()), key=lambda op: op.label
    )
    for operation in operations[shard::SHARDS]:
        test = build_operation_test(
            config=api.config,
            operation=operation,
            test_func=call,
            given_kwargs={},
            feedback=FeedbackSources(),
            explicit_settings=settings(deadline=None, suppress_health_check=list(HealthCheck)),
        )
        test()
    assert not failures, "\n".join(failures)
