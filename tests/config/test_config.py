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
