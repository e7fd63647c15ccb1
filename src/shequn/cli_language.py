"""The language of the `shequn` command: its help and Click's and Typer's own words.

The English help in the code (Typer's `help=`, command docstrings, the one-line helps of
`shequn.cli.COMMAND_GROUPS`) is the message id; the Chinese is in a gettext catalogue,
`locales/zh_CN/LC_MESSAGES/cli.po`, compiled to `cli.mo` beside it (standard gettext, read
with the standard library: no start-up cost). `SHEQUN_LOCALE` picks the language, read from
the environment and not through the settings, which help must not load.

Typer marks its own words ("Options", "Commands", "[required]", "No such command …") with
`gettext.gettext`: the catalogue holds those too, and `use_language` points gettext's
default domain at it. Typer computes its help panels' titles when `typer.rich_utils` is
first imported; an already imported module gets them again here. The Click that Typer
carries inside it (`typer._click`) marks none of its words, so "Usage:" and its parsing
errors ("Missing option …") stay English; the --help option's own help ("Show this message
and exit.") is an option's help like any other (`help_params`).

The catalogue is kept with `python -m shequn.cli_catalogue` (docs/architecture.md, "The
command line").
"""

from __future__ import annotations

import gettext
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from typer._click import Command  # the Click inside Typer: its types only

LOCALE_DIR = Path(__file__).parent / "locales"
DOMAIN = "cli"
LANGUAGES = {"zh-CN": "zh_CN", "en": "en"}
"""The locales of `SHEQUN_LOCALE` (those of `shequn.i18n`) and their gettext names. Any
other value reads as zh-CN, as the error lines do."""

Translate = Callable[[str], str]

# Typer's words that `typer.rich_utils` translates once, when it is imported.
_RICH_UTILS_WORDS = {
    "DEPRECATED_STRING": "(deprecated) ",
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
}


def cli_locale() -> str:
    """The command line's locale: SHEQUN_LOCALE when it is one we speak, else zh-CN."""
    locale = os.environ.get("SHEQUN_LOCALE", "zh-CN")
    return locale if locale in LANGUAGES else "zh-CN"


def use_language(locale: str) -> Translate:
    """Speak `locale` from now on (Click's and Typer's words included); return the help's
    translation function. English is the message ids themselves."""
    language = LANGUAGES.get(locale, LANGUAGES["zh-CN"])
    # gettext picks the language from LANGUAGE first: the command's own setting decides,
    # not the shell's LANG.
    os.environ["LANGUAGE"] = language
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    rich_utils = sys.modules.get("typer.rich_utils")
    if rich_utils is not None:
        for attribute, message in _RICH_UTILS_WORDS.items():
            setattr(rich_utils, attribute, gettext.gettext(message))
    catalogue = gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[language], fallback=True)
    return catalogue.gettext


def translate_command(command: Command, translate: Translate) -> None:
    """Put `command`'s help in the language of `translate`: its help and short help, its
    options' and arguments' help, and so on down its sub-commands (a group not loaded yet
    is translated when it loads)."""
    if command.help:
        command.help = translate(command.help)
    if command.short_help:
        command.short_help = translate(command.short_help)
    for param in help_params(command):
        text = getattr(param, "help", None)
        if text:
            param.help = translate(text)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            translate_command(sub, translate)


def help_params(command: Command) -> Iterator[Any]:
    """A command's options and arguments, its --help option included. Click makes that one
    when first asked and keeps it (`get_help_option`), so the one translated here is the one
    the help page shows."""
    yield from command.params
    help_option = command.get_help_option(typer.Context(command))
    if help_option is not None:
        yield help_option


def translate_in_locale(command: Command) -> None:
    """Translate a freshly built command tree into SHEQUN_LOCALE."""
    locale = cli_locale()
    translate = use_language(locale)
    if locale != "en":
        translate_command(command, translate)
