"""Workspaces, API tokens and workspace configuration."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select, update

from shequn.community.blueprints import merge
from shequn.community.config import ConfigError, ConfigRejected, check_config
from shequn.community.models import api_tokens, groups, memberships, workspaces
from shequn.community.workspace import WorkspaceInfo
from shequn.config import WorkspaceConfig
from shequn.config.renames import with_new_keys
from shequn.i18n import t
from shequn.platform import domain
from shequn.platform.errors import Conflict as Conflict
from shequn.platform.errors import Invalid
from shequn.platform.errors import NotFound as NotFound

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise Invalid(t, "community.bad_slug", slug=slug, suggestion=suggest_slug(slug))
    return slug


def suggest_slug(text: str) -> str:
    """A workspace name `create` accepts, made from what the user typed ("My Shop" → my-shop)."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")[:64].rstrip("-_")
    return slug or "acme"


def do_create_workspace(
    conn: Connection, slug: str, name: str | None = None, *, now: datetime
) -> WorkspaceInfo:
    check_slug(slug)
    exists = conn.execute(select(workspaces.c.id).where(workspaces.c.slug == slug)).first()
    if exists is not None:
        raise Conflict(t, "community.workspace_exists", slug=slug)
    wid = conn.execute(
        workspaces.insert().values(
            slug=slug,
            name=name or slug,
            config={},
            config_version=1,
            created_at=now,
        )
    ).inserted_primary_key
    assert wid is not None
    return WorkspaceInfo(int(wid[0]), slug, check_config({}), 1, {})


def access_workspace(conn: Connection, slug: str) -> WorkspaceInfo:
    row = conn.execute(
        select(workspaces.c.id, workspaces.c.config, workspaces.c.config_version).where(
            workspaces.c.slug == slug
        )
    ).first()
    if row is None:
        raise NotFound(t, "community.no_workspace", slug=slug, suggestion=suggest_slug(slug))
    document = with_new_keys(dict(row[1] or {}))
    return WorkspaceInfo(int(row[0]), slug, check_config(document), int(row[2]), document)


def load_workspace(engine: Engine, slug: str) -> WorkspaceInfo:
    with engine.connect() as conn:
        return access_workspace(conn, slug)


def list_workspaces(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(select(workspaces.c.slug).order_by(workspaces.c.id))]


def check_config_document(document: Any) -> WorkspaceConfig:
    """Validate a configuration document against every domain's sections, including what
    each blueprint and group override would make of it."""
    config = check_config(document)
    errors: list[ConfigError] = []
    layers: list[tuple[str, dict[str, Any]]] = [
        (f"blueprints.{name}.settings", plan.settings)
        for name, plan in config.blueprints.items()
        if plan.settings
    ]
    for group, override in config.groups.overrides.items():
        if override.blueprint is not None and override.blueprint not in config.blueprints:
            errors.append(ConfigError(f"groups.overrides.{group}.blueprint", "no such blueprint"))
        if override.settings:
            layers.append((f"groups.overrides.{group}.settings", override.settings))
    for prefix, layer in layers:
        try:
            check_config(merge(document or {}, layer))
        except ConfigRejected as exc:
            errors += [ConfigError(f"{prefix}.{e.path}", e.message) for e in exc.errors]
    if errors:
        raise ConfigRejected(errors)
    return config


def stored_config(conn: Connection, slug: str) -> dict[str, Any]:
    """The configuration document as the operator applied it (without defaults), with renamed
    keys under their new names."""
    row = conn.execute(select(workspaces.c.config).where(workspaces.c.slug == slug)).first()
    if row is None:
        raise NotFound(t, "community.no_workspace", slug=slug, suggestion=suggest_slug(slug))
    return dict(with_new_keys(dict(row[0] or {})))


ReferenceCheck = Callable[[Connection, WorkspaceInfo, dict[str, Any]], list[ConfigError]]
"""A domain whose configuration names stored things (a CRM segment) checks they exist; the
domain names its check in its descriptor (`Domain.references`)."""


def check_config_references(conn: Connection, ws: WorkspaceInfo, document: Any) -> None:
    checks: list[ReferenceCheck] = domain.targets("references")
    errors = [e for check in checks for e in check(conn, ws, document or {})]
    if errors:
        raise ConfigRejected(errors)


def do_apply_config(
    conn: Connection, slug: str, document: Any, *, check_references: bool = False
) -> WorkspaceInfo:
    """Validate the whole document first (every error by path), then store it.

    An operator's apply also checks that what the document names exists in the workspace
    (`check_references`); programmatic rewrites and replays into a scratch database do not,
    so a segment deleted later never blocks them. A key that was renamed is stored under its
    new name (`shequn.config.renames`).
    """
    document = with_new_keys(document)
    check_config_document(document)
    ws = access_workspace(conn, slug)
    if check_references:
        check_config_references(conn, ws, document)
    conn.execute(
        update(workspaces)
        .where(workspaces.c.id == ws.id)
        .values(config=document or {}, config_version=workspaces.c.config_version + 1)
    )
    return access_workspace(conn, slug)


