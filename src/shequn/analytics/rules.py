"""Analytics decides nothing while events are ingested: its figures are read from the log
afterwards. The module stays listed with the rule modules so the domain keeps its place there."""

from __future__ import annotations
