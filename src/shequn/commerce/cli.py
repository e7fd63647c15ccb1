"""Command line of commerce: `shequn order import FILE.csv`, `shequn order chain …`,
`shequn coupon …`, `shequn promoter …`,
`shequn commission …`, `shequn shop create KEY`. Each command parses, then calls the
services."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from shequn.cli_support import (
    UserError,
    WorkspaceOpt,
    find_workspace,
    guarded,
    in_workspace,
    latest,
    now,
    open_engine,
    out,
)

order_app = typer.Typer(help="Orders and refunds.", no_args_is_help=True)
coupon_app = typer.Typer(help="Coupons 优惠券.", no_args_is_help=True)
commission_app = typer.Typer(help="Distribution commissions 分销佣金.", no_args_is_help=True)
shop_app = typer.Typer(help="Shops that call the order webhook.", no_args_is_help=True)
promoter_app = typer.Typer(help="Promoters 分销员: enrol, tier, disable.", no_args_is_help=True)
chain_app = typer.Typer(
    help="Order chains 接龙: confirm entries as paid, or cancel.", no_args_is_help=True
)
order_app.add_typer(chain_app, name="chain")


@order_app.command("import")
def order_import(
    file: Annotated[Path, typer.Argument(help="CSV: order_id, member, amount_fen, paid_at …")],
    workspace: WorkspaceOpt = None,
    channel: Annotated[str, typer.Option(help="Chat platform of members without one.")] = "sandbox",
) -> None:
    """Import orders (and refunds) from CSV; every line is checked before anything is stored."""
    from shequn.commerce.orders import orders_from_csv
    from shequn.engine.service import do_ingest_items
    from shequn.events import BatchRejected

    engine = open_engine()

    def run() -> Any:
        if not file.is_file():
            raise UserError(f"no such file: {file}")
        events, errors = orders_from_csv(file.read_text(encoding="utf-8-sig"), channel)
        if errors:
            raise BatchRejected(errors, unit="line")
        ws = find_workspace(engine, workspace)
        return do_ingest_items(engine, ws, events, latest=latest())

    report = guarded(run)
    sys.stdout.write(
        orjson.dumps(
            {
                "accepted": report.accepted,
                "duplicates": report.duplicates,
                "conflicts": report.conflicts,
            }
        ).decode()
        + "\n"
    )


@order_app.command("list")
def order_list(workspace: WorkspaceOpt = None) -> None:
    """Orders with their attribution, as JSON lines."""
    from shequn.commerce.orders import list_orders

    for row in in_workspace(workspace, list_orders):
        sys.stdout.write(orjson.dumps(row).decode() + "\n")


@chain_app.command("list")
def chain_list(
    workspace: WorkspaceOpt = None,
    status: Annotated[str | None, typer.Option(help="claimed, paid, cancelled …")] = None,
    group: Annotated[str | None, typer.Option(help="Only this group's chains.")] = None,
) -> None:
    """Chain entries with their status, as JSON lines."""
    from shequn.commerce.chain_orders import list_entries

    for row in in_workspace(workspace, lambda conn, ws: list_entries(conn, ws, status, group)):
        sys.stdout.write(orjson.dumps(row).decode() + "\n")


@chain_app.command("confirm")
def chain_confirm(
    ids: Annotated[list[str], typer.Argument(help="Entry ids (chain:…:N) or chain ids.")],
    workspace: WorkspaceOpt = None,
    amount_fen: Annotated[
        int | None, typer.Option(min=0, help="What was paid, for one unpriced entry.")
    ] = None,
) -> None:
    """Confirm entries as paid: each becomes an order like a shop's (twice is one order)."""
    from shequn.commerce.chain_orders import do_confirm_entries

    done = in_workspace(
        workspace,
        lambda conn, ws: do_confirm_entries(conn, ws, ids, now(), amount_fen),
        write=True,
    )
    for row in done:
        sys.stdout.write(orjson.dumps(row).decode() + "\n")


