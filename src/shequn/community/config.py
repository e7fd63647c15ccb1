"""Checking a workspace configuration document against `shequn.config.WorkspaceConfig`.

The stored document is what the operator applied; the effective configuration is that
document over the defaults. Unknown keys are errors, so typos never pass silently; every
error is reported by its path.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, ClassVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

from shequn.config import WorkspaceConfig
from shequn.i18n import t
from shequn.platform.errors import Invalid


@dataclass(frozen=True, slots=True)
class ConfigError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigRejected(Invalid):
    """The document has errors (each by path) and nothing was stored."""

    title: ClassVar[dict[str, str]] = {"zh-CN": "配置未通过校验", "en": "Configuration rejected"}

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        listed = "; ".join(str(e) for e in errors)
        super().__init__(t, "community.config_rejected", count=len(errors), errors=listed)

    def extra(self) -> dict[str, Any]:
        return {"errors": [{"path": e.path, "message": e.message} for e in self.errors]}


def check_config(document: Any) -> WorkspaceConfig:
    """Validate an operator's document; raise ConfigRejected listing every error by path."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigRejected([ConfigError("(root)", "expected a mapping of sections")])
    try:
        return WorkspaceConfig.model_validate(document)
    except ValidationError as exc:
        errors = [
            ConfigError(".".join(str(p) for p in err["loc"]) or "(root)", _message(err))
            for err in exc.errors(include_url=False)
        ]
        raise ConfigRejected(errors) from None


def _message(err: Any) -> str:
    """Pydantic's message, with the likely key when an unknown one looks like a typo."""
    if err["type"] != "extra_forbidden" or not err["loc"]:
        return str(err["msg"])
    *parent, key = err["loc"]
    known = _keys_at(tuple(parent))
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint}"


def _keys_at(path: tuple[Any, ...]) -> list[str]:
    """The keys the model allows at `path` of a configuration document (list positions and
    mapping keys step into the item type); none when the path leaves the models."""
    annotation: Any = WorkspaceConfig
    for step in path:
        annotation = _model_of(annotation, step)
        if annotation is None:
            return []
    model = _model_of(annotation, None)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_of(annotation: Any, step: Any) -> Any:
    """The type reached from `annotation` by one step of a path (None: the type itself)."""
    for arg in (annotation, *get_args(annotation)):  # Optional[X], Annotated[X, …], X | None
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            if step is None:
                return arg
            field = arg.model_fields.get(str(step))
            return None if field is None else field.annotation
        origin = get_origin(arg)
        if step is not None and origin in (list, tuple, dict):
            return get_args(arg)[-1]
    return None