def effective_config_document(ws: WorkspaceInfo) -> dict[str, Any]:
    dumped: dict[str, Any] = ws.config.model_dump(mode="json")
    return dumped


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def do_create_token(
    conn: Connection,
    slug: str,
    name: str = "admin",
    *,
    now: datetime,
    expires_at: datetime | None = None,
) -> str:
    """A new bearer token for one workspace; only its hash (and its first characters, to
    tell it apart in a list) is stored."""
    ws = access_workspace(conn, slug)
    if expires_at is not None and expires_at <= now:
        raise Invalid(t, "community.token_expired_already")
    token = f"sq_{secrets.token_urlsafe(32)}"
    conn.execute(
        api_tokens.insert().values(
            workspace_id=ws.id,
            name=name,
            token_hash=_hash(token),
            hint=token[:TOKEN_HINT],
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token


TOKEN_HINT = 7  # "sq_" and four characters: enough to tell a workspace's tokens apart


def do_delete_workspace(conn: Connection, ws: WorkspaceInfo) -> None:
    """Delete a workspace: every table's rows go with it (each references the workspace
    with ON DELETE CASCADE; tests/test_workspace_delete.py checks that none is left)."""
    conn.execute(workspaces.delete().where(workspaces.c.id == ws.id))


def list_tokens(conn: Connection, ws: WorkspaceInfo, *, now: datetime) -> list[dict[str, Any]]:
    """A workspace's tokens, oldest first, with their state (never their value)."""
    k = api_tokens
    rows = conn.execute(
        select(k.c.id, k.c.name, k.c.hint, k.c.created_at, k.c.expires_at, k.c.revoked_at)
        .where(k.c.workspace_id == ws.id)
        .order_by(k.c.id)
    ).mappings()
    return [
        {str(k): v for k, v in r.items()}
        | {"status": _token_status(r["expires_at"], r["revoked_at"], now)}
        for r in rows
    ]


def _token_status(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> str:
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


def do_revoke_token(
    conn: Connection, ws: WorkspaceInfo, token_id: int, *, now: datetime
) -> dict[str, Any]:
    """Revoke a token of this workspace: from now on it answers 401. Revoking twice keeps
    the first time."""
    k = api_tokens
    mine = and_(k.c.workspace_id == ws.id, k.c.id == token_id)
    conn.execute(update(k).where(mine, k.c.revoked_at.is_(None)).values(revoked_at=now))
    for token in list_tokens(conn, ws, now=now):
        if token["id"] == token_id:
            return token
    raise NotFound(t, "community.no_token", token=token_id)


def workspace_of_token(conn: Connection, token: str, *, now: datetime) -> str | None:
    """The workspace of a token that is neither revoked nor expired at `now`."""
    k = api_tokens
    row = conn.execute(
        select(workspaces.c.slug)
        .join(k, k.c.workspace_id == workspaces.c.id)
        .where(
            k.c.token_hash == _hash(token),
            k.c.revoked_at.is_(None),
            or_(k.c.expires_at.is_(None), k.c.expires_at > now),
        )
    ).first()
    return None if row is None else str(row[0])


def silent_memberships(
    conn: Connection, workspace_id: int, before: datetime, joined_before: datetime, limit: int
) -> list[tuple[str, str, str]]:
    """Active memberships whose last word (or their join, if they never spoke) is older than
    `before`, of members who joined before `joined_before`: (channel, group, member)."""
    t = memberships
    last = func.coalesce(t.c.last_spoke_at, t.c.joined_at)
    rows = conn.execute(
        select(t.c.channel, t.c.group_ext, t.c.member_ext)
        .where(t.c.workspace_id == workspace_id)
        .where(t.c.active.is_(True))
        .where(last < before)
        .where(t.c.joined_at < joined_before)
        .order_by(last, t.c.channel, t.c.group_ext, t.c.member_ext)
        .limit(limit)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def channel_groups(conn: Connection, workspace_id: int, channel: str) -> dict[str, dict[str, Any]]:
    """Every group of one chat platform: ext id → name, notice, owner, status."""
    g = groups
    rows = conn.execute(
        select(g.c.ext_id, g.c.name, g.c.notice, g.c.owner, g.c.status)
        .where(g.c.workspace_id == workspace_id)
        .where(g.c.channel == channel)
    ).mappings()
    return {r["ext_id"]: dict(r) for r in rows}


def channel_members_now(
    conn: Connection, workspace_id: int, channel: str
) -> dict[str, dict[str, str]]:
    """Who is in each group of one chat platform now: group → {member: nickname}."""
    t = memberships
    rows = conn.execute(
        select(t.c.group_ext, t.c.member_ext, t.c.nickname)
        .where(t.c.workspace_id == workspace_id)
        .where(t.c.channel == channel)
        .where(t.c.active.is_(True))
    )
    found: dict[str, dict[str, str]] = {}
    for group, member, nickname in rows:
        found.setdefault(group, {})[member] = nickname or ""
    return found
