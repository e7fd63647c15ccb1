"""Posters (drawn, cached, served, received / shared) and the campaign review with every
figure, through the API and `shequn report campaign`."""

from __future__ import annotations

import io
from datetime import timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from typer import Typer
from typer.testing import CliRunner

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.growth import livecode
from shequn.growth.api import LIMITER
from shequn.growth.posters import PosterCache, PosterSpec, find_font, render
from shequn.growth.qr import qr_png
from shequn.growth.review import render_html, review
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import T0, joined, left, posted
from tests.growth.helpers import app_with_domains, configure, token

DAY = timedelta(days=1)
SPEC = PosterSpec(
    title="老带新 · 邀请好友得红包",
    copy_text="邀请 3 位好友进群，即得 10 元红包",
    nickname="小明",
    qr_text="http://127.0.0.1:8000/l/abc?i=u-1",
    hint="长按识别二维码 加入社群",
)


def test_poster_is_drawn_and_cached() -> None:
    png = render(SPEC)
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size) == ("PNG", (750, 1334))
    cache = PosterCache(size=2)
    assert cache.get(SPEC) == cache.get(SPEC)
    assert (cache.hits, cache.misses) == (1, 1)


def test_chinese_text_is_drawn_with_a_cjk_font() -> None:
    font = find_font()
    if font is None:
        pytest.fail("no CJK font: the project's setup installs fonts-wqy-microhei")
    from PIL import ImageDraw, ImageFont

    face = ImageFont.truetype(font, 40)

    def drawn(ch: str) -> bytes:
        image = Image.new("L", (48, 48), 0)
        ImageDraw.Draw(image).text((4, 0), ch, font=face, fill=255)
        return image.tobytes()

    # Without the glyphs both would be the same empty box (豆腐块).
    assert drawn("红") != drawn("包") and any(drawn("红"))


def campaign_world(engine: Engine, ws: WorkspaceInfo) -> WorkspaceInfo:
    ws = configure(
        engine,
        ws,
        {
            "campaigns": {
                "spring": {
                    "model": "invitation",
                    "name": "春季老带新",
                    "owner": "运营小李",
                    "copy_text": "邀请好友进群领红包",
                    "starts_at": (T0 - DAY).isoformat(),
                    "ends_at": (T0 + 10 * DAY).isoformat(),
                    "budget_fen": 10_000,
                    "ladder": [{"min_invites": 1, "per_invite_fen": 500}],
                    "goal": {"new_members": 5, "groups": 2, "join_rate": 0.5},
                    "forecast": {"new_members": 4, "groups": 1},
                }
            }
        },
    )
    with transaction(engine) as conn:
        livecode.do_create_code(conn, ws, "lc-spring", campaign="spring", admissions_cap=3, at=T0)
    return ws


