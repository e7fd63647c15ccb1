"""Configuration keys that were renamed. For one release a document may still use the old
key: it reads as if it used the new one, and is stored under the new key when applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RenamedKey:
    section: str
    old: str
    new: str

    @property
    def old_path(self) -> str:
        return f"{self.section}.{self.old}"

    @property
    def new_path(self) -> str:
        return f"{self.section}.{self.new}"


RENAMED_KEYS = (
    # Acquisition channels 渠道 are `sources`: `channel` means a chat platform only.
    RenamedKey("analytics", "channels", "sources"),
)


def renamed_keys_in(document: Any) -> list[RenamedKey]:
    """The old keys a configuration document still uses."""
    if not isinstance(document, dict):
        return []
    return [
        r
        for r in RENAMED_KEYS
        if isinstance(document.get(r.section), dict) and r.old in document[r.section]
    ]


def with_new_keys(document: Any) -> Any:
    """The document with every old key under its new name (a copy; the document itself is
    kept). A section that has both names is left as it is, for validation to reject."""
    found = renamed_keys_in(document)
    if not found:
        return document
    upgraded = dict(document)
    for r in found:
        section = upgraded[r.section]
        if r.new in section:
            continue
        upgraded[r.section] = {(r.new if k == r.old else k): v for k, v in section.items()}
    return upgraded
