"""Checking a workspace configuration document against `shequn.config.WorkspaceConfig`.

The stored document is what the operator applied; the effective configuration is that
document over the defaults. Unknown keys are errors, so typos never pass silently; every
error is reported by its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError

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
            ConfigError(".".join(str(p) for p in err["loc"]) or "(root)", err["msg"])
            for err in exc.errors(include_url=False)
        ]
        raise ConfigRejected(errors) from None
