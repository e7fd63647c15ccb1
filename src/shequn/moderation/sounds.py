"""Characters by how they sound: spammers write 迦筘 for 加扣 (add QQ), 嶶信 or 喂心 for 微信,
乞鹅 for 企鹅, so cue words are matched by their pinyin, not by a list of spellings.

The classes are read once from pypinyin's dictionary over the common CJK block, by each
character's first (commonest) reading, tones ignored: rare readings (于 read wei) would make
everyday words into cues.
"""

from __future__ import annotations

from functools import cache

from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict

__all__ = ["reads_as"]

_BLOCK = range(0x4E00, 0x9FA6)


@cache
def _readings() -> dict[str, str]:
    """Syllable → every character of the block whose first reading it is."""
    chars: dict[str, list[str]] = {}
    for code in _BLOCK:
        readings = pinyin_dict.get(code)
        if readings:
            syllable = to_normal(readings.split(",")[0])
            chars.setdefault(syllable, []).append(chr(code))
    return {syllable: "".join(found) for syllable, found in chars.items()}


def reads_as(syllable: str, *, but: str = "") -> str:
    """The characters that can be read as `syllable`, less those in `but` (common words
    that would make too many false cues)."""
    return "".join(ch for ch in _readings().get(syllable, "") if ch not in but)
