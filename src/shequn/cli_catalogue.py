"""Keeping the command line's zh-CN catalogue (`shequn.cli_language`) complete.

    python -m shequn.cli_catalogue check     # what has no translation, what is no longer used
    python -m shequn.cli_catalogue update    # add the new strings (empty), drop the unused
    python -m shequn.cli_catalogue compile   # cli.po → cli.mo, after editing translations

The messages are every help string of the command tree (every lazily loaded group loaded),
in English as the code has them, and every message Click and Typer mark with gettext. Each
entry of cli.po says where it is shown (`#. shequn workspace create --display-name`), and
entries are ordered by that place, so a new command's strings stay together.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po
from typer.core import TyperGroup

from shequn.cli_language import DOMAIN, LOCALE_DIR, help_params

if TYPE_CHECKING:
    from typer._click import Command

CATALOGUE = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{DOMAIN}.po"
COMPILED = CATALOGUE.with_suffix(".mo")

MessageId = str | tuple[str, ...]
"""A message, or a message with its plural (Click's `ngettext`)."""

_PLACEHOLDER = re.compile(r"\{[^{}]*\}|--[a-z][\w-]*|%\([a-z_]+\)[sd]|%[sd]")


@dataclass(frozen=True)
class Problems:
    missing: dict[MessageId, list[str]]
    """Messages shown to users with no translation: id → where they are shown."""
    unused: list[MessageId]
    """Catalogue entries no message uses any more."""
    mismatched: list[MessageId]
    """Translations that lost or changed a placeholder ({name}) or an option name (--name)."""

    def __bool__(self) -> bool:
        return bool(self.missing or self.unused or self.mismatched)


def help_messages() -> dict[str, list[str]]:
    """Every help string of `shequn`, in English, with the commands that show it."""
    from shequn.cli import COMMAND_GROUPS, app
    from shequn.cli_support import load_group

    saved = os.environ.get("SHEQUN_LOCALE")
    os.environ["SHEQUN_LOCALE"] = "en"  # the tree as the code writes it: the message ids
    try:
        root = typer.main.get_command(app)
        found: dict[str, list[str]] = {}
        for where, text in _help_texts(root, "shequn"):
            found.setdefault(text, []).append(where)
        for name, (_, targets) in COMMAND_GROUPS.items():
            for where, text in _help_texts(load_group(name, targets), f"shequn {name}"):
                found.setdefault(text, []).append(where)
        return found
    finally:
        if saved is None:
            os.environ.pop("SHEQUN_LOCALE", None)
        else:
            os.environ["SHEQUN_LOCALE"] = saved


def _help_texts(command: Command, path: str) -> Iterator[tuple[str, str]]:
    for text in (command.help, command.short_help):
        if text:
            yield path, text
    for param in help_params(command):
        text = getattr(param, "help", None)
        if text:
            yield f"{path} {param.opts[0] if param.opts else param.name}", text
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from _help_texts(sub, f"{path} {name}")


def library_messages() -> dict[MessageId, list[str]]:
    """Typer's own words: every message its code marks with gettext."""
    found: dict[MessageId, list[str]] = {}
    folder = Path(typer.__file__ or "").parent
    keywords: dict[str, Any] = {"_": None, "ngettext": (1, 2)}
    for path in sorted(folder.rglob("*.py")):
        for lineno, message, _comments, _context in extract_from_file(
            "python", str(path), keywords=keywords
        ):
            found.setdefault(message, []).append(f"typer/{path.relative_to(folder)}:{lineno}")
    return found


def wanted_messages() -> dict[MessageId, list[str]]:
    """What the catalogue must translate, each with where it is shown, in catalogue order."""
    wanted: dict[MessageId, list[str]] = {**library_messages()}
    for text, places in help_messages().items():
        wanted.setdefault(text, []).extend(places)
    return dict(sorted(wanted.items(), key=lambda item: (_order(item[1][0]), _key(item[0]))))


def _order(place: str) -> tuple[int, str]:
    return (0 if place.startswith("shequn") else 1, place)


def _key(message: MessageId) -> str:
    return message if isinstance(message, str) else message[0]


def read_catalogue(path: Path | None = None) -> Catalog:
    with (path or CATALOGUE).open("rb") as fh:
        return read_po(fh, locale="zh_CN", domain=DOMAIN)


def translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return not message.fuzzy and all(strings)


def problems(catalogue: Catalog | None = None) -> Problems:
    catalogue = read_catalogue() if catalogue is None else catalogue
    wanted = wanted_messages()
    missing = {
        mid: places
        for mid, places in wanted.items()
        if (entry := catalogue.get(mid)) is None or not translated(entry)
    }
    ids = [(_message_id(m), m) for m in catalogue if m.id]
    unused = [mid for mid, _ in ids if mid not in wanted]
    mismatched = [
        mid for mid, m in ids if translated(m) and _placeholders(mid) != _placeholders(m.string)
    ]
    return Problems(missing, unused, mismatched)


def _message_id(message: Message) -> MessageId:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def _placeholders(text: MessageId | Any) -> list[str]:
    texts = text if isinstance(text, tuple) else (text,)
    return sorted(p for t in texts[:1] for p in _PLACEHOLDER.findall(t or ""))


def po_entries(messages: dict[MessageId, list[str]], known: Catalog | None = None) -> str:
    """Ready-to-paste cli.po entries for these messages: msgstr to fill in, or to review
    where `known` has a fuzzy one."""
    catalogue = Catalog(locale="zh_CN", domain=DOMAIN)
    for mid, places in messages.items():
        entry = known.get(mid) if known is not None else None
        string = entry.string if entry is not None else ("",) if isinstance(mid, tuple) else ""
        flags = entry.flags if entry is not None else ()
        catalogue.add(mid, string, auto_comments=places[:3], flags=flags)
    buffer = io.BytesIO()
    write_po(buffer, catalogue, omit_header=True, width=100)
    return buffer.getvalue().decode("utf-8")


def update() -> Catalog:
    """cli.po with every wanted message, in catalogue order, without the unused ones; then
    compiled. As gettext's msgmerge does: a new message like an old one (a reworded help)
    gets the old translation marked fuzzy, for a translator to review; others come empty."""
    catalogue = read_catalogue()
    template = Catalog(locale="zh_CN", domain=DOMAIN)
    for mid, places in wanted_messages().items():
        template.add(mid, auto_comments=places[:3])
    catalogue.update(template, update_creation_date=False)
    with CATALOGUE.open("wb") as fh:
        write_po(fh, catalogue, width=100, sort_output=False, ignore_obsolete=True)
    compile_catalogue()
    return catalogue


def compile_catalogue() -> None:
    """cli.mo from cli.po (fuzzy and empty translations are left out: English shows)."""
    catalogue = read_catalogue()
    with COMPILED.open("wb") as fh:
        write_mo(fh, catalogue)


def compiled_is_current() -> bool:
    """Does cli.mo say what cli.po says?"""
    with COMPILED.open("rb") as fh:
        compiled = read_mo(fh)
    expected = {m.id: m.string for m in read_catalogue() if m.id and translated(m)}
    return {_hashable(m.id): _hashable(m.string) for m in compiled if m.id} == {
        _hashable(k): _hashable(v) for k, v in expected.items()
    }


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_catalogue()
    elif command != "check":
        sys.stderr.write(__doc__ or "")
        return 2
    catalogue = read_catalogue()
    found = problems(catalogue)
    if found.missing:
        sys.stdout.write(f"# {len(found.missing)} without a translation (or fuzzy):\n\n")
        sys.stdout.write(po_entries(found.missing, catalogue))
    for mid in found.unused:
        sys.stdout.write(f"# no longer used: {mid!r}\n")
    for mid in found.mismatched:
        sys.stdout.write(f"# placeholders or option names differ: {mid!r}\n")
    if not compiled_is_current():
        sys.stdout.write(f"# {COMPILED.name} is older than {CATALOGUE.name}: run compile\n")
        return 1
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
