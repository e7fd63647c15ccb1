"""Profile fields 用户画像 with their allowed values, and the API models of the CRM.

Enum values are stable English keys; people read the zh-CN labels (import accepts either).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shequn.events import RequestInstant
from shequn.platform.schemas import Answer, Json, Timestamp


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class AgeBand(StrEnum):
    UNDER_18 = "under_18"
    A18_24 = "18_24"
    A25_34 = "25_34"
    A35_44 = "35_44"
    A45_54 = "45_54"
    A55_PLUS = "55_plus"


class Education(StrEnum):
    JUNIOR_HIGH = "junior_high"
    HIGH_SCHOOL = "high_school"
    ASSOCIATE = "associate"
    BACHELOR = "bachelor"
    MASTER = "master"
    DOCTORATE = "doctorate"


class CityTier(StrEnum):
    TIER1 = "tier1"
    NEW_TIER1 = "new_tier1"
    TIER2 = "tier2"
    TIER3 = "tier3"
    TIER4 = "tier4"


class IncomeBand(StrEnum):
    UNDER_5K = "under_5k"
    I5K_10K = "5k_10k"
    I10K_20K = "10k_20k"
    I20K_50K = "20k_50k"
    OVER_50K = "over_50k"


class SpendBand(StrEnum):
    UNDER_100 = "under_100"
    S100_500 = "100_500"
    S500_2000 = "500_2000"
    OVER_2000 = "over_2000"


class Lifecycle(StrEnum):
    PROSPECT = "prospect"
    NEW = "new"
    ACTIVE = "active"
    PAYING = "paying"
    LOYAL = "loyal"
    DORMANT = "dormant"
    CHURNED = "churned"


ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "gender": Gender,
    "age_band": AgeBand,
    "education": Education,
    "city_tier": CityTier,
    "income_band": IncomeBand,
    "similar_spend_band": SpendBand,
    "lifecycle_stage": Lifecycle,
}

# zh-CN labels, which are also accepted on import.
ENUM_LABELS: dict[str, str] = {
    "male": "男",
    "female": "女",
    "unknown": "未知",
    "under_18": "18岁以下",
    "18_24": "18-24岁",
    "25_34": "25-34岁",
    "35_44": "35-44岁",
    "45_54": "45-54岁",
    "55_plus": "55岁及以上",
    "junior_high": "初中及以下",
    "high_school": "高中/中专",
    "associate": "大专",
    "bachelor": "本科",
    "master": "硕士",
    "doctorate": "博士",
    "tier1": "一线",
    "new_tier1": "新一线",
    "tier2": "二线",
    "tier3": "三线",
    "tier4": "四线及以下",
    "under_5k": "5千以下",
    "5k_10k": "5千-1万",
    "10k_20k": "1万-2万",
    "20k_50k": "2万-5万",
    "over_50k": "5万以上",
    "under_100": "100元以下",
    "100_500": "100-500元",
    "500_2000": "500-2000元",
    "over_2000": "2000元以上",
    "prospect": "潜在客户",
    "new": "新客户",
    "active": "活跃客户",
    "paying": "付费客户",
    "loyal": "忠实客户",
    "dormant": "沉睡客户",
    "churned": "流失客户",
}
_ALIASES = {"m": "male", "f": "female", "男性": "male", "女性": "female"}

TEXT_FIELDS = {
    "name": 100,
    "city": 64,
    "occupation": 100,
    "heard_from": 100,
    "purchase_motive": 200,
}
PROFILE_FIELDS = (
    "name",
    "phone",
    "gender",
    "age_band",
    "education",
    "city",
    "city_tier",
    "occupation",
    "income_band",
    "similar_spend_band",
    "heard_from",
    "purchase_motive",
    "pains",
    "lifecycle_stage",
)

_PHONE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(value: str) -> str:
    """A Chinese mobile number as 11 digits; spaces, dashes and a +86 prefix are dropped."""
    digits = re.sub(r"[\s\-()]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _PHONE.match(digits):
        raise ValueError(f"{value!r} is not a Chinese mobile number (1[3-9] and 9 digits)")
    return digits


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def parse_enum(field: str, value: str) -> str:
    """An enum value from its key, its zh-CN label or a common alias; ValueError otherwise."""
    enum = ENUM_FIELDS[field]
    text = value.strip()
    keys = {e.value for e in enum}
    if text.lower() in keys:
        return text.lower()
    by_label = {ENUM_LABELS[k]: k for k in keys}
    if text in by_label:
        return by_label[text]
    alias = _ALIASES.get(text.lower())
    if alias in keys:
        return str(alias)
    allowed = ", ".join(f"{k} ({ENUM_LABELS[k]})" for k in sorted(keys))
    raise ValueError(f"{value!r} is not one of: {allowed}")


Pain = Annotated[str, Field(min_length=1, max_length=100)]


class ProfileIn(BaseModel):
    """A change to a profile: fields left out are kept, fields set to null are cleared."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=100)] | None = None
    phone: str | None = None
    gender: Gender | None = None
    age_band: AgeBand | None = None
    education: Education | None = None
    city: Annotated[str, Field(max_length=64)] | None = None
    city_tier: CityTier | None = None
    occupation: Annotated[str, Field(max_length=100)] | None = None
    income_band: IncomeBand | None = None
    similar_spend_band: SpendBand | None = None
    heard_from: Annotated[str, Field(max_length=100)] | None = None
    purchase_motive: Annotated[str, Field(max_length=200)] | None = None
    pains: Annotated[list[Pain], Field(max_length=20)] | None = None
    lifecycle_stage: Lifecycle | None = None
    custom: dict[str, Any] | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else normalize_phone(value)


