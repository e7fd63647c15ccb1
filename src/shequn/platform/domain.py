"""What a domain package contributes, and the one place the top layer installs the list.

Each domain package describes itself with a `Domain` (in its `domain.py`), naming its modules
as strings so that nothing is imported until it is asked for. `shequn.domains` lists them, and
the program's entry points (the command line, the web app, the tests) install that list here.
The layers below read what they need from it — the engine its rules, the exports their kinds,
the migrations the tables, community the reference checks — without importing a domain.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["models", "rules", "exports"]


@dataclass(frozen=True, slots=True)
class Command:
    """A `shequn` command group: its name, the one-line help `shequn --help` shows, and the
    Typer apps (`module:attribute`) that make it."""

    name: str
    help: str
    apps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    models: tuple[str, ...] = ()
    """Modules declaring the domain's tables on `platform.db.metadata`."""
    rules: tuple[str, ...] = ()
    """Modules registering rules, job handlers and books on import, in the order the engine
    runs them (the order of the domains, then of this tuple)."""
    exports: tuple[str, ...] = ()
    """Modules registering export kinds on import."""
    references: tuple[str, ...] = ()
    """Checks (`module:function`) that what a configuration names exists in the workspace."""
    channels: tuple[str, ...] = ()
    """Channel adapters (`module:Class`, subclasses of `channels.base.ChannelAdapter`)."""
    api: tuple[str, ...] = ()
    """Routers (`module:attribute`) the web app includes, in this order."""
    cli: tuple[Command, ...] = ()
    """The domain's `shequn` command groups."""


_source: Sequence[Domain] | Callable[[], Sequence[Domain]] | None = None
_domains: tuple[Domain, ...] | None = None
_loaded: set[str] = set()


def install(domains: Sequence[Domain] | Callable[[], Sequence[Domain]]) -> None:
    """Make `domains` the program's domains. A callable is called when they are first needed
    (the command line installs one, so a command that needs no domain imports none)."""
    global _source, _domains
    _source = domains
    _domains = None
    _loaded.clear()


def installed() -> tuple[Domain, ...]:
    global _domains
    if _domains is None:
        if _source is None:
            raise RuntimeError("no domains are installed: call shequn.domains.install() first")
        _domains = tuple(_source() if callable(_source) else _source)
    return _domains


def modules(kind: Kind) -> list[str]:
    """The modules of one kind, in the order of the domains."""
    return [module for domain in installed() for module in getattr(domain, kind)]


def load(kind: Kind) -> None:
    """Import every domain's modules of one kind, once (they register themselves)."""
    if kind in _loaded:
        return
    for module in modules(kind):
        importlib.import_module(module)
    _loaded.add(kind)


def resolve(target: str) -> Any:
    """The object a `module:attribute` target names."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def targets(kind: Literal["references", "channels", "api"]) -> list[Any]:
    """Every domain's objects of one kind, resolved, in the order of the domains."""
    return [resolve(target) for domain in installed() for target in getattr(domain, kind)]
