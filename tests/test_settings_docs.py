"""Every setting is documented for operators."""

from __future__ import annotations

from pathlib import Path

from shequn.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [
        f"SHEQUN_{name.upper()}"
        for name in Settings.model_fields
        if f"SHEQUN_{name.upper()}" not in text
    ]
    assert not missing, f"document these in docs/configuration.md: {missing}"
