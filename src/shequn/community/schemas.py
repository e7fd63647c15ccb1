"""API models of the community: the workspace, its groups, members and memberships."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shequn.config.community import Blueprint
from shequn.platform.schemas import Answer, Timestamp


class WorkspaceOut(Answer):
    workspace: str
    timezone: str
    locale: str
    config_version: int


class TokenOut(Answer):
    id: int
    name: str
    hint: str | None = Field(description="The token's first characters, to tell it apart")
    created_at: Timestamp
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    status: str = Field(description="active, expired or revoked")


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="api", min_length=1, max_length=100)
    expires_at: datetime | None = Field(
        default=None, description="When the token stops working (with a UTC offset); none: never"
    )


class TokenCreatedOut(Answer):
    token: str = Field(description="The bearer token: shown this once, only its hash is kept")
    name: str
    expires_at: Timestamp | None


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class WorkspaceRoleOut(Answer):
    workspace: str
    role: str = Field(description="owner, admin, operator, staff or viewer")


class MeOut(Answer):
    email: str
    name: str | None
    workspaces: list[WorkspaceRoleOut]
    csrf_token: str = Field(description="Send it as X-CSRF-Token with every change")


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(default="", max_length=1024, description="Needed for a new account")
    role: str = Field(description="owner, admin, operator, staff or viewer")
    name: str | None = Field(default=None, max_length=100)


class UserOut(Answer):
    id: int
    email: str
    name: str | None
    role: str
    created_at: Timestamp
    disabled_at: Timestamp | None


class GroupOut(Answer):
    channel: str
    group: str
    name: str
    status: str
    capacity: int
    member_count: int
    blueprint: str | None
    owner: str | None
    notice: str | None
    ends_at: Timestamp | None
    created_at: Timestamp
    dismissed_at: Timestamp | None


class MemberOut(Answer):
    channel: str
    member: str
    nickname: str | None
    first_seen_at: Timestamp
    last_seen_at: Timestamp
    first_joined_at: Timestamp | None
    first_group: str | None
    first_scene: str | None
    first_code: str | None
    first_state: str | None
    first_inviter: str | None
    groups_in: int
    message_count: int
    last_spoke_at: Timestamp | None
    blacklisted: bool
    orders: int
    spent_fen: int


class MembershipOut(Answer):
    channel: str
    group: str
    member: str
    nickname: str | None
    active: bool
    joined_at: Timestamp | None
    join_scene: str | None
    inviter: str | None
    code: str | None
    state: str | None
    joins: int
    left_at: Timestamp | None
    left_reason: str | None
    left_by: str | None
    last_spoke_at: Timestamp | None
    message_count: int


class AdmissionOut(Answer):
    member: str
    group: str
    approved: bool


class BlueprintOut(Blueprint):
    """A blueprint as configured, with its rules as members read them and the fit check."""

    name: str
    rules_text: str = Field(description="The four-part group rules as members see them.")
    fits: bool = Field(description="Whether the business fits community selling.")
