"""The commerce commands: import orders from CSV, issue and redeem coupons, pay commissions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
from sqlalchemy import Engine
from typer import Typer
from typer.testing import CliRunner

from shequn.community.workspace import WorkspaceInfo
from tests.factories import NOW
from tests.growth.helpers import configure, rows

# Paid the day before the suite's "now" (the commands' clock), and a commission stays pending
# for the refund window after its order.
_YESTERDAY = (NOW - timedelta(days=1)).replace(microsecond=0)
CSV = f"""order_id,member,amount_fen,paid_at,promoter
o-1,buyer,5000,{_YESTERDAY.isoformat()},promoter
o-2,buyer,8000,{(_YESTERDAY + timedelta(hours=1)).isoformat()},
"""


def test_commerce_commands(
    cli: Typer, engine: Engine, workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "distribution": {"enabled": True},
            "coupons": {"templates": {"ten": {"name": "立减10元", "amount_fen": 1000}}},
        },
    )
    runner = CliRunner()
    file = tmp_path / "orders.csv"
    file.write_text(CSV, encoding="utf-8")
    done = runner.invoke(cli, ["order", "import", str(file), "-w", ws.slug])
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.output) == {"accepted": 2, "duplicates": 0, "conflicts": []}
    bad = tmp_path / "bad.csv"
    bad.write_text("order_id,member\no-1,x\n", encoding="utf-8")
    refused = runner.invoke(cli, ["order", "import", str(bad), "-w", ws.slug])
    assert refused.exit_code == 2 and "amount_fen" in refused.output
    code = runner.invoke(cli, ["coupon", "issue", "ten", "buyer", "-w", ws.slug]).output.strip()
    redeemed = runner.invoke(cli, ["coupon", "redeem", code, "-w", ws.slug])
    assert redeemed.exit_code == 0 and orjson.loads(redeemed.output)["status"] == "redeemed"
    twice = runner.invoke(cli, ["coupon", "redeem", code, "-w", ws.slug])
    assert twice.exit_code == 0  # the same redemption again changes nothing
    listed = runner.invoke(cli, ["commission", "list", "-w", ws.slug])
    assert [orjson.loads(x)["amount_fen"] for x in listed.output.splitlines()] == [1500]
    paid = runner.invoke(cli, ["commission", "pay", "-w", ws.slug])
    assert paid.output.strip() == "0"  # still pending: inside the refund window
    secret = runner.invoke(cli, ["shop", "create", "youzan", "-w", ws.slug]).output.strip()
    assert len(secret) > 30
    assert [o["order_id"] for o in rows(engine, ws, "orders")] == ["o-1", "o-2"]
