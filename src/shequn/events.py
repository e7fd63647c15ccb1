"""The event vocabulary of the public contract, and validation of whole batches.

An event is a fact that happened in a community. The `id` is the de-duplication key within
(workspace, channel); `group` and `member` are the channel's own ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
)

from shequn.i18n import t
from shequn.platform.errors import Invalid

MAX_EVENT_BYTES = 64 * 1024
"""One event's JSON may be at most this large; bigger payloads are refused, not truncated."""

ExtId = Annotated[str, Field(min_length=1, max_length=128)]
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]
Fen = Annotated[int, Field(ge=0, le=10**12)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmptyData(_Data):
    pass


class GroupCreatedData(_Data):
    name: ShortText
    blueprint: ShortText | None = None
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    owner: ExtId | None = None
    ends_at: AwareDatetime | None = None


class GroupUpdatedData(_Data):
    name: ShortText | None = None
    notice: LongText | None = None
    owner: ExtId | None = None


JoinScene = Literal["qr", "invite", "link", "direct", "approval"]


class MemberJoinedData(_Data):
    nickname: ShortText
    scene: JoinScene
    inviter: ExtId | None = None
    code: ExtId | None = None
    state: ShortText | None = None


class MemberLeftData(_Data):
    reason: Literal["left", "removed"]
    by: ExtId | None = None


class MemberRenamedData(_Data):
    nickname: ShortText


MessageKind = Literal[
    "text", "image", "link", "card", "miniprogram", "file", "voice", "video", "redpacket"
]


class MessagePostedData(_Data):
    message_id: ExtId
    kind: MessageKind
    text: LongText | None = None
    url: Annotated[str, Field(max_length=2048)] | None = None
    qr: Annotated[str, Field(max_length=2048)] | None = None
    mentions: Annotated[list[ExtId], Field(max_length=500)] | None = None
    reply_to: ExtId | None = None


class CodeScannedData(_Data):
    code: ExtId
    state: ShortText | None = None
    scanner: ExtId | None = None


class PosterSharedData(_Data):
    campaign: ExtId


class OrderPaidData(_Data):
    order_id: ExtId
    amount_fen: Fen
    items: Annotated[list[dict[str, Any]], Field(max_length=200)] | None = None
    coupon: ExtId | None = None
    promoter: ExtId | None = None


class OrderRefundedData(_Data):
    order_id: ExtId
    amount_fen: Fen


class CouponRedeemedData(_Data):
    coupon_id: ExtId


# Staff operations are events too, so a replay rebuilds what staff did. Each carries `by`,
# the person who acted, and names its target by an identifier a replay into another
# workspace or database gives again (never a surrogate row id).
StaffName = Annotated[str, Field(min_length=1, max_length=100)]
RewardKey = Annotated[str, Field(min_length=1, max_length=300)]
Note = Annotated[str, Field(max_length=2000)]


class PointsSpentData(_Data):
    amount: Annotated[int, Field(ge=1, le=10**9)]
    reason: Note
    key: Annotated[str, Field(min_length=1, max_length=200)]
    """The operation's idempotency key: the same key spends once."""
    by: StaffName


class ViolationRevertedData(_Data):
    event: ExtId
    """The id of the event the violation was recorded for (the violation's `caused_by`)."""
    by: Annotated[str, Field(min_length=1, max_length=128)]


class RewardReviewedData(_Data):
    reward: RewardKey
    approve: bool
    by: StaffName
    note: Note | None = None


class RewardReversedData(_Data):
    reward: RewardKey
    by: StaffName
    note: Note | None = None


class RewardPaidData(_Data):
    reward: RewardKey
    by: StaffName


# Contacts: a customer and a staff member became (or stopped being) contacts, outside any
# group (WeCom's 联系我 and 获客链接). `member` is the customer; `state` carries the channel's
# attribution, as in member.joined.
class ContactAddedData(_Data):
    staff: ExtId
    state: ShortText | None = None
    welcome_code: Annotated[str, Field(max_length=256)] | None = None


class ContactRemovedData(_Data):
    staff: ExtId
    by: Literal["staff", "customer"]
    """Who ended it: the staff member deleted the customer, or the customer the staff member."""


# type -> (data model, needs group, needs member)
EVENT_TYPES: dict[str, tuple[type[_Data], bool, bool]] = {
    "group.created": (GroupCreatedData, True, False),
    "group.updated": (GroupUpdatedData, True, False),
    "group.dismissed": (EmptyData, True, False),
    "member.joined": (MemberJoinedData, True, True),
    "member.left": (MemberLeftData, True, True),
    "member.renamed": (MemberRenamedData, True, True),
    "message.posted": (MessagePostedData, True, True),
    "code.scanned": (CodeScannedData, False, False),
    "poster.shared": (PosterSharedData, False, True),
    "order.paid": (OrderPaidData, False, True),
    "order.refunded": (OrderRefundedData, False, True),
    "coupon.redeemed": (CouponRedeemedData, False, True),
    "points.spent": (PointsSpentData, False, True),
    "violation.reverted": (ViolationRevertedData, True, True),
    "reward.reviewed": (RewardReviewedData, False, True),
    "reward.reversed": (RewardReversedData, False, True),
    "reward.paid": (RewardPaidData, False, True),
    "contact.added": (ContactAddedData, False, True),
    "contact.removed": (ContactRemovedData, False, True),
}

STAFF_EVENT_TYPES = frozenset(
    ("points.spent", "violation.reverted", "reward.reviewed", "reward.reversed", "reward.paid")
)
"""Staff operations: not community activity, so they change no group, member or membership
(the projector skips them); their rules do what the operation did."""

Channel = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
# Instants are kept in UTC so ordering and day arithmetic never depend on the sender.
UTCInstant = Annotated[AwareDatetime, AfterValidator(lambda v: v.astimezone(UTC))]


def _none_is_empty(value: Any) -> Any:
    return {} if value is None else value


class Event(BaseModel):
    """One fact, as it arrives and as it is stored. Each type is a subclass below."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ExtId
    type: str
    channel: Channel
    group: ExtId | None = None
    member: ExtId | None = None
    at: UTCInstant
    data: Any = None

    def to_json_dict(self) -> dict[str, Any]:
        """The contract's JSON shape, with `at` in UTC."""
        return {
            "id": self.id,
            "type": self.type,
            "channel": self.channel,
            "group": self.group,
            "member": self.member,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "data": self.data.model_dump(mode="json", exclude_none=True),
        }


def _event_class(type_name: str, data_model: type[_Data], group: bool, member: bool) -> Any:
    """The model of one event type: its data model, and group/member when the type needs them."""
    data_field = (
        Annotated[data_model, BeforeValidator(_none_is_empty)],
        Field(default_factory=dict, validate_default=True),
    )
    fields: dict[str, Any] = {
        "type": (Literal[type_name], ...),
        "data": data_field,
    }
    if group:
        fields["group"] = (ExtId, ...)
    if member:
        fields["member"] = (ExtId, ...)
    name = "".join(part.capitalize() for part in type_name.split(".")) + "Event"
    return create_model(name, __base__=Event, **fields)


EVENT_CLASSES: dict[str, type[Event]] = {
    name: _event_class(name, *spec) for name, spec in EVENT_TYPES.items()
}

# One discriminated union: pydantic validates the whole event, JSON included, in one call.
_ANY_EVENT: TypeAdapter[Event] = TypeAdapter(
    Annotated[Union[tuple(EVENT_CLASSES.values())], Field(discriminator="type")]  # type: ignore[arg-type]  # noqa: UP007
)


@dataclass(frozen=True, slots=True)
class EventError:
    """A rejected input item: its 1-based line (or 0-based index) and what is wrong."""

    position: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.field}: {self.message}"