@chain_app.command("cancel")
def chain_cancel(
    ids: Annotated[list[str], typer.Argument(help="Entry ids (chain:…:N) or chain ids.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Cancel claimed entries (a paid one is refunded instead, as any order)."""
    from shequn.commerce.chain_orders import do_cancel_entries

    done = in_workspace(workspace, lambda conn, ws: do_cancel_entries(conn, ws, ids), write=True)
    for row in done:
        sys.stdout.write(orjson.dumps(row).decode() + "\n")


@coupon_app.command("issue")
def coupon_issue(
    template: str,
    member: str,
    workspace: WorkspaceOpt = None,
    channel: Annotated[str, typer.Option(help="Chat platform of the member.")] = "sandbox",
    key: Annotated[str | None, typer.Option(help="Idempotency key (default: a new one).")] = None,
) -> None:
    """Issue a coupon from a template; prints its code."""
    from shequn.commerce.coupons import issue_coupon

    at = now()
    coupon = in_workspace(
        workspace,
        lambda conn, ws: issue_coupon(
            conn,
            ws,
            template=template,
            channel=channel,
            member=member,
            key=key or f"cli:{template}:{member}:{at.isoformat()}",
            reason="staff",
            at=at,
        ),
        write=True,
    )
    sys.stdout.write(coupon["code"] + "\n")


@coupon_app.command("redeem")
def coupon_redeem(code: str, workspace: WorkspaceOpt = None) -> None:
    """Redeem 核销 a coupon (through the engine, as the API does)."""
    from shequn.commerce.coupons import access_coupon
    from shequn.engine.service import do_ingest_items

    engine = open_engine()

    def run() -> dict[str, Any]:
        ws = find_workspace(engine, workspace)
        with engine.connect() as conn:
            coupon = access_coupon(conn, ws, code)
        raw = {
            "id": f"coupon:{code}:redeem",
            "type": "coupon.redeemed",
            "channel": coupon["channel"],
            "member": coupon["member"],
            "at": now().isoformat(),
            "data": {"coupon_id": code},
        }
        do_ingest_items(engine, ws, [raw], latest=latest())
        with engine.connect() as conn:
            after = access_coupon(conn, ws, code)
        if after["status"] != "redeemed":
            raise UserError(f"coupon {code} is {after['status']}")
        return after

    sys.stdout.write(orjson.dumps(guarded(run)).decode() + "\n")


@coupon_app.command("stats")
def coupon_stats_cmd(workspace: WorkspaceOpt = None) -> None:
    """Issued, redeemed, expired and redemption rate per template."""
    from shequn.commerce.coupons import coupon_stats

    table = Table("template", "issued", "redeemed", "expired", "redemption rate")
    for s in in_workspace(workspace, coupon_stats):
        rate = "—" if s["redemption_rate"] is None else f"{s['redemption_rate']:.1%}"
        table.add_row(s["template"], str(s["issued"]), str(s["redeemed"]), str(s["expired"]), rate)
    out.print(table)


@commission_app.command("list")
def commission_list(
    workspace: WorkspaceOpt = None,
    status: Annotated[str | None, typer.Option(help="pending, confirmed, paid, reversed.")] = None,
) -> None:
    """Commissions as JSON lines."""
    from shequn.commerce.distribution import list_commissions

    for row in in_workspace(workspace, lambda conn, ws: list_commissions(conn, ws, status)):
        sys.stdout.write(orjson.dumps(row).decode() + "\n")


@commission_app.command("pay")
def commission_pay(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Commission ids (default: all confirmed).")
    ] = None,
    workspace: WorkspaceOpt = None,
    promoter: Annotated[str | None, typer.Option(help="Only this promoter's.")] = None,
) -> None:
    """Record confirmed commissions as paid."""
    from shequn.commerce.distribution import do_pay

    paid = in_workspace(
        workspace, lambda conn, ws: do_pay(conn, ws, now(), ids or None, promoter), write=True
    )
    sys.stdout.write(f"{paid}\n")


ChannelOpt = Annotated[str, typer.Option(help="Chat platform of the member.")]


@promoter_app.command("list")
def promoter_list(workspace: WorkspaceOpt = None) -> None:
    """Promoters with tier, status, sales and orders, as JSON lines."""
    from shequn.commerce.distribution import list_promoters

    for row in in_workspace(workspace, list_promoters):
        sys.stdout.write(orjson.dumps(row).decode() + "\n")


@promoter_app.command("enrol")
def promoter_enrol(
    member: str,
    workspace: WorkspaceOpt = None,
    channel: ChannelOpt = "sandbox",
    tier: Annotated[str | None, typer.Option(help="Fix this tier (default: by sales).")] = None,
) -> None:
    """Enrol a member as a promoter (a disabled one is active again)."""
    from shequn.commerce.distribution import do_enrol

    row = in_workspace(
        workspace, lambda conn, ws: do_enrol(conn, ws, channel, member, now(), tier), write=True
    )
    sys.stdout.write(orjson.dumps(row).decode() + "\n")


@promoter_app.command("tier")
def promoter_tier(
    member: str,
    tier: Annotated[str, typer.Argument(help="A tier's name, or 'auto' to follow sales.")],
    workspace: WorkspaceOpt = None,
    channel: ChannelOpt = "sandbox",
) -> None:
    """Set or change a promoter's tier."""
    from shequn.commerce.distribution import do_set_tier

    fixed = None if tier == "auto" else tier
    row = in_workspace(
        workspace, lambda conn, ws: do_set_tier(conn, ws, channel, member, fixed), write=True
    )
    sys.stdout.write(orjson.dumps(row).decode() + "\n")


@promoter_app.command("disable")
def promoter_disable(
    member: str, workspace: WorkspaceOpt = None, channel: ChannelOpt = "sandbox"
) -> None:
    """Disable a promoter: no new commissions (those made are kept)."""
    from shequn.commerce.distribution import do_disable

    row = in_workspace(
        workspace, lambda conn, ws: do_disable(conn, ws, channel, member, now()), write=True
    )
    sys.stdout.write(orjson.dumps(row).decode() + "\n")


@shop_app.command("create")
def shop_create(
    key: str,
    workspace: WorkspaceOpt = None,
    name: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str, typer.Option(help="Chat platform of the shop's buyers.")] = "sandbox",
) -> None:
    """Create a shop; prints its webhook secret (shown only once)."""
    from shequn.commerce.orders import do_create_shop
    from shequn.growth.livecode import check_key

    def make(conn: Any, ws: Any) -> str:
        check_key(key, "shop")
        return do_create_shop(conn, ws, key, name, channel, now())

    sys.stdout.write(in_workspace(workspace, make, write=True) + "\n")
