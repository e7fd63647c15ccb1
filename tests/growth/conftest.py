"""Growth and commerce register their rules and books on import;
until the core lists them (engine.rules.RULE_MODULES) the tests load them here."""

from __future__ import annotations

from tests.growth.helpers import load_domains

load_domains()
