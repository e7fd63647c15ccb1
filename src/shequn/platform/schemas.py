"""Building blocks of the API's response models: a base that every answer shares, and the
scalar types the services hand over already formatted (times as ISO 8601 text)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue


def _iso(value: Any) -> Any:
    # What FastAPI's encoder would have written for a datetime or date the service left as one.
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class Answer(BaseModel):
    """Base of response models. Services build the answers as dicts; the model checks and
    documents them and must not change them, so no field converts a value it is given."""

    model_config = ConfigDict(populate_by_name=True)


Timestamp = Annotated[str, BeforeValidator(_iso), Field(json_schema_extra={"format": "date-time"})]
"""An aware time as ISO 8601 text, as the service wrote it (`…Z` or `…+00:00`)."""

Day = Annotated[str, BeforeValidator(_iso), Field(json_schema_extra={"format": "date"})]
"""A day (YYYY-MM-DD), in the workspace's time zone."""

Number = int | float
"""A figure that is a whole number or a fraction, kept as it is (3 stays 3, 0.5 stays 0.5)."""

Json = JsonValue
"""Free-form JSON: an action's data, a report cell, a saved filter."""

RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
"""A row's id as a request names it: positive, and within the databases' 64-bit integers
(a larger number would fail in the driver instead of finding nothing)."""


def file_responses(*media_types: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route that answers a file or a page rather than JSON."""
    binary = {"type": "string", "format": "binary"}
    return {status: {"content": {media: {"schema": binary} for media in media_types}}}
