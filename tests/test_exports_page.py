"""A page of an export reads what it needs and closes the rest: on PostgreSQL an export reads
through a server-side cursor, which must not outlive the request's connection."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.exports import EXPORTS, load_export_modules, page
from tests.factories import joined


def test_a_page_closes_the_rows_it_did_not_read() -> None:
    closed = []

    def rows() -> Iterator[dict[str, Any]]:
        try:
            yield from ({"n": n} for n in range(10))
        finally:
            closed.append(True)

    assert page(rows(), 2, 3) == [{"n": 2}, {"n": 3}, {"n": 4}]
    assert closed == [True]
    assert page(rows(), 0, 2, keep=lambda r: r["n"] % 2 == 1) == [{"n": 1}, {"n": 3}]
    assert closed == [True, True]


def test_a_page_of_a_real_export_leaves_no_cursor_open(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    load_export_modules()
    do_ingest_events(engine, workspace, [joined(f"u-{i}") for i in range(5)])
    with engine.connect() as conn:
        first = page(EXPORTS["memberships"].rows(conn, workspace), 0, 2)
    gc.collect()  # an unclosed server-side cursor warns here, and warnings fail the suite
    assert [r["member"] for r in first] == ["u-0", "u-1"]
