"""The domains of Shequn, in one list: what the engine, the exports, the migrations, the web
app and the command line are made of.

The order is the engine's: rules run domain by domain in this order (moderation first, so a
message it punishes is judged before it earns anything), and the web app includes the
routers in it. A new domain adds its `domain.py` descriptor here (docs/architecture.md).
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from shequn.analytics.domain import DOMAIN as ANALYTICS
from shequn.channels.domain import DOMAIN as CHANNELS
from shequn.channels.sandbox.domain import DOMAIN as SANDBOX
from shequn.commerce.domain import DOMAIN as COMMERCE
from shequn.community.domain import DOMAIN as COMMUNITY
from shequn.crm.domain import DOMAIN as CRM
from shequn.engagement.domain import DOMAIN as ENGAGEMENT
from shequn.engine.domain import DOMAIN as ENGINE
from shequn.growth.domain import DOMAIN as GROWTH
from shequn.moderation.domain import DOMAIN as MODERATION
from shequn.platform import domain
from shequn.platform.db import metadata
from shequn.platform.domain import Command, Domain

DOMAINS: tuple[Domain, ...] = (
    COMMUNITY,
    ENGINE,
    SANDBOX,
    CHANNELS,
    MODERATION,
    ENGAGEMENT,
    GROWTH,
    COMMERCE,
    CRM,
    ANALYTICS,
)


def install() -> None:
    """Make these the program's domains (`shequn.platform.domain`)."""
    domain.install(DOMAINS)


def all_tables() -> MetaData:
    """The metadata with every domain's tables (migrations, checks)."""
    for d in DOMAINS:
        for module in d.models:
            importlib.import_module(module)
    return metadata


def command_groups() -> dict[str, tuple[str, tuple[str, ...]]]:
    """The domains' command groups as `shequn.cli.COMMAND_GROUPS` lists them: name → (help,
    Typer apps). A group named by several domains joins their apps, the one with the help
    first (analytics' `report` and growth's `report campaign`)."""
    named: dict[str, list[Command]] = {}
    for d in DOMAINS:
        for command in d.cli:
            named.setdefault(command.name, []).append(command)
    groups: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name, commands in named.items():
        commands.sort(key=lambda c: not c.help)  # stable: the owner first, then the others
        groups[name] = (commands[0].help, tuple(app for c in commands for app in c.apps))
    return groups
