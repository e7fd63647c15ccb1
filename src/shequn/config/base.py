"""What every configuration section shares: strictness about unknown keys, and a digest of
configuration values that names job chains."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from functools import lru_cache

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Base of every configuration section: strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@lru_cache(maxsize=1024)
def fingerprint(*parts: Hashable) -> str:
    """A short stable digest of configuration values: a changed schedule gets a new job chain.

    Cached: rules ask for it on every event to name the slot they keep pending.
    """
    text = "|".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
