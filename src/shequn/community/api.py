"""HTTP routes of the community: the workspace, its configuration, groups and members."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import Query, Request
from pydantic import BaseModel, Field

from shequn.community import service
from shequn.community.schemas import (
    AdmissionOut,
    BlueprintOut,
    GroupOut,
    MemberOut,
    MembershipOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    WorkspaceOut,
)
from shequn.community.service import do_apply_config, effective_config_document
from shequn.config import WorkspaceConfig
from shequn.exports import EXPORTS, page, seen_members
from shequn.platform.db import transaction
from shequn.web.auth import EngineDep, Now, Workspace
from shequn.web.body import read_bounded
from shequn.web.paging import IdPath, Offset
from shequn.web.problems import Problem, workspace_router

router = workspace_router("community")

_LISTED: dict[str, Any] = {
    "groups": list[GroupOut],
    "members": list[MemberOut],
    "memberships": list[MembershipOut],
}


@router.get("", summary="The workspace", response_model=WorkspaceOut)
def get_workspace(workspace: Workspace) -> dict[str, Any]:
    return {
        "workspace": workspace.slug,
        "timezone": workspace.config.workspace.timezone,
        "locale": workspace.locale,
        "config_version": workspace.config_version,
    }


@router.get("/config", summary="Effective configuration", response_model=WorkspaceConfig)
def get_config(workspace: Workspace) -> dict[str, Any]:
    return effective_config_document(workspace)


@router.put(
    "/config",
    summary="Replace the configuration (JSON or YAML body)",
    response_model=WorkspaceConfig,
)
async def put_config(request: Request, workspace: Workspace, engine: EngineDep) -> dict[str, Any]:
    body = await read_bounded(request, 1024 * 1024)
    try:
        document = yaml.safe_load(body.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise Problem(400, "Malformed configuration", str(exc).replace("\n", " ")) from exc
    with transaction(engine) as conn:
        ws = do_apply_config(conn, workspace.slug, document, check_references=True)
    return effective_config_document(ws)


def _listing(kind: str):  # type: ignore[no-untyped-def]
    def handler(
        workspace: Workspace,
        engine: EngineDep,
        limit: Annotated[int, Query(ge=1, le=5000)] = 100,
        offset: Offset = 0,
    ) -> list[dict[str, Any]]:
        rows = seen_members if kind == "members" else EXPORTS[kind].rows
        with engine.connect() as conn:
            return page(rows(conn, workspace), offset, limit)

    handler.__name__ = f"list_{kind}"
    return handler


for _kind in ("groups", "members", "memberships"):
    router.add_api_route(
        f"/{_kind}",
        _listing(_kind),
        methods=["GET"],
        summary=f"List {_kind}",
        response_model=_LISTED[_kind],
    )


@router.get("/tokens", summary="The workspace's API tokens", response_model=list[TokenOut])
def list_tokens(workspace: Workspace, engine: EngineDep, now: Now) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return service.list_tokens(conn, workspace, now=now)


@router.post(
    "/tokens",
    summary="Create an API token (its value is answered once)",
    response_model=TokenCreatedOut,
    status_code=201,
)
def create_token(
    body: TokenIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    if body.expires_at is not None and body.expires_at.tzinfo is None:
        raise Problem(422, "Invalid expiry", "expires_at needs a UTC offset (e.g. +08:00 or Z)")
    with transaction(engine) as conn:
        token = service.do_create_token(
            conn, workspace.slug, body.name, now=now, expires_at=body.expires_at
        )
    return {"token": token, "name": body.name, "expires_at": body.expires_at}


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke an API token: it is refused from now on",
    response_model=TokenOut,
)
def revoke_token(
    token_id: IdPath,
    workspace: Workspace,
    engine: EngineDep,
    now: Now,
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return service.do_revoke_token(conn, workspace, token_id, now=now)


class AdmissionBody(BaseModel):
    member: str = Field(min_length=1, max_length=128)
    channel: str = Field(default="sandbox", max_length=32)
    approve: bool = True


@router.post(
    "/groups/{group}/admissions",
    summary="Approve or reject a pending newcomer",
    response_model=AdmissionOut,
)
def decide_admission(
    group: str, body: AdmissionBody, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    from shequn.engagement.threshold import do_decide_admission

    with transaction(engine) as conn:
        return do_decide_admission(
            conn,
            workspace,
            channel=body.channel,
            group=group,
            member=body.member,
            approve=body.approve,
            now=now,
        )


@router.get(
    "/blueprints",
    summary="Blueprints with their rules text and the fit check",
    response_model=list[BlueprintOut],
)
def list_blueprints(workspace: Workspace) -> list[dict[str, Any]]:
    """Each blueprint as configured, with its four-part rules as members see them and
    whether the business fits community selling (high margin, frequency or decision cost)."""
    return [
        {
            "name": name,
            **plan.model_dump(mode="json"),
            "rules_text": plan.rules.text(),
            "fits": plan.fit.fits,
        }
        for name, plan in sorted(workspace.config.blueprints.items())
    ]
