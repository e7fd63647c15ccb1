"""Domain errors: each carries its HTTP status, a stable machine code and its message in
zh-CN and English, so every boundary (HTTP, CLI) answers it the same way and none is a 500.

A service raises `NotFound(say, "growth.no_campaign", key=key)`: `say` is the domain's
texts table (`shequn.i18n.Texts`), the key is both the text and the error's `code`. The
message is rendered in both languages when raised (a missing key or value fails at the raise,
in the tests, not at the boundary); `str(exc)` is the English one, for logs and developers.
"""

from __future__ import annotations

from typing import Any, ClassVar

from shequn.i18n import Texts

LOCALES = ("zh-CN", "en")


def pick(texts: dict[str, str], locale: str) -> str:
    return texts.get(locale, texts["zh-CN"])


class DomainError(Exception):
    """A request the domain refuses; never a bug. Subclasses set the status and title."""

    status: ClassVar[int] = 400
    title: ClassVar[dict[str, str]] = {"zh-CN": "请求有误", "en": "Bad request"}

    def __init__(self, texts: Texts, code: str, /, **values: Any) -> None:
        self.code = code
        self.values = values
        self.messages = {loc: texts.raw(code, loc).format(**values) for loc in LOCALES}
        super().__init__(self.messages["en"])

    def message(self, locale: str) -> str:
        """The detail in `locale` (zh-CN for a language we do not speak)."""
        return pick(self.messages, locale)

    def title_in(self, locale: str) -> str:
        return pick(self.title, locale)

    def extra(self) -> dict[str, Any]:
        """More members of the problem document (e.g. the list of errors)."""
        return {}

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(DomainError):
    """An option the request names that does not exist (an export format, a date range)."""


class Unauthorized(DomainError):
    status = 401
    title: ClassVar[dict[str, str]] = {"zh-CN": "未通过验证", "en": "Unauthorized"}


class Forbidden(DomainError):
    status = 403
    title: ClassVar[dict[str, str]] = {"zh-CN": "不允许", "en": "Forbidden"}


class NotFound(DomainError):
    status = 404
    title: ClassVar[dict[str, str]] = {"zh-CN": "未找到", "en": "Not found"}


class Conflict(DomainError):
    """The request is sound but the state does not allow it (already done, not enough …)."""

    status = 409
    title: ClassVar[dict[str, str]] = {"zh-CN": "与当前状态冲突", "en": "Conflict"}


class Invalid(DomainError):
    """Bad input that passed the schema: a value the domain's rules refuse."""

    status = 422
    title: ClassVar[dict[str, str]] = {"zh-CN": "输入有误", "en": "Invalid input"}


class TooMany(DomainError):
    """Too many requests for now; `retry_after` seconds until one is accepted again."""

    status = 429
    title: ClassVar[dict[str, str]] = {"zh-CN": "请求过于频繁", "en": "Too many requests"}

    def __init__(self, texts: Texts, code: str, /, *, retry_after: int, **values: Any) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(texts, code, retry_after=self.retry_after, **values)

    def extra(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


ERRORS: tuple[type[DomainError], ...] = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Invalid,
    TooMany,
)
"""The kinds of domain error and their statuses, as the API documents them."""
