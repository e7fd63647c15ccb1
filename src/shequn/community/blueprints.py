"""Per-group configuration: how the layers of a group's settings merge.

A group takes its settings from the workspace configuration, then from its blueprint's
`settings`, then from its own entry in `groups.overrides` — each layer overriding only the
sections it names. The blueprints themselves are configuration (`shequn.config.community`).
"""

from __future__ import annotations

from typing import Any


def merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge a layer of section overrides into a configuration document."""
    out = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
