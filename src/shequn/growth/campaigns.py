"""Campaigns as operations: read them, put one into the workspace configuration (the API
and YAML share one source), presets of the same mechanics, and the participant-cost check."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, select

from shequn.community.config import ConfigError, ConfigRejected
from shequn.community.models import workspaces
from shequn.community.service import NotFound, do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.config.growth import (
    AnyCampaign,
    BargainCampaign,
    Campaign,
    CardsCampaign,
    FlashSaleCampaign,
    GroupBuyCampaign,
    InvitationCampaign,
    MutualCampaign,
    RedPacketCampaign,
    VoteCampaign,
)
from shequn.growth.texts import say

SENSITIVE = ("id_card", "bank_card", "face")
LOW_VALUE_FEN = 10_000
"""Below ¥100 a reward does not justify asking for ID, bank card or face data."""

_CAMPAIGN: TypeAdapter[AnyCampaign] = TypeAdapter(Campaign)


def reward_value_fen(spec: AnyCampaign) -> int:
    """The most a participant can get from the campaign, in fen."""
    if isinstance(spec, InvitationCampaign):
        values = [sum(m.amount_fen for m in spec.milestones)]
        values += [s.per_invite_fen for s in spec.ladder]
        if spec.task is not None:
            values.append(spec.task.reward.cost_fen)
        values += [p.reward.cost_fen for p in spec.lottery]
        return max(values)
    if isinstance(spec, BargainCampaign):
        return spec.price_fen - spec.target_fen
    if isinstance(spec, RedPacketCampaign):
        return max(spec.targets_fen)
    if isinstance(spec, VoteCampaign):
        return max((p.reward.cost_fen for p in spec.prizes), default=0)
    if isinstance(spec, CardsCampaign):
        return spec.reward.cost_fen
    if isinstance(spec, MutualCampaign):
        return max(spec.sharer_reward.cost_fen, spec.helper_reward.cost_fen)
    if isinstance(spec, FlashSaleCampaign):
        return max(spec.original_fen - (0 if spec.model == "free_gift" else spec.price_fen), 0)
    if isinstance(spec, GroupBuyCampaign):
        lowest = min([spec.price_fen] + [t.price_fen for t in spec.thresholds])
        return spec.price_fen - lowest
    return 0


def cost_warnings(spec: AnyCampaign, locale: str = "zh-CN") -> list[str]:
    """What taking part costs the participant, weighed against what they get."""
    asks = [a for a in spec.participant_cost.asks if a in SENSITIVE]
    value = reward_value_fen(spec)
    if asks and value < LOW_VALUE_FEN:
        return [say("cost.warning", locale, value=f"{value / 100:.2f}", asks=", ".join(asks))]
    return []


def describe(key: str, spec: AnyCampaign, locale: str) -> dict[str, Any]:
    return {
        "key": key,
        "model": spec.model,
        "spec": spec.model_dump(mode="json", exclude_none=True),
        "reward_value_fen": reward_value_fen(spec),
        "warnings": cost_warnings(spec, locale),
    }


def list_campaigns(ws: WorkspaceInfo) -> list[dict[str, Any]]:
    return [describe(k, s, ws.locale) for k, s in sorted(ws.config.campaigns.items())]


def access_campaign(ws: WorkspaceInfo, key: str) -> AnyCampaign:
    spec: AnyCampaign | None = ws.config.campaigns.get(key)
    if spec is None:
        raise NotFound(say, "growth.no_campaign", key=key)
    return spec


def check_campaign(document: Any) -> AnyCampaign:
    """Validate one campaign, reporting errors by path like the configuration does."""
    try:
        return _CAMPAIGN.validate_python(document)
    except ValidationError as exc:
        raise ConfigRejected(
            [
                ConfigError(".".join(str(p) for p in e["loc"]) or "(campaign)", e["msg"])
                for e in exc.errors(include_url=False)
            ]
        ) from None


def _stored_document(conn: Connection, ws: WorkspaceInfo) -> dict[str, Any]:
    # The operator's own document, not the effective one: defaults must stay defaults.
    stored = conn.execute(select(workspaces.c.config).where(workspaces.c.id == ws.id)).scalar_one()
    return dict(stored or {})


def do_put_campaign(
    conn: Connection, ws: WorkspaceInfo, key: str, document: Any
) -> tuple[WorkspaceInfo, dict[str, Any]]:
    """Create or replace one campaign in the workspace configuration."""
    spec = check_campaign(document)
    stored = _stored_document(conn, ws)
    section = dict(stored.get("campaigns") or {})
    section[key] = spec.model_dump(mode="json", exclude_none=True)
    stored["campaigns"] = section
    # What this campaign names must exist; the rest of the document is not re-judged here.
    from shequn.growth.references import campaign_reference_errors

    errors = campaign_reference_errors(conn, ws, stored, only=key)
    if errors:
        raise ConfigRejected(errors)
    updated = do_apply_config(conn, ws.slug, stored)
    return updated, describe(key, access_campaign(updated, key), ws.locale)


def do_delete_campaign(conn: Connection, ws: WorkspaceInfo, key: str) -> WorkspaceInfo:
    stored = _stored_document(conn, ws)
    section = dict(stored.get("campaigns") or {})
    if key not in section:
        raise NotFound(say, "growth.campaign_not_configured", key=key)
    del section[key]
    stored["campaigns"] = section
    return do_apply_config(conn, ws.slug, stored)


# --- Presets: red-packet, stored-value, coupon and crowdfunding fission are the same mechanics
# with particular parameters.

PRESETS: dict[str, dict[str, Any]] = {
    "redpacket": {
        "model": "invitation",
        "name": "红包裂变",
        "reward_kind": "redpacket",
        "ladder": [{"min_invites": 1, "per_invite_fen": 100}],
        "task": {"invites": 5, "reward": {"kind": "redpacket", "amount_fen": 500}},
    },
    "stored_value": {
        "model": "mutual",
        "name": "储值裂变",
        "sharer_reward": {"kind": "coupon", "coupon": "stored-value-credit", "value_fen": 2000},
        "helper_reward": {"kind": "coupon", "coupon": "stored-value-credit", "value_fen": 2000},
    },
    "coupon": {
        "model": "mutual",
        "name": "卡券裂变",
        "sharer_reward": {"kind": "coupon", "coupon": "share-10", "value_fen": 1000},
        "helper_reward": {"kind": "coupon", "coupon": "share-10", "value_fen": 1000},
    },
    "crowdfunding": {
        "model": "group_buy",
        "name": "众筹",
        "size": 50,
        "price_fen": 9900,
        "time_limit_hours": 72,
        "thresholds": [{"invites": 10, "price_fen": 6900}],
    },
}


def preset(name: str, **overrides: Any) -> dict[str, Any]:
    """A campaign document from a preset, with overrides (name, window, budget …)."""
    if name not in PRESETS:
        raise NotFound(say, "growth.no_preset", name=name, presets=", ".join(sorted(PRESETS)))
    document = {**PRESETS[name], "preset": name, **overrides}
    check_campaign(document)
    return document
