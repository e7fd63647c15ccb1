"""The paging parameters of list routes, bounded so that any value the schema allows can be
served (an offset past the 64-bit range would otherwise fail inside the database driver)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_OFFSET = 1_000_000_000
"""Far beyond any list's length: an offset past it is refused with 422, not served."""

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]
