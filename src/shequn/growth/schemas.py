"""Request bodies of the growth API."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from shequn.growth.avatars import check_avatar_url

Ext = Field(min_length=1, max_length=128)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelIn(_Body):
    name: str | None = Field(default=None, max_length=100)
    kind: str = Field(default="other", max_length=32)
    cost_fen: int = Field(default=0, ge=0, le=10**12)


class CodeIn(_Body):
    code: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=100)
    channel: str = Field(default="sandbox", max_length=32)
    state: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=64, description="Acquisition channel.")
    campaign: str | None = Field(default=None, max_length=64)
    blueprint: str | None = Field(default=None, max_length=200)
    base_name: str | None = Field(default=None, max_length=150)
    groups: list[str] = Field(default_factory=list, max_length=1000)
    admissions_cap: int | None = Field(default=None, ge=1, le=100_000)
    group_capacity: int | None = Field(default=None, ge=1, le=100_000)


class PoolGroupIn(_Body):
    group: str = Ext
    name: str | None = Field(default=None, max_length=200)
    join_url: str | None = Field(default=None, max_length=2048)


class GroupUrlIn(_Body):
    join_url: str = Field(min_length=1, max_length=2048)


class SandboxJoinIn(_Body):
    scan: str = Ext
    member: str = Ext
    nickname: str = Field(min_length=1, max_length=200)
    at: AwareDatetime | None = None


class ReviewIn(_Body):
    approve: bool
    by: str = Field(default="staff", min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=500)


class AvatarIn(_Body):
    avatar_url: str | None = Field(description="http(s) URL of the picture; null clears it.")
    channel: str = Field(default="sandbox", max_length=32)

    @field_validator("avatar_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        return None if value is None else check_avatar_url(value)


class ReverseIn(_Body):
    by: str = Field(default="staff", min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=500)


class PaidIn(_Body):
    ids: list[int] = Field(min_length=1, max_length=10_000)
    by: str = Field(default="staff", min_length=1, max_length=100)


class MemberIn(_Body):
    member: str = Ext
    channel: str = Field(default="sandbox", max_length=32)
    at: AwareDatetime | None = None


class AssistStartIn(MemberIn):
    target_fen: int | None = Field(default=None, ge=1)


class HelpIn(_Body):
    owner: str = Ext
    helper: str = Ext
    channel: str = Field(default="sandbox", max_length=32)
    at: AwareDatetime | None = None


class GiftIn(_Body):
    giver: str = Ext
    receiver: str = Ext
    card: str = Field(min_length=1, max_length=32)
    channel: str = Field(default="sandbox", max_length=32)
    at: AwareDatetime | None = None


class GroupBuyJoinIn(_Body):
    leader: str = Ext
    member: str = Ext
    channel: str = Field(default="sandbox", max_length=32)
    at: AwareDatetime | None = None
