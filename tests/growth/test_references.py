"""What campaigns name must exist when applied: a coupon reward's template (in the same
document's `coupons.templates`) and a targeted CRM segment. Refused with the full path by
`shequn config apply` (non-zero exit, a line per error), `PUT …/config` and `PUT …/campaigns/{key}`
(422 problem+json), and nothing is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from shequn.community.config import ConfigRejected
from shequn.community.service import do_apply_config, stored_config
from shequn.community.workspace import WorkspaceInfo
from shequn.crm.service import do_save_segment
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW
from tests.growth.helpers import app_with_domains, token

TEMPLATES = {"ten-off": {"name": "满100减10", "amount_fen": 1000, "threshold_fen": 10000}}


def cards(reward: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "cards",
        "name": "集五福",
        "cards": [{"name": "爱国", "weight": 1}, {"name": "敬业", "weight": 1}],
        "reward": reward,
    }


def document(**campaigns: Any) -> dict[str, Any]:
    return {"coupons": {"templates": TEMPLATES}, "campaigns": campaigns}


def apply(engine: Engine, ws: WorkspaceInfo, doc: dict[str, Any]) -> None:
    with transaction(engine) as conn:
        do_apply_config(conn, ws.slug, doc, check_references=True)


def refused(engine: Engine, ws: WorkspaceInfo, doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigRejected) as caught:
        apply(engine, ws, doc)
    return [str(e) for e in caught.value.errors]


def test_a_coupon_reward_must_name_a_known_template(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    spring = cards({"kind": "coupon", "coupon": "x"})
    assert refused(engine, workspace, document(spring=spring)) == [
        "campaigns.spring.reward.coupon: unknown coupon template 'x'"
    ]
    task = {"invites": 3, "reward": {"kind": "coupon", "coupon": "nope"}}
    lottery = [{"weight": 1, "reward": {"kind": "coupon"}}]
    invite = {"model": "invitation", "name": "邀请", "task": task, "lottery": lottery}
    mutual = {
        "model": "mutual",
        "name": "好友同享",
        "sharer_reward": {"kind": "coupon", "coupon": "ten-off"},
        "helper_reward": {"kind": "coupon", "coupon": "gone"},
    }
    assert refused(engine, workspace, document(invite=invite, mutual=mutual)) == [
        "campaigns.invite.lottery.0.reward.coupon: a coupon reward names a template",
        "campaigns.invite.task.reward.coupon: unknown coupon template 'nope'",
        "campaigns.mutual.helper_reward.coupon: unknown coupon template 'gone'",
    ]
    with transaction(engine) as conn:
        assert stored_config(conn, workspace.slug) == {}  # nothing was stored
    apply(engine, workspace, document(spring=cards({"kind": "coupon", "coupon": "ten-off"})))


def test_a_template_removed_later_is_refused_too(engine: Engine, workspace: WorkspaceInfo) -> None:
    apply(engine, workspace, document(spring=cards({"kind": "coupon", "coupon": "ten-off"})))
    without = {"campaigns": {"spring": cards({"kind": "coupon", "coupon": "ten-off"})}}
    assert refused(engine, workspace, without) == [
        "campaigns.spring.reward.coupon: unknown coupon template 'ten-off'"
    ]


def test_a_targeted_segment_must_exist(engine: Engine, workspace: WorkspaceInfo) -> None:
    spec = {**cards({"kind": "points", "points": 10}), "segment": "老客户"}
    assert refused(engine, workspace, document(spring=spec)) == [
        "campaigns.spring.segment: no CRM segment '老客户' in this workspace"
    ]
    with transaction(engine) as conn:
        saved = do_save_segment(conn, workspace, "老客户", {"tag": "复购"}, now=NOW)
    assert saved["name"] == "老客户"
    apply(engine, workspace, document(spring=spec))


def test_config_apply_refuses_an_unknown_template_in_one_line(
    cli_settings: Settings,
    engine: Engine,
    workspace: WorkspaceInfo,
    tmp_path: Path,
) -> None:
    from shequn.cli import app

    path = tmp_path / "shequn.yaml"
    doc = document(spring=cards({"kind": "coupon", "coupon": "x"}))
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    result = CliRunner().invoke(app, ["config", "apply", str(path), "-w", workspace.slug])
    assert result.exit_code == 2 and "Traceback" not in result.output
    # The configuration's error format: a count, then one line per error with its path.
    lines = result.output.strip().splitlines()
    assert lines[1:] == ["  campaigns.spring.reward.coupon: unknown coupon template 'x'"]
    with transaction(engine) as conn:
        assert stored_config(conn, workspace.slug) == {}


def test_the_api_answers_422_for_the_config_and_for_one_campaign(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    auth, base = token(engine, workspace), f"/api/v1/workspaces/{workspace.slug}"
    body = yaml.safe_dump(document(spring=cards({"kind": "coupon", "coupon": "x"})))
    with TestClient(app_with_domains(settings, engine)) as client:
        put = client.put(f"{base}/config", content=body.encode(), headers=auth)
        assert put.status_code == 422
        assert put.headers["content-type"].startswith("application/problem+json")
        assert [e["path"] for e in put.json()["errors"]] == ["campaigns.spring.reward.coupon"]
        one = client.put(
            f"{base}/campaigns/spring",
            json={**cards({"kind": "coupon", "coupon": "ten-off"}), "segment": 999},
            headers=auth,
        )
        assert one.status_code == 422
        assert one.headers["content-type"].startswith("application/problem+json")
        paths = [e["path"] for e in one.json()["errors"]]
        assert paths == ["campaigns.spring.reward.coupon", "campaigns.spring.segment"]
        assert client.get(f"{base}/campaigns/spring", headers=auth).status_code == 404