def test_posters_served_and_the_review(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = campaign_world(engine, workspace)
    LIMITER.reset()
    auth = token(engine, ws)
    with engine.connect() as conn:
        code = livecode.access_code(conn, ws, "lc-spring")
    do_ingest_events(
        engine, ws, [joined("boss", "g-0", at=T0 - DAY), joined("amy", "g-0", at=T0 - DAY)]
    )
    with TestClient(app_with_domains(settings, engine)) as client:
        for who in ("boss", "amy"):
            r = client.get(f"/p/{code['token']}/{who}.png")
            assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        client.post(
            f"/api/v1/workspaces/{ws.slug}/campaigns/spring/shares",
            json={"member": "boss"},
            headers=auth,
        )
    # Five people scan boss's personal code; four join, one leaves at once, one never joins.
    with transaction(engine) as conn:
        tickets = [
            livecode.do_scan(
                conn,
                ws,
                "lc-spring",
                at=T0 + timedelta(minutes=i),
                scanner=f"n-{i}",
                inviter="boss",
            )
            for i in range(5)
        ]
        for i in range(4):
            livecode.do_sandbox_join(
                conn,
                ws,
                tickets[i].scan,
                f"n-{i}",
                f"新人{'甲乙丙丁'[i]}",
                T0 + timedelta(minutes=10 + i),
            )
    do_ingest_events(
        engine,
        ws,
        [left("n-3", tickets[3].group or "", at=T0 + timedelta(hours=1))]
        + [posted(f"n-{i}", "每日打卡", tickets[i].group or "", at=T0 + 8 * DAY) for i in range(2)],
    )
    tick(engine, ws, T0 + 9 * DAY)
    with engine.connect() as conn:
        figures = review(conn, ws, "spring", now=T0 + 9 * DAY)
    assert figures["groups_made"] == 2  # the code made its first two groups
    assert (figures["scans"], figures["scanners"], figures["joined"]) == (5, 5, 4)
    assert figures["join_rate"] == 0.8
    assert (
        figures["posters"],
        figures["shared"],
        figures["forward_rate"],
        figures["forward_pass"],
    ) == (2, 1, 0.5, True)
    assert (figures["new_members"], figures["net_new_members"]) == (4, 3)
    assert (figures["valid_invites"], figures["invalid_invites"]) == (3, 1)
    assert (figures["reward_cost_fen"], figures["cost_per_new_member_fen"]) == (1500, 500)
    assert figures["budget_left_fen"] == 8500
    assert figures["retention"]["d1"] == {"eligible": 4, "retained": 2, "rate": 0.5}
    assert figures["retention"]["d30"]["eligible"] == 0
    assert figures["goal_forecast_actual"][0] == {
        "figure": "new_members",
        "goal": 5,
        "forecast": 4,
        "actual": 3,
    }
    page = render_html(figures)
    assert "<svg" in page and "裂变群数" in page and "海报转发率" in page
    with TestClient(app_with_domains(settings, engine)) as client:
        api = client.get(f"/api/v1/workspaces/{ws.slug}/campaigns/spring/review", headers=auth)
        assert api.status_code == 200 and api.json()["valid_invites"] == 3
        html_page = client.get(
            f"/api/v1/workspaces/{ws.slug}/campaigns/spring/review.html", headers=auth
        )
        assert html_page.status_code == 200 and "<svg" in html_page.text
    LIMITER.reset()


def test_report_campaign_command(
    cli_settings: Settings,
    engine: Engine,
    workspace: WorkspaceInfo,
    tmp_path,
) -> None:
    from shequn.growth.cli import campaign_app, livecode_app, report_app

    ws = campaign_world(engine, workspace)
    app = Typer()
    app.add_typer(report_app, name="report")
    app.add_typer(campaign_app, name="campaign")
    app.add_typer(livecode_app, name="livecode")
    runner = CliRunner()
    page = tmp_path / "review.html"
    result = runner.invoke(
        app, ["report", "campaign", "spring", "-w", ws.slug, "--html", str(page)]
    )
    assert result.exit_code == 0, result.output
    assert "进群率" in result.output and "春季老带新" in result.output
    assert "<svg" in page.read_text(encoding="utf-8")
    as_json = runner.invoke(app, ["report", "campaign", "spring", "-w", ws.slug, "--json"])
    assert orjson.loads(as_json.output)["campaign"] == "spring"
    missing = runner.invoke(app, ["report", "campaign", "nope", "-w", ws.slug])
    assert missing.exit_code == 2 and "nope" in missing.output
    listed = runner.invoke(app, ["campaign", "list", "-w", ws.slug])
    assert listed.exit_code == 0 and "spring" in listed.output
    printable = tmp_path / "lc-cli.png"
    made = runner.invoke(
        app, ["livecode", "create", "lc-cli", "-w", ws.slug, "-g", "g-1", "--qr", str(printable)]
    )
    url = made.output.strip()
    assert made.exit_code == 0 and url.startswith("http://127.0.0.1:8000/l/"), made.output
    with Image.open(printable) as qr:
        assert qr.format == "PNG" and qr.width >= 500  # large enough to print
    assert printable.read_bytes() == qr_png(url, box=20, border=4)  # the printed URL's code
