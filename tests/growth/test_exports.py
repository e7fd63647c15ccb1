"""Every export of growth and commerce writes in each format, named by the channel's ids."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import Engine

from shequn.community.workspace import WorkspaceInfo
from shequn.exports import EXPORTS, load_export_modules, write_export
from shequn.growth import livecode
from shequn.platform.db import transaction
from tests.factories import NOW, T0

KINDS = (
    "rewards",
    "referrals",
    "scans",
    "livecodes",
    "livecode_groups",
    "participants",
    "cards",
    "claims",
    "assists",
    "orders",
    "commissions",
    "coupons",
    "paid_memberships",
    "promoters",
    "chain_entries",
)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_every_kind_exports(engine: Engine, workspace: WorkspaceInfo, fmt: str) -> None:
    with transaction(engine) as conn:
        livecode.do_create_code(conn, workspace, "lc-1", groups_=["g-1"], at=NOW)
        livecode.do_scan(conn, workspace, "lc-1", at=T0, scanner="u-1")
    load_export_modules()
    assert set(KINDS) <= set(EXPORTS)
    with engine.connect() as conn:
        for kind in KINDS:
            out = io.BytesIO()
            write_export(conn, workspace, kind, fmt, out)
            assert out.getvalue() or fmt == "jsonl", kind
    buf = io.BytesIO()
    with engine.connect() as conn:
        assert write_export(conn, workspace, "scans", "csv", buf, header="ids") == 1
    assert buf.getvalue().decode("utf-8-sig").splitlines()[0] == ",".join(EXPORTS["scans"].columns)
