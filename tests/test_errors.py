"""The error model holds across the code: domain conditions raise typed domain errors with a
message in both languages, and bare ValueError / LookupError / KeyError are raised only where
a protocol needs them.

Allowed places for a bare `raise ValueError` (never LookupError or KeyError):
1. inside a pydantic validator (a function decorated with `field_validator`,
   `model_validator` or `validator`): pydantic turns a ValueError into a ValidationError;
2. inside the functions in PARSERS below: pure parsers whose caller turns the ValueError into
   a report (a pydantic validator, or a row-by-row importer collecting problems), and a few
   argument contracts that callers have already checked. Each names why.
Every DomainError raised must name a texts table and a code (no English-only string).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import shequn
from shequn.i18n import Texts
from shequn.platform import errors

SRC = Path(shequn.__file__).parent
BARE = {"ValueError", "LookupError", "KeyError"}
VALIDATORS = {"field_validator", "model_validator", "validator"}

PARSERS: dict[str, str] = {
    "config/community.py:check_scoped": "called by the GroupOverride and Blueprint validators",
    "config/engagement.py:_check_template": "called by template field validators",
    "engine/rules.py:register": "a rule or job handler registered twice is a programming error",
    "platform/clock.py:_aware": "a naive time given to a clock is a programming error",
    "crm/schemas.py:normalize_phone": "called by ProfileIn's validator and the importer",
    "crm/schemas.py:parse_enum": "called by ProfileIn / FieldIs validators and the importer",
    "crm/service.py:check_custom_value": "a cell parser: the importer reports it per row, "
    "check_custom turns it into Invalid",
    "events.py:_sane_instant": "an AfterValidator of Instant: pydantic reports it per field",
    "events.py:_not_a_number": "a BeforeValidator of request times: pydantic reports it",
    "events.py:_shallow": "an AfterValidator of order items: pydantic reports it per field",
    "events.py:empty_when_none": "the AfterValidator of an event's `data`: pydantic reports it",
    "crm/importer.py:check_table": "raised and caught in the same loop, reported per row",
    "commerce/orders.py:_fen": "a CSV cell parser: orders_from_csv reports it per line",
    "growth/avatars.py:check_avatar_url": "called by AvatarIn's validator; do_set_avatar "
    "turns it into Invalid",
    "growth/maths.py:split_plan": "a pure function's precondition, which the campaign "
    "validators check first (feasible)",
    "moderation/behaviour.py:__init__": "detector constructors' argument contracts, built "
    "from a validated configuration",
    "platform/db.py:process_bind_param": "a naive datetime is a programming error",
    "simulate/clock.py:__init__": "the simulator's argument contract (the CLI parses times)",
    "simulate/traffic.py:chat_traffic": "the simulator's argument contract (CLI bounds it)",
    "simulate/world.py:build_world": "the simulator's argument contract (CLI bounds it)",
}


def _raised_name(node: ast.Raise) -> str:
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return ast.unparse(exc) if exc is not None else ""


def _decorators(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for dec in fn.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        names.add(ast.unparse(target).rsplit(".", 1)[-1])
    return names


def _raises() -> list[tuple[str, int, str, list[ast.FunctionDef | ast.AsyncFunctionDef]]]:
    """(module, line, exception name, enclosing functions innermost last) of every raise."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = path.relative_to(SRC).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))

        pending: list[tuple[ast.AST, list[ast.FunctionDef | ast.AsyncFunctionDef]]] = [(tree, [])]
        while pending:
            node, stack = pending.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    pending.append((child, [*stack, child]))
                    continue
                if isinstance(child, ast.Raise):
                    found.append((module, child.lineno, _raised_name(child), stack))
                pending.append((child, stack))
    return found


def test_no_bare_value_lookup_or_key_error_for_a_domain_condition() -> None:
    offending = []
    used = set()
    for module, line, name, stack in _raises():
        if name not in BARE:
            continue
        if name == "ValueError" and any(_decorators(fn) & VALIDATORS for fn in stack):
            continue
        place = f"{module}:{stack[-1].name}" if stack else module
        if name == "ValueError" and place in PARSERS:
            used.add(place)
            continue
        offending.append(f"{module}:{line} raises {name} in {place}")
    assert offending == [], "raise a platform.errors DomainError instead:\n" + "\n".join(offending)
    assert set(PARSERS) == used, f"PARSERS names places that no longer raise: {set(PARSERS) - used}"


DOMAIN = {cls.__name__ for cls in errors.ERRORS} | {
    "DomainError",
    "ConfigRejected",
    "BatchRejected",
    "ImportRejected",
    "BadSignature",
    "PhoneExportRefused",
    "Refused",
}


def test_domain_errors_are_raised_with_a_texts_table_and_a_code() -> None:
    """`raise NotFound("…")` would be English only: the first two arguments are a texts
    table and the code (a string literal, so the codes can be listed and documented)."""
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        module = path.relative_to(SRC).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            call = node.exc
            name = ast.unparse(call.func).rsplit(".", 1)[-1]
            if name not in DOMAIN or name in ("ConfigRejected", "BatchRejected", "ImportRejected"):
                continue
            args = call.args
            if len(args) < 2 or not (
                isinstance(args[1], ast.Constant) and isinstance(args[1].value, str)
            ):
                bad.append(f"{module}:{node.lineno}: {ast.unparse(call)[:80]}")
    assert bad == []


def test_every_error_kind_has_a_status_and_titles_in_both_languages() -> None:
    statuses = {cls.__name__: cls.status for cls in errors.ERRORS}
    assert statuses == {
        "BadRequest": 400,
        "Unauthorized": 401,
        "Forbidden": 403,
        "NotFound": 404,
        "Conflict": 409,
        "Invalid": 422,
        "TooMany": 429,
    }
    for cls in errors.ERRORS:
        assert set(cls.title) == {"zh-CN", "en"}, cls


def test_a_message_is_rendered_in_both_languages_when_raised() -> None:
    texts = Texts({"demo.gone": {"zh-CN": "没有「{key}」", "en": "no {key!r}"}})
    exc = errors.NotFound(texts, "demo.gone", key="spring")
    assert (exc.code, exc.status, str(exc)) == ("demo.gone", 404, "no 'spring'")
    assert exc.message("zh-CN") == "没有「spring」" and exc.message("en") == "no 'spring'"
    assert exc.message("fr") == "没有「spring」"  # a language we do not speak: zh-CN
    many = errors.TooMany(texts, "demo.gone", retry_after=0, key="x")
    assert many.headers() == {"Retry-After": "1"} and many.extra() == {"retry_after": 1}
    with pytest.raises(KeyError):  # a code missing from the table fails where it is raised
        errors.Invalid(texts, "demo.nope")


def test_the_shim_keeps_the_old_names() -> None:
    from shequn.community import service

    assert service.NotFound is errors.NotFound and service.Conflict is errors.Conflict


def test_every_code_raised_is_documented() -> None:
    documented = (SRC.parents[1] / "docs" / "errors.md").read_text(encoding="utf-8")
    codes = set()
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = ast.unparse(node.exc.func).rsplit(".", 1)[-1]
                args = node.exc.args
                if name in DOMAIN and len(args) >= 2 and isinstance(args[1], ast.Constant):
                    codes.add(str(args[1].value))
    assert codes and sorted(c for c in codes if f"`{c}`" not in documented) == []
