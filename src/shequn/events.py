"""The event vocabulary of the public contract, and validation of whole batches.

An event is a fact that happened in a community. The `id` is the de-duplication key within
(workspace, channel); `group` and `member` are the channel's own ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

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
}

EventType = Literal[
    "group.created",
    "group.updated",
    "group.dismissed",
    "member.joined",
    "member.left",
    "member.renamed",
    "message.posted",
    "code.scanned",
    "poster.shared",
    "order.paid",
    "order.refunded",
    "coupon.redeemed",
]

_DATA_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(model) for name, (model, _, _) in EVENT_TYPES.items()
}


class Event(BaseModel):
    """One fact, as it arrives and as it is stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ExtId
    type: EventType
    channel: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
    group: ExtId | None = None
    member: ExtId | None = None
    at: AwareDatetime
    data: Any = None

    @model_validator(mode="after")
    def _check_envelope(self) -> Event:
        _, needs_group, needs_member = EVENT_TYPES[self.type]
        if needs_group and self.group is None:
            raise ValueError(f"{self.type} needs a group")
        if needs_member and self.member is None:
            raise ValueError(f"{self.type} needs a member")
        # Instants are kept in UTC so ordering and day arithmetic never depend on the sender.
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        return self

    def to_json_dict(self) -> dict[str, Any]:
        """The contract's JSON shape, with `at` in UTC."""
        data = self.data.model_dump(mode="json", exclude_none=True) if self.data else {}
        return {
            "id": self.id,
            "type": self.type,
            "channel": self.channel,
            "group": self.group,
            "member": self.member,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "data": data,
        }


_EVENT = TypeAdapter(Event)


@dataclass(frozen=True, slots=True)
class EventError:
    """A rejected input item: its 1-based line (or 0-based index) and what is wrong."""

    position: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.field}: {self.message}"


class BatchRejected(Exception):
    """A batch had invalid items and nothing of it was stored."""

    def __init__(self, errors: list[EventError], unit: str = "line") -> None:
        self.errors = errors
        self.unit = unit
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{unit} {first}{more}")


def _errors(exc: ValidationError, position: int, prefix: str = "") -> list[EventError]:
    out = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(p) for p in err.get("loc", ()))
        field = ".".join(p for p in (prefix, path) if p) or "(event)"
        msg = err["msg"]
        if err["type"] == "timezone_aware":
            msg = "timestamp needs a UTC offset (e.g. +08:00 or Z)"
        out.append(EventError(position, field, msg))
    return out


def parse_event(raw: Any, position: int) -> Event | list[EventError]:
    """Validate one decoded item; return the event or every error, naming its fields."""
    if not isinstance(raw, dict):
        return [EventError(position, "(event)", "expected a JSON object")]
    errors: list[EventError] = []
    event: Event | None = None
    try:
        event = _EVENT.validate_python(raw)
    except ValidationError as exc:
        errors = [e for e in _errors(exc, position) if e.field != "data"]
    etype = raw.get("type")
    if etype in _DATA_ADAPTERS:
        try:
            data = _DATA_ADAPTERS[etype].validate_python(raw.get("data") or {})
        except ValidationError as exc:
            errors += _errors(exc, position, "data")
        else:
            if event is not None and not errors:
                object.__setattr__(event, "data", data)
                return event
    return errors


def parse_line(line: bytes | str, position: int) -> Event | list[EventError]:
    if len(line) > MAX_EVENT_BYTES:
        return [EventError(position, "(event)", f"event larger than {MAX_EVENT_BYTES} bytes")]
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return [EventError(position, "(json)", f"not valid JSON: {exc}")]
    return parse_event(raw, position)


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