class BatchRejected(Invalid):
    """A batch had invalid items and nothing of it was stored."""

    title: ClassVar[dict[str, str]] = {
        "zh-CN": "批次被拒绝，未存储任何数据",
        "en": "Batch rejected, nothing stored",
    }

    def __init__(self, errors: list[EventError], unit: str = "line") -> None:
        self.errors = errors
        self.unit = unit
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(t, "events.batch_rejected", summary=f"{unit} {first}{more}")

    def extra(self) -> dict[str, Any]:
        return {
            "errors": [
                {self.unit: e.position, "field": e.field, "message": e.message} for e in self.errors
            ]
        }


_FRIENDLY = {
    "timezone_aware": "timestamp needs a UTC offset (e.g. +08:00 or Z)",
    "union_tag_invalid": "unknown event type; expected one of " + ", ".join(EVENT_TYPES),
    "union_tag_not_found": "missing event type",
}


def _errors(exc: ValidationError, position: int) -> list[EventError]:
    out = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in EVENT_TYPES:
            loc = loc[1:]  # the union's branch name, not a field
        kind = err["type"]
        message = _FRIENDLY.get(kind, err["msg"])
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            loc = ["type"]
        elif kind == "json_invalid":
            loc, message = ["(json)"], f"not valid JSON: {err['msg']}"
        elif kind in ("model_attributes_type", "dict_type", "model_type") and not loc:
            message = "expected a JSON object"
        elif len(loc) == 1 and loc[0] in ("group", "member") and err.get("input") is None:
            message = f"this event type needs a {loc[0]}"
        out.append(EventError(position, ".".join(loc) or "(event)", message))
    return out


def parse_event(raw: Any, position: int) -> Event | list[EventError]:
    """Validate one decoded item; return the event or every error, naming its fields."""
    if not isinstance(raw, dict):
        return [EventError(position, "(event)", "expected a JSON object")]
    try:
        return _ANY_EVENT.validate_python(raw)
    except ValidationError as exc:
        return _errors(exc, position)


def parse_line(line: bytes | str, position: int) -> Event | list[EventError]:
    """Validate one JSON line straight from its bytes."""
    if len(line) > MAX_EVENT_BYTES:
        return [EventError(position, "(event)", f"event larger than {MAX_EVENT_BYTES} bytes")]
    try:
        return _ANY_EVENT.validate_json(line)
    except ValidationError as exc:
        return _errors(exc, position)


@dataclass(slots=True)
class ParsedBatch:
    events: list[Event]
    errors: list[EventError]


def parse_lines(lines: Iterable[tuple[int, bytes | str]]) -> ParsedBatch:
    """Validate every numbered line, collecting all errors (blank lines are skipped)."""
    events: list[Event] = []
    errors: list[EventError] = []
    for position, line in lines:
        if not line.strip():
            continue
        result = parse_line(line, position)
        if isinstance(result, Event):
            events.append(result)
        else:
            errors.extend(result)
    return ParsedBatch(events, errors)


def parse_items(items: Iterable[Any]) -> ParsedBatch:
    """Validate decoded items (an API batch), positions being 0-based indexes."""
    events: list[Event] = []
    errors: list[EventError] = []
    for index, raw in enumerate(items):
        result = parse_event(raw, index)
        if isinstance(result, Event):
            events.append(result)
        else:
            errors.extend(result)
    return ParsedBatch(events, errors)