FieldType = Literal["text", "number", "date", "choice", "bool"]


class CustomFieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    label: Annotated[str, Field(min_length=1, max_length=100)]
    type: FieldType = "text"
    choices: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=200)] = []


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=20_000)]
    author: Annotated[str, Field(min_length=1, max_length=128)] = "staff"
    at: RequestInstant | None = None


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=64)]
    group: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class MemberTagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: Annotated[str, Field(min_length=1, max_length=64)]


# --- Answers ------------------------------------------------------------------------------


class FirstTouchOut(Answer):
    joined_at: Timestamp | None
    group: str | None
    scene: str | None
    code: str | None
    state: str | None
    inviter: str | None


class ProfileOut(Answer):
    """A member's profile with what the community knows: first touch, activity, tags."""

    channel: str
    member: str
    name: str | None
    phone: str | None
    gender: Gender | None
    age_band: AgeBand | None
    education: Education | None
    city: str | None
    city_tier: CityTier | None
    occupation: str | None
    income_band: IncomeBand | None
    similar_spend_band: SpendBand | None
    heard_from: str | None
    purchase_motive: str | None
    pains: list[str]
    lifecycle_stage: Lifecycle | None
    custom: dict[str, Json] = Field(description="Custom field values by key.")
    nickname: str | None
    first_touch: FirstTouchOut | None
    message_count: int
    last_spoke_at: Timestamp | None
    blacklisted: bool
    tags: list[str]


class TimelineItem(Answer):
    at: Timestamp
    what: Literal["event", "action", "note", "tag"]
    type: str = Field(description="The event type, action kind, `note` or `tag`.")
    group: str | None
    id: str
    data: dict[str, Json]


class NoteOut(Answer):
    id: int
    author: str
    text: str
    at: Timestamp


class MemberTagOut(Answer):
    tag: str
    added: bool


class MemberUntagOut(Answer):
    tag: str
    removed: bool


class TagOut(Answer):
    name: str
    group: str | None
    kind: str = Field(description="manual, or auto for tags the rules give.")


class TagCountOut(TagOut):
    members: int


class CustomFieldOut(Answer):
    key: str
    label: str
    type: FieldType
    choices: list[str]


class SegmentOut(Answer):
    name: str
    description: str | None
    filter: dict[str, Json] = Field(description="The saved filter.")
    count: int = Field(description="Members in it now.")


class CountOut(Answer):
    count: int


class SegmentMemberOut(Answer):
    channel: str
    member: str


class ImportOut(Answer):
    rows: int
    stored: int
    created: int
    skipped: int
    ignored_columns: list[str]
    problems: list[str] = Field(description="Skipped rows' problems (with skip_invalid).")
