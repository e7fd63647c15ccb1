"""The event vocabulary of the public contract, and validation of whole batches.

An event is a fact that happened in a community. The `id` is the de-duplication key within
(workspace, channel); `group` and `member` are the channel's own ids.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Union

import orjson
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

EARLIEST_AT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_AT = datetime(2100, 1, 1, tzinfo=UTC)
"""Instants outside [EARLIEST_AT, LATEST_AT) are refused wherever an event or a request
names one: year 1 or 9999 is a sender's bug, and would overflow once moved to UTC."""

MAX_NESTING = 16
"""Free-form JSON inside an event (an order's `items`) may nest at most this deep."""


def _sane_instant(value: datetime) -> datetime:
    """The instant in UTC, when it lies in [EARLIEST_AT, LATEST_AT)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST_AT <= utc < LATEST_AT:
        raise ValueError(
            f"time out of range: must lie between {EARLIEST_AT.year} and {LATEST_AT.year - 1}"
        )
    return utc


Instant = Annotated[AwareDatetime, AfterValidator(_sane_instant)]
"""An aware instant within the accepted range, in UTC: every `at` of an event (whose models
are strict: a number is no time)."""


def _not_a_number(value: Any) -> Any:
    if isinstance(value, int | float):
        raise ValueError("a time is ISO 8601 text with a UTC offset, not a number")
    return value


RequestInstant = Annotated[Instant, BeforeValidator(_not_a_number)]
"""An `at` in a request body (whose models are not strict): text, never a Unix number."""


def _in_range(value: datetime) -> datetime:
    """The time as given (its offset kept), when it lies in the accepted range."""
    _sane_instant(value)
    return value


def _shallow(value: Any) -> Any:
    # Checked level by level, so a hostile depth costs no deep recursion here.
    level = [value]
    for _ in range(MAX_NESTING + 1):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return value
    raise ValueError(f"nested deeper than {MAX_NESTING} levels")


ExtId = Annotated[str, Field(min_length=1, max_length=128)]
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]
Fen = Annotated[int, Field(ge=0, le=10**12)]


class _Data(BaseModel):
    # Strict: a number is a JSON number and a time is ISO 8601 text, on every path; "100"
    # for an amount or a Unix integer for a time is refused, never coerced.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EmptyData(_Data):
    pass


class GroupCreatedData(_Data):
    name: ShortText
    blueprint: ShortText | None = None
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    owner: ExtId | None = None
    ends_at: Annotated[AwareDatetime, AfterValidator(_in_range)] | None = None


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
    items: (
        Annotated[list[dict[str, Any]], Field(max_length=200), AfterValidator(_shallow)] | None
    ) = None
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
UTCInstant = Instant


def _none_is_empty(data_model: type[_Data]) -> Any:
    """`data: null` means no data: the empty data of types that need none."""
    required = [name for name, f in data_model.model_fields.items() if f.is_required()]

    def empty_when_none(value: _Data | None) -> _Data:
        if value is not None:
            return value
        if required:
            raise ValueError(f"this event type needs data ({', '.join(required)})")
        return data_model()

    return empty_when_none


class Event(BaseModel):
    """One fact, as it arrives and as it is stored. Each type is a subclass below."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

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
        # An after-validator: a before-validator would hand pydantic the decoded dict, and
        # strict validation of decoded Python wants datetimes where JSON has text.
        Annotated[data_model | None, AfterValidator(_none_is_empty(data_model))],
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
            given = (err.get("ctx") or {}).get("tag")
            close = difflib.get_close_matches(str(given), EVENT_TYPES, n=1) if given else []
            if close:
                message = f"unknown event type {given!r}; did you mean {close[0]!r}?"
        elif kind == "json_invalid":
            loc, message = ["(json)"], f"not valid JSON: {err['msg']}"
        elif kind in ("model_attributes_type", "dict_type", "model_type") and not loc:
            message = "expected a JSON object"
        elif len(loc) == 1 and loc[0] in ("group", "member") and err.get("input") is None:
            message = f"this event type needs a {loc[0]}"
        out.append(EventError(position, ".".join(loc) or "(event)", message))
    return out


def parse_event(
    raw: Any, position: int, latest: datetime | None = None
) -> Event | list[EventError]:
    """Validate one decoded item; return the event or every error, naming its fields.

    The item is validated as the JSON it encodes, exactly as a line of a file is: the same
    size bound and the same strict types on every path (API, file, webhook, staff)."""
    if not isinstance(raw, dict):
        return [EventError(position, "(event)", "expected a JSON object")]
    try:
        # Times the program itself hands over (a staff operation's, a stored row's) are
        # datetimes; a naive one is UTC, as the database keeps it.
        line = orjson.dumps(raw, option=orjson.OPT_NAIVE_UTC)
    except (orjson.JSONEncodeError, TypeError) as exc:
        return [EventError(position, "(event)", f"not representable as JSON: {exc}")]
    return parse_line(line, position, latest)


def parse_line(
    line: bytes | str, position: int, latest: datetime | None = None
) -> Event | list[EventError]:
    """Validate one JSON line straight from its bytes; an event later than `latest` (the
    clock plus the allowed skew, for live traffic) is refused."""
    if len(line) > MAX_EVENT_BYTES:
        return [EventError(position, "(event)", f"event larger than {MAX_EVENT_BYTES} bytes")]
    try:
        event = _ANY_EVENT.validate_json(line)
    except ValidationError as exc:
        return _errors(exc, position)
    if latest is not None and event.at > latest:
        return [EventError(position, "at", too_late(event.at, latest))]
    return event


def too_late(at: datetime, latest: datetime) -> str:
    """Why an instant ahead of the clock is refused (the same words on every path)."""
    return (
        f"{at.isoformat()} is later than {latest.astimezone(UTC).isoformat()}, "
        "the clock plus the allowed skew (SHEQUN_MAX_FUTURE_SKEW)"
    )


@dataclass(slots=True)
class ParsedBatch:
    events: list[Event]
    errors: list[EventError]


def parse_lines(
    lines: Iterable[tuple[int, bytes | str]], latest: datetime | None = None
) -> ParsedBatch:
    """Validate every numbered line, collecting all errors (blank lines are skipped)."""
    events: list[Event] = []
    errors: list[EventError] = []
    for position, line in lines:
        if not line.strip():
            continue
        result = parse_line(line, position, latest)
        if isinstance(result, Event):
            events.append(result)
        else:
            errors.extend(result)
    return ParsedBatch(events, errors)


def parse_items(items: Iterable[Any], latest: datetime | None = None) -> ParsedBatch:
    """Validate decoded items (an API batch), positions being 0-based indexes."""
    events: list[Event] = []
    errors: list[EventError] = []
    for index, raw in enumerate(items):
        result = parse_event(raw, index, latest)
        if isinstance(result, Event):
            events.append(result)
        else:
            errors.extend(result)
    return ParsedBatch(events, errors)
