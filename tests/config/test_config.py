"""The workspace configuration is one statically declared model, and behaves as it always did.

`data/` holds what the configuration code answered before it was declared statically (the
sections used to be assembled at run time from what each domain registered on import):
`shequn config show` for a new workspace and for `rich.yaml` (YAML and JSON), the view of
several groups of `rich.yaml` (blueprint and overrides merged in), and the errors, by path,
of documents that are refused. The tests compare today's answers with them.
"""

from __future__ import annotations

import ast
import importlib
import json
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from sqlalchemy import Engine
from typer.testing import CliRunner

import shequn
import shequn.config
from shequn.community.config import ConfigRejected, check_config
from shequn.community.service import check_config_document, do_apply_config, do_create_workspace
from shequn.community.workspace import WorkspaceInfo
from shequn.config import GROUP_SCOPED, Section, WorkspaceConfig
from shequn.config.growth import CampaignBase
from shequn.engine.rules import Context, load_rule_modules
from shequn.exports import load_export_modules
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW

DATA = Path(__file__).parent / "data"
SRC = Path(shequn.__file__).parent
CONFIG_PACKAGE = SRC / "config"


def rich_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DATA / "rich.yaml").read_text("utf-8"))
    return document


# --- Behaviour kept -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_config_show_prints_what_it_printed_before(
    cli_settings: Settings, engine: Engine, fmt: str
) -> None:
    from shequn.cli import app

    slug = f"cfg-{uuid.uuid4().hex[:12]}"
    with transaction(engine) as conn:
        base = do_create_workspace(conn, f"{slug}-base", now=NOW)
        rich = do_create_workspace(conn, f"{slug}-rich", now=NOW)
        do_apply_config(conn, rich.slug, rich_document(), check_references=True)
    flags = ["--json"] if fmt == "json" else []
    for ws, name in ((base, "default"), (rich, "rich")):
        result = CliRunner().invoke(app, ["config", "show", "-w", ws.slug, *flags])
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == (DATA / f"show-{name}.{fmt}").read_bytes(), name


