"""Segments: a typed filter tree over profile, tags, first touch and behaviour, validated when
saved and compiled to one SQL query (the same on SQLite and PostgreSQL).

    {"all": [{"field": "city_tier", "op": "in", "value": ["tier1", "new_tier1"]},
             {"tag": "高消费"},
             {"behaviour": "messages", "op": ">=", "value": 1, "within_days": 7}]}

The members a segment draws from are every member seen in a group and every profile (an
imported customer may not have joined yet). Behaviour counts events up to `now`, which the
caller passes in (the request's or the command's clock), so a count is reproducible.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    false,
    func,
    not_,
    or_,
    select,
    tuple_,
    union,
)

from shequn.community.models import members
from shequn.crm.models import member_tags, profiles
from shequn.crm.schemas import ENUM_FIELDS, parse_enum
from shequn.engine.models import events

FieldName = Literal[
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
    "lifecycle_stage",
]
Op = Literal["eq", "ne", "in", "not_in", "contains", "is_set", "is_not_set"]
Cmp = Literal[">=", ">", "<=", "<", "="]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldIs(_Node):
    """A profile field (or `custom.<key>`) compared with a value."""

    field: str
    op: Op = "eq"
    value: Any = None

    @field_validator("field")
    @classmethod
    def _known(cls, value: str) -> str:
        if value.startswith("custom."):
            if not value[7:]:
                raise ValueError("name the custom field: custom.<key>")
            return value
        if value not in FieldName.__args__:  # type: ignore[attr-defined]
            raise ValueError(f"unknown field {value!r}")
        return value

    @model_validator(mode="after")
    def _value_fits(self) -> FieldIs:
        if self.op in ("is_set", "is_not_set"):
            return self
        values = self.value if self.op in ("in", "not_in") else [self.value]
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op} needs a list of values")
        if any(not isinstance(v, str | int | float) for v in values):
            raise ValueError("values must be text or numbers")
        if self.field in ENUM_FIELDS and self.op != "contains":
            for v in values:
                parse_enum(self.field, str(v))
        return self


class HasTag(_Node):
    tag: Annotated[str, Field(min_length=1, max_length=64)]
    has: bool = True


class Behaviour(_Node):
    """How often a member did something (within the last N days, or ever)."""

    behaviour: Literal["messages", "checkins", "orders", "spent_fen", "invites"]
    op: Cmp = ">="
    value: Annotated[int, Field(ge=0)]
    within_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class FirstTouch(_Node):
    first_touch: Literal["state", "code", "group", "scene", "inviter"]
    values: Annotated[list[str], Field(min_length=1)]


class Joined(_Node):
    joined_within_days: Annotated[int, Field(ge=1, le=3650)]


class Blacklisted(_Node):
    blacklisted: bool


class All(_Node):
    all: Annotated[list[Filter], Field(min_length=1, max_length=100)]


class AnyOf(_Node):
    any: Annotated[list[Filter], Field(min_length=1, max_length=100)]


class Not(_Node):
    not_: Filter = Field(alias="not")


Filter = Union[All, AnyOf, Not, FieldIs, HasTag, Behaviour, FirstTouch, Joined, Blacklisted]  # noqa: UP007
for _model in (All, AnyOf, Not):
    _model.model_rebuild()

FILTER: TypeAdapter[Filter] = TypeAdapter(Filter)


def check_filter(document: Any) -> Filter:
    """Validate a filter tree; raises pydantic's ValidationError naming the path at fault."""
    return FILTER.validate_python(document)


def dump_filter(node: Filter) -> dict[str, Any]:
    dumped: dict[str, Any] = FILTER.dump_python(node, by_alias=True, exclude_defaults=True)
    return dumped


def universe(workspace_id: int) -> Any:
    """Every member key of the workspace: seen in a group, or known by a profile."""
    seen = select(members.c.channel, members.c.ext_id.label("member")).where(
        members.c.workspace_id == workspace_id, members.c.first_joined_at.is_not(None)
    )
    known = select(profiles.c.channel, profiles.c.member_ext.label("member")).where(
        profiles.c.workspace_id == workspace_id
    )
    return union(seen, known).subquery("u")


def base_query(workspace_id: int, *columns: Any) -> tuple[Select[Any], Any]:
    u = universe(workspace_id)
    query = (
        select(*columns)
        .select_from(u)
        .outerjoin(
            profiles,
            and_(
                profiles.c.workspace_id == workspace_id,
                profiles.c.channel == u.c.channel,
                profiles.c.member_ext == u.c.member,
            ),
        )
        .outerjoin(
            members,
            and_(
                members.c.workspace_id == workspace_id,
                members.c.channel == u.c.channel,
                members.c.ext_id == u.c.member,
            ),
        )
    )
    return query, u


