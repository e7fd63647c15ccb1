"""The paging parameters of list routes and the row ids routes name, bounded so that any
value the schema allows can be served (an offset or id past the 64-bit range would otherwise
fail inside the database driver)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_OFFSET = 1_000_000_000
"""Far beyond any list's length: an offset past it is refused with 422, not served."""

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]

IdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="The row's id.")]
"""A row id in a path: within the databases' 64-bit integers (as `platform.schemas.RowId` in
bodies), so a larger number is a 422, not a driver error."""
