"""The command line speaks SHEQUN_LOCALE: zh-CN by default, English on request. Its help is
translated by the catalogue (src/shequn/locales/zh_CN/LC_MESSAGES/cli.po), which must hold
every help string of the whole command tree and nothing else."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from shequn import cli_catalogue
from shequn.cli_catalogue import library_messages, po_entries, problems, read_catalogue
from shequn.cli_language import _RICH_UTILS_WORDS
from tests.cli.helpers import in_process


def test_every_help_string_has_a_translation_and_every_entry_is_used() -> None:
    found = problems()
    assert not found.missing, (
        f"{len(found.missing)} help strings have no zh-CN translation. Add these entries to "
        f"{cli_catalogue.CATALOGUE.name} (or run `python -m shequn.cli_catalogue update`), "
        "translate them, then run `python -m shequn.cli_catalogue compile`:\n\n"
        + po_entries(found.missing)
    )
    assert not found.unused, (
        "entries no command uses any more (`python -m shequn.cli_catalogue update` drops "
        f"them): {found.unused}"
    )
    assert not found.mismatched, (
        f"translations that changed a {{placeholder}} or --option: {found.mismatched}"
    )


def test_the_compiled_catalogue_is_the_po() -> None:
    assert cli_catalogue.compiled_is_current(), (
        f"{cli_catalogue.COMPILED.name} differs from {cli_catalogue.CATALOGUE.name}: "
        "run `python -m shequn.cli_catalogue compile`"
    )


def test_the_typer_words_set_again_are_typers_own() -> None:
    """`use_language` sets `typer.rich_utils`' words again from their English: still Typer's."""
    assert set(_RICH_UTILS_WORDS.values()) <= set(library_messages())


def test_the_check_finds_a_new_string_and_an_unused_entry() -> None:
    """The check itself: a catalogue without one entry and with a stray one is told so."""
    catalogue = read_catalogue()
    catalogue.delete("List workspaces.")
    catalogue.add("A command that is gone.", "一个已删除的命令。")
    found = problems(catalogue)
    assert list(found.missing) == ["List workspaces."]
    assert found.missing["List workspaces."] == ["shequn workspace list"]
    assert found.unused == ["A command that is gone."]
    assert 'msgid "List workspaces."\nmsgstr ""' in po_entries(found.missing)


def test_update_adds_new_strings_keeps_a_reworded_ones_translation_fuzzy_and_drops_the_unused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    po = tmp_path / "cli.po"
    shutil.copy(cli_catalogue.CATALOGUE, po)
    text = po.read_text(encoding="utf-8")
    reworded = text.replace('msgid "List workspaces."', 'msgid "List the workspaces."')
    stray = '\nmsgid "A command that is gone."\nmsgstr "一个已删除的命令。"\n'
    po.write_text(reworded + stray, encoding="utf-8")
    monkeypatch.setattr(cli_catalogue, "CATALOGUE", po)
    monkeypatch.setattr(cli_catalogue, "COMPILED", tmp_path / "cli.mo")
    updated = cli_catalogue.update()
    assert updated["List workspaces."].fuzzy
    assert updated["List workspaces."].string == "列出工作区。"  # to review, not lost
    assert "List the workspaces." not in updated and "A command that is gone." not in updated
    assert list(problems(updated).missing) == ["List workspaces."]
    assert cli_catalogue.compiled_is_current()


def flat(text: str) -> str:
    """Help text without the layout: rich wraps lines and draws boxes."""
    return re.sub(r"[\s│╭╮╰╯─]", "", text)


# (the command, help strings of its page, one of them its description)
PAGES = [
    (
        (),
        ["Workspaces (one per brand).", "Members 客户: profiles, tags, segments, import, export."],
    ),
    (
        ("members",),
        [
            "Members 客户: profiles, tags, segments, import, export.",
            "Put a tag on a member (or take it off).",
        ],
    ),
    (
        ("members", "import"),
        [
            "Import members from CSV/XLSX. The whole file is checked first; a bad row stores "
            "nothing.",
            "Text encoding of a CSV (e.g. gbk).",
            "Workspace name (default: the only workspace, if there is just one).",
            "Show this message and exit.",
        ],
    ),
    (
        ("workspace", "create"),
        ["Create a workspace with the default configuration.", "Brand name shown to people."],
    ),
]


@pytest.mark.parametrize("locale", [None, "zh-CN", "en"], ids=["default", "zh-CN", "en"])
@pytest.mark.parametrize(
    ("command", "messages"), PAGES, ids=[" ".join(c) or "shequn" for c, _ in PAGES]
)
def test_help_is_in_the_chosen_language(
    command: tuple[str, ...], messages: list[str], locale: str | None, tmp_path: Path
) -> None:
    env = {} if locale is None else {"SHEQUN_LOCALE": locale}
    code, out, err = in_process(
        f"sqlite:///{tmp_path / 's.db'}", tmp_path, [*command, "--help"], env=env
    )
    assert code == 0 and err == "", err
    page = flat(out.decode())
    catalogue = read_catalogue()
    for message in messages:
        english, chinese = flat(message), flat(str(catalogue[message].string))
        if locale == "en":
            assert english in page and chinese not in page, message
        else:
            assert chinese in page and english not in page, message
    # Typer's own words follow (the panels' titles); Click's "Usage:" stays English.
    assert ("╭─ Options" in out.decode()) == (locale == "en")
    assert ("╭─ 选项" in out.decode()) == (locale != "en")


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_mistyped_command_is_told_in_the_chosen_language(locale: str, tmp_path: Path) -> None:
    code, _, err = in_process(
        f"sqlite:///{tmp_path / 's.db'}", tmp_path, ["membres"], env={"SHEQUN_LOCALE": locale}
    )
    assert code == 2
    if locale == "en":
        assert "No such command 'membres'" in err and "for help" in err
    else:
        assert "没有命令 'membres'" in err and "查看帮助" in err


def test_a_lazily_loaded_group_speaks_the_locale_too(tmp_path: Path) -> None:
    """The domains' groups load when used: their help is translated as they load."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    _, zh, _ = in_process(
        url, tmp_path, ["report", "funnel", "--help"], env={"SHEQUN_LOCALE": "zh-CN"}
    )
    _, en, _ = in_process(
        url, tmp_path, ["report", "funnel", "--help"], env={"SHEQUN_LOCALE": "en"}
    )
    assert "漏斗" in zh.decode() and "AARRR funnel" not in flat(zh.decode())
    assert "AARRRfunnel漏斗" in flat(en.decode())