def group_views() -> Iterator[tuple[str, dict[str, Any]]]:
    for line in (DATA / "group-views.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        yield row["view"], row["config"]


@pytest.mark.parametrize(("view", "expected"), list(group_views()))
def test_blueprints_and_overrides_merge_as_before(view: str, expected: dict[str, Any]) -> None:
    document = rich_document()
    ws = WorkspaceInfo(1, "rich", check_config_document(document), 2, document)
    group, blueprint = view.split("|")
    seen = ws.group_config(group, None if blueprint == "None" else blueprint)
    assert isinstance(seen, WorkspaceConfig)
    # The recorded views came from a process whose import order put `analytics` last:
    # compare the content; the order of the sections is the declared one.
    assert seen.model_dump(mode="json") == expected
    assert list(seen.model_dump()) == list(WorkspaceConfig.model_fields)


def rejections() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads((DATA / "rejections.json").read_text("utf-8"))
    return found


@pytest.mark.parametrize("case", rejections(), ids=lambda case: json.dumps(case["document"])[:60])
def test_documents_are_refused_with_the_same_errors_by_path(case: dict[str, Any]) -> None:
    if case.get("accepted"):
        assert isinstance(check_config_document(case["document"]), WorkspaceConfig)
        return
    with pytest.raises(ConfigRejected) as info:
        check_config_document(case["document"])
    assert [[e.path, e.message] for e in info.value.errors] == case["errors"]


def test_the_cross_section_check_still_names_the_coupon_template(engine: Engine) -> None:
    """growth's apply-time check reads `coupons.templates` of the typed configuration."""
    document = rich_document()
    task = document["campaigns"]["spring-invite"]["task"]
    task["reward"]["coupon"] = "gone"
    with transaction(engine) as conn:
        ws = do_create_workspace(conn, f"cfg-{uuid.uuid4().hex[:12]}", now=NOW)
        with pytest.raises(ConfigRejected) as info:
            do_apply_config(conn, ws.slug, document, check_references=True)
    assert [str(e) for e in info.value.errors] == [
        "campaigns.spring-invite.task.reward.coupon: unknown coupon template 'gone'"
    ]


# --- Declared once, statically ------------------------------------------------------------------


def test_no_configuration_is_assembled_at_run_time() -> None:
    """No `create_model` or section registry builds the configuration: the schema is what
    `WorkspaceConfig` declares (`events.py` builds its event classes, not configuration)."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Name | ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
            elif isinstance(node, ast.alias):
                name = node.name.rsplit(".", 1)[-1]
            if name == "create_model" and path != SRC / "events.py":
                offenders.append(f"{path.relative_to(SRC)}: create_model")
            if name in ("register_section", "config_model"):
                offenders.append(f"{path.relative_to(SRC)}: {name}")
    assert offenders == []


def test_the_sections_are_the_declared_fields_whatever_is_imported() -> None:
    declared = list(WorkspaceConfig.__annotations__)
    load_rule_modules()
    load_export_modules()
    importlib.import_module("shequn.cli")
    importlib.import_module("shequn.web.app")
    assert list(WorkspaceConfig.model_fields) == declared
    assert GROUP_SCOPED.issubset(declared)
    hints = typing.get_type_hints(WorkspaceInfo)
    assert hints["config"] is WorkspaceConfig
    assert typing.get_type_hints(Context.settings)["return"] is WorkspaceConfig
    assert isinstance(check_config({}), WorkspaceConfig)


def config_models() -> dict[str, type[BaseModel]]:
    """Every pydantic model declared in the `shequn.config` package, by qualified name."""
    found: dict[str, type[BaseModel]] = {}
    for path in sorted(CONFIG_PACKAGE.glob("*.py")):
        module = importlib.import_module(f"shequn.config.{path.stem}".removesuffix(".__init__"))
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__.startswith("shequn.config")
                and value.__name__ == name
                and value.__pydantic_generic_metadata__["origin"] is None  # not RootModel[…]
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def reachable(model: type[BaseModel]) -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in seen:
                seen.add(annotation)
                for field in annotation.model_fields.values():
                    walk(field.annotation)
            return
        for arg in typing.get_args(annotation):
            walk(arg)

    walk(model)
    return seen


def test_every_section_model_is_reachable_from_workspace_config() -> None:
    models = config_models()
    assert len(models) > 60  # the whole configuration, not an empty package
    within = reachable(WorkspaceConfig)
    # A base class (`Section`, `CampaignBase`) is covered by the models built on it.
    unused = [
        name
        for name, model in models.items()
        if not any(issubclass(used, model) for used in within)
    ]
    assert unused == []


def test_the_json_schema_covers_every_section() -> None:
    schema = WorkspaceConfig.model_json_schema()
    assert schema["title"] == "WorkspaceConfig"
    assert schema["additionalProperties"] is False  # unknown sections are refused
    assert list(schema["properties"]) == list(WorkspaceConfig.model_fields)
    defs = schema["$defs"]
    for name, field in WorkspaceConfig.model_fields.items():
        prop = schema["properties"][name]
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            ref = prop["$ref"].removeprefix("#/$defs/")
            assert defs[ref]["title"] == field.annotation.__name__, name
        else:  # blueprints: a mapping of names to blueprints
            assert prop["additionalProperties"]["$ref"] == "#/$defs/Blueprint", name
    titles = {d.get("title") for d in defs.values()}
    missing = [
        name
        for name, model in config_models().items()
        if model not in (WorkspaceConfig, Section, CampaignBase) and model.__name__ not in titles
    ]
    assert missing == []


def test_the_configuration_package_reads_no_layer_above_it() -> None:
    """`shequn.config` sits just above the plumbing: every layer may import it, so it imports
    no domain, no engine and no community code (only its own modules and the template
    parser of `shequn.i18n`)."""
    allowed = ("shequn.config", "shequn.i18n")
    imports = []
    for path in sorted(CONFIG_PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imports.append((path.name, node.module))
            elif isinstance(node, ast.Import):
                imports += [(path.name, alias.name) for alias in node.names]
    outside = [
        (file, module)
        for file, module in imports
        if module.split(".")[0] == "shequn" and not module.startswith(allowed)
    ]
    assert outside == []


# --- Renamed keys -------------------------------------------------------------------------------


def with_old_key(document: dict[str, Any]) -> dict[str, Any]:
    """`document` as written before acquisition sources were `analytics.sources`."""
    analytics = {("channels" if k == "sources" else k): v for k, v in document["analytics"].items()}
    return {**document, "analytics": analytics}


def test_a_document_that_still_says_channels_reads_and_shows_as_sources(
    cli_settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """For one release `analytics.channels` is read as `analytics.sources`: the same
    configuration, stored under the new key when applied, shown under it, and the operator is
    told once, on stderr."""
    from shequn.cli import app
    from shequn.community.service import access_workspace, stored_config

    new, old = rich_document(), with_old_key(rich_document())
    assert "channels" in old["analytics"] and "sources" not in old["analytics"]
    assert check_config(old) == check_config(new)
    assert with_old_key(new) == old  # the caller's document is left as it was

    slug = f"cfg-{uuid.uuid4().hex[:12]}"
    with transaction(engine) as conn:
        do_create_workspace(conn, slug, now=NOW)
    file = tmp_path / "old.yaml"
    file.write_text(yaml.safe_dump(old, allow_unicode=True), "utf-8")
    applied = CliRunner().invoke(app, ["config", "apply", str(file), "-w", slug])
    assert applied.exit_code == 0, applied.output
    assert applied.stderr.splitlines() == [
        "提示：配置项 analytics.channels 已更名为 analytics.sources，已按新名称保存；"
        "旧名称将在下一版本停用"
    ]
    with engine.connect() as conn:
        stored = stored_config(conn, slug)
        ws = access_workspace(conn, slug)
    assert "channels" not in stored["analytics"]
    assert [s["name"] for s in stored["analytics"]["sources"]] == ["门店", "store", "信息流广告"]
    assert ws.config == check_config(stored) == check_config(new)
    shown = CliRunner().invoke(app, ["config", "show", "-w", slug])
    assert "\n  sources:\n" in shown.stdout and "channels" not in shown.stdout

    # The same configuration written with the new key: shown the same, and nothing said.
    with transaction(engine) as conn:
        do_create_workspace(conn, f"{slug}-new", now=NOW)
    file.write_text(yaml.safe_dump(new, allow_unicode=True), "utf-8")
    quiet = CliRunner().invoke(app, ["config", "apply", str(file), "-w", f"{slug}-new"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    shown_new = CliRunner().invoke(app, ["config", "show", "-w", f"{slug}-new"])
    assert shown_new.stdout_bytes == shown.stdout_bytes


def test_a_stored_document_that_still_says_channels_loads_and_is_edited_as_sources(
    engine: Engine,
) -> None:
    """A document stored before the migration renamed the key (or by an older process)."""
    from sqlalchemy import update

    from shequn.community.models import workspaces
    from shequn.community.service import access_workspace, stored_config
    from shequn.growth.livecode import do_upsert_source

    old = with_old_key(rich_document())
    with transaction(engine) as conn:
        ws = do_create_workspace(conn, f"cfg-{uuid.uuid4().hex[:12]}", now=NOW)
        conn.execute(update(workspaces).where(workspaces.c.id == ws.id).values(config=old))
        loaded = access_workspace(conn, ws.slug)
        assert loaded.config == check_config(rich_document())
        assert "sources" in loaded.document["analytics"]
        assert "channels" not in loaded.document["analytics"]
        do_upsert_source(conn, loaded, "kol-7", "KOL 小七", "kol", cost_fen=20_000)
        stored = stored_config(conn, ws.slug)
    assert "channels" not in stored["analytics"]
    names = [s["name"] for s in stored["analytics"]["sources"]]
    assert names == ["门店", "store", "信息流广告", "kol-7"]  # the old entries are kept


def test_a_document_with_both_names_is_refused() -> None:
    document = rich_document()
    document["analytics"]["channels"] = document["analytics"]["sources"]
    with pytest.raises(ConfigRejected) as info:
        check_config_document(document)
    assert [e.path for e in info.value.errors] == ["analytics"]
    assert "`channels` is the old name of `sources`" in info.value.errors[0].message
