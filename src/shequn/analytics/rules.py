"""Analytics decides nothing while events are ingested: importing this module, as the engine
does with every rule module, registers the `analytics` configuration section."""

from __future__ import annotations
