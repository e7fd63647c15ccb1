"""`shequn moderation …`: revert decisions, mark spam, keep the ban list, manage word lists."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from sqlalchemy import Connection

from shequn.cli_support import UserError, WorkspaceOpt, in_workspace, now
from shequn.community.workspace import WorkspaceInfo

moderation_app = typer.Typer(
    help="Moderation 群风控: violations, ban list, spam samples, word lists.",
    no_args_is_help=True,
)


def _print(value: object) -> None:
    sys.stdout.write(orjson.dumps(value).decode() + "\n")


@moderation_app.command("revert")
def revert(
    violation: Annotated[str, typer.Argument(help="Violation id (shequn export violations).")],
    workspace: WorkspaceOpt = None,
    by: Annotated[str, typer.Option(help="Who reverts.")] = "staff",
) -> None:
    """Revert a false positive: restore the member, refund points, learn a clean sample."""
    from shequn.moderation.service import do_revert_violation

    _print(
        in_workspace(
            workspace,
            lambda conn, ws: do_revert_violation(conn, ws, violation, by, now=now()),
            write=True,
        )
    )


@moderation_app.command("spam")
def mark_spam(
    text: Annotated[str, typer.Argument(help="The message text.")],
    workspace: WorkspaceOpt = None,
    clean: Annotated[bool, typer.Option(help="Mark as clean instead.")] = False,
) -> None:
    """Mark a message as spam: similar messages are caught from now on."""
    from shequn.moderation.service import do_add_sample

    label = "clean" if clean else "spam"
    sample = in_workspace(
        workspace,
        lambda conn, ws: do_add_sample(conn, ws, text, label, by="cli", now=now()),
        write=True,
    )
    _print({"id": sample, "label": label})


@moderation_app.command("ban")
def ban(
    member: Annotated[str, typer.Argument(help="The member's channel id.")],
    reason: Annotated[str, typer.Option(help="Why: shown to staff.")],
    workspace: WorkspaceOpt = None,
    channel: Annotated[str, typer.Option(help="The member's chat platform.")] = "sandbox",
) -> None:
    """Ban a member from every group of the workspace."""
    from shequn.moderation.service import do_ban

    in_workspace(
        workspace,
        lambda conn, ws: do_ban(conn, ws, channel, member, reason, "cli", now=now()),
        write=True,
    )
    _print({"banned": member})


@moderation_app.command("unban")
def unban(
    member: Annotated[str, typer.Argument(help="The member's channel id.")],
    workspace: WorkspaceOpt = None,
    channel: Annotated[str, typer.Option(help="The member's chat platform.")] = "sandbox",
) -> None:
    """Lift a ban."""
    from shequn.moderation.service import do_lift_ban

    in_workspace(
        workspace, lambda conn, ws: do_lift_ban(conn, ws, channel, member, now=now()), write=True
    )
    _print({"lifted": member})


samples_app = typer.Typer(
    help="Labelled samples the classifier and the similarity check learn from.",
    no_args_is_help=True,
)
moderation_app.add_typer(samples_app, name="samples")


@samples_app.command("import")
def samples_import(
    file: Annotated[
        Path, typer.Argument(help="Plain text, one message a line, or TSV: label<TAB>text.")
    ],
    label: Annotated[
        str | None,
        typer.Option(help="spam or clean: the label of every line (a TSV's own labels else)."),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Import a workspace's labelled history: the classifier is retrained with it before the
    next message is judged. Lines already imported with the same label are skipped."""
    from shequn.moderation.service import do_import_samples

    def load(conn: Connection, ws: WorkspaceInfo) -> dict[str, int]:
        samples = read_samples(file, label)
        source = f"import:{file.name}"
        return do_import_samples(conn, ws, samples, source=source, by="cli", now=now())

    _print({**in_workspace(workspace, load, write=True), "file": file.name})


def read_samples(file: Path, label: str | None) -> list[tuple[str, str]]:
    """(label, text) pairs of a sample file; one-line errors for what cannot be read."""
    from shequn.moderation.quality import LabelError, parse_labelled

    if label is not None and label not in ("spam", "clean"):
        raise UserError(f"--label must be spam or clean, not {label!r}")
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{file}: {exc}") from exc
    if label is not None:
        # Plain text; a TSV's label column is dropped, the option wins.
        texts = [_without_label(line) for line in lines]
        return [(label, text) for text in texts if text.strip()]
    try:
        rows = parse_labelled(lines)
    except LabelError as exc:
        raise UserError(f"{file}: {exc} (or give --label spam|clean)") from exc
    return [("spam" if row.spam else "clean", row.text) for row in rows]


def _without_label(line: str) -> str:
    first, tab, rest = line.partition("\t")
    known = {"1", "0", "spam", "clean", "ad", "ads", "ham"}
    return rest if tab and first.strip().lower() in known else line


words_app = typer.Typer(help="Word lists as plain text, one word per line.", no_args_is_help=True)
moderation_app.add_typer(words_app, name="words")


@words_app.command("export")
def words_export(
    category: Annotated[str, typer.Argument(help="ads, gambling, porn, politics, abuse …")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Print a category's words (built-in and the workspace's own)."""
    from shequn.moderation.service import export_words

    sys.stdout.write(in_workspace(workspace, lambda conn, ws: export_words(ws, category)))


@words_app.command("import")
def words_import(
    category: Annotated[str, typer.Argument(help="ads, gambling, porn, politics, abuse …")],
    file: Annotated[Path, typer.Argument(help="Text file: one word per line, # comments.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Add words to a category of the workspace's lists."""
    from shequn.moderation.service import do_import_words

    def load(conn: Connection, ws: WorkspaceInfo) -> int:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{file}: {exc}") from exc
        return do_import_words(conn, ws, category, text)

    _print({"added": in_workspace(workspace, load, write=True), "category": category})