class Compiler:
    def __init__(
        self, workspace_id: int, u: Any, now: datetime, checkin_keywords: list[str]
    ) -> None:
        self.ws = workspace_id
        self.u = u
        self.now = now
        self.keywords = checkin_keywords

    def __call__(self, node: Filter) -> ColumnElement[bool]:
        if isinstance(node, All):
            return and_(*(self(n) for n in node.all))
        if isinstance(node, AnyOf):
            return or_(*(self(n) for n in node.any))
        if isinstance(node, Not):
            return not_(self(node.not_))
        if isinstance(node, FieldIs):
            return self._field(node)
        if isinstance(node, HasTag):
            tagged = select(member_tags.c.channel, member_tags.c.member_ext).where(
                member_tags.c.workspace_id == self.ws, member_tags.c.tag == node.tag
            )
            found = tuple_(self.u.c.channel, self.u.c.member).in_(tagged)
            return found if node.has else not_(found)
        if isinstance(node, Behaviour):
            return self._behaviour(node)
        if isinstance(node, FirstTouch):
            column = {
                "state": members.c.first_state,
                "code": members.c.first_code,
                "group": members.c.first_group,
                "scene": members.c.first_scene,
                "inviter": members.c.first_inviter,
            }[node.first_touch]
            # Both tests spelled out so that NOT of a member without first touch is true.
            return and_(column.is_not(None), column.in_(node.values))
        if isinstance(node, Joined):
            since = self.now - timedelta(days=node.joined_within_days)
            joined = members.c.first_joined_at
            return and_(joined.is_not(None), joined >= since, joined <= self.now)
        assert isinstance(node, Blacklisted)
        flag = func.coalesce(members.c.blacklisted, false())
        return flag if node.blacklisted else not_(flag)

    def _field(self, node: FieldIs) -> ColumnElement[bool]:
        column: Any
        if node.field.startswith("custom."):
            column = profiles.c.custom[node.field[7:]].as_string()
        else:
            column = profiles.c[node.field]

        def norm(v: Any) -> Any:
            return parse_enum(node.field, str(v)) if node.field in ENUM_FIELDS else str(v)

        if node.op == "is_set":
            return and_(column.is_not(None), column != "")
        if node.op == "is_not_set":
            return or_(column.is_(None), column == "")
        if node.op == "eq":
            return and_(column.is_not(None), column == norm(node.value))
        if node.op == "ne":
            return or_(column.is_(None), column != norm(node.value))
        if node.op == "in":
            found: ColumnElement[bool] = column.in_([norm(v) for v in node.value])
            return found
        if node.op == "not_in":
            return or_(column.is_(None), column.not_in([norm(v) for v in node.value]))
        contains: ColumnElement[bool] = column.contains(str(node.value), autoescape=True)
        return contains

    def _behaviour(self, node: Behaviour) -> ColumnElement[bool]:
        e = events
        cond = [e.c.workspace_id == self.ws, e.c.at <= self.now]
        if node.within_days is not None:
            cond.append(e.c.at > self.now - timedelta(days=node.within_days))
        who: Any = e.c.member_ext
        if node.behaviour == "messages":
            cond.append(e.c.type == "message.posted")
            measure: Any = func.count()
        elif node.behaviour == "checkins":
            text = e.c.data["text"].as_string()
            cond.append(e.c.type == "message.posted")
            cond.append(or_(false(), *(text.startswith(k, autoescape=True) for k in self.keywords)))
            measure = func.count()
        elif node.behaviour == "orders":
            cond.append(e.c.type == "order.paid")
            measure = func.count()
        elif node.behaviour == "spent_fen":
            cond.append(e.c.type.in_(["order.paid", "order.refunded"]))
            amount = e.c.data["amount_fen"].as_integer()
            measure = func.sum(case((e.c.type == "order.paid", amount), else_=-amount))
        else:
            cond.append(e.c.type == "member.joined")
            who = e.c.data["inviter"].as_string()
            cond.append(who.is_not(None))
            measure = func.count()
        compare = {
            ">=": measure >= node.value,
            ">": measure > node.value,
            "<=": measure <= node.value,
            "<": measure < node.value,
            "=": measure == node.value,
        }[node.op]
        zero_passes = {
            ">=": node.value <= 0,
            ">": False,
            "<=": True,
            "<": node.value > 0,
            "=": node.value == 0,
        }[node.op]
        grouped = select(e.c.channel, who).where(*cond).group_by(e.c.channel, who)
        key = tuple_(self.u.c.channel, self.u.c.member)
        if zero_passes:
            # Members without any such event have 0: keep everyone but those who fail.
            return not_(key.in_(grouped.having(not_(compare))))
        return key.in_(grouped.having(compare))


def compile_filter(
    node: Filter, workspace_id: int, u: Any, now: datetime, checkin_keywords: list[str]
) -> ColumnElement[bool]:
    return Compiler(workspace_id, u, now, checkin_keywords)(node)
