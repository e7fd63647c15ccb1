"""A small typed client of WeCom's server API on httpx.

- The access token is cached per app in the database (sealed), so every process shares it;
  one process at a time fetches a new one (the connection's row is locked meanwhile).
- On 40001, 40014 or 42001 (bad or expired token, which WeCom may do early) the token is
  fetched again once and the call repeated.
- On -1 (busy), 45009 (call limit), 45033 (too many concurrent calls), a 5xx or a network
  failure, the call is repeated after a growing pause, then given up as temporary.
- Every other errcode is permanent: repeating the call cannot help.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from shequn.channels.base import PermanentError, TemporaryError
from shequn.channels.connections.keyring import Keyring
from shequn.channels.connections.service import cached_token, lock_connection, store_token
from shequn.channels.wecom.connection import CHANNEL, WecomApp
from shequn.platform.db import transaction

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
BUSY_ERRCODES = frozenset({-1, 45009, 45033})
TOKEN_MARGIN = timedelta(minutes=5)
"""A token is renewed this long before WeCom says it expires."""
BACKOFF_SECONDS = (1.0, 4.0, 15.0)
"""Pauses before the 2nd, 3rd and 4th attempt of a busy call; WeCom blocks a minute."""


def classify(errcode: int) -> str:
    """`ok`, `token` (fetch a new token, repeat once), `temporary` or `permanent`."""
    if errcode == 0:
        return "ok"
    if errcode in TOKEN_ERRCODES:
        return "token"
    if errcode in BUSY_ERRCODES:
        return "temporary"
    return "permanent"


class WecomError(PermanentError):
    """WeCom refused the call for good: its errcode and errmsg say why."""

    def __init__(self, path: str, errcode: int, errmsg: str) -> None:
        self.path = path
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"{path}: errcode {errcode}: {errmsg}")


class WecomBusy(TemporaryError):
    """WeCom is busy or unreachable; the call may succeed later."""

    def __init__(self, path: str, reason: str, errcode: int | None = None) -> None:
        self.path = path
        self.errcode = errcode
        super().__init__(f"{path}: {reason}")


class WecomClient:
    def __init__(
        self,
        engine: Engine,
        workspace_id: int,
        app: WecomApp,
        keys: Keyring,
        *,
        now: Callable[[], datetime],
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff: tuple[float, ...] = BACKOFF_SECONDS,
        timeout: float = 10.0,
    ) -> None:
        self.engine = engine
        self.workspace_id = workspace_id
        self.app = app
        self.keys = keys
        self.now = now
        self.sleep = sleep
        self.backoff = backoff
        self.http = httpx.Client(base_url=app.api_base, transport=transport, timeout=timeout)
        self.calls = 0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> WecomClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the token -----------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, int]:
        params = {"corpid": self.app.corp_id, "corpsecret": self.app.secret}
        try:
            answer = self._send("GET", "gettoken", params=params)
        except _TokenRejected as exc:  # from gettoken itself: the secret is wrong
            raise WecomError(exc.path, exc.errcode, exc.errmsg) from None
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise WecomError("gettoken", -2, "no access_token in the answer")
        return token, int(answer.get("expires_in", 7200))

    def token(self, *, renew: bool = False, stale: str | None = None) -> str:
        """The app's access token: the shared one while it is good, else a new one fetched
        by one process at a time (the others wait on the row lock, then reuse it)."""
        if not renew:
            with self.engine.connect() as conn:
                found = cached_token(conn, self.workspace_id, CHANNEL, self.keys, now=self.now())
            if found is not None:
                return found
        with transaction(self.engine) as conn:
            lock_connection(conn, self.workspace_id, CHANNEL)
            found = cached_token(conn, self.workspace_id, CHANNEL, self.keys, now=self.now())
            if found is not None and found != stale:
                return found  # another process renewed it meanwhile
            token, expires_in = self._fetch_token()
            expires_at = self.now() + timedelta(seconds=expires_in) - TOKEN_MARGIN
            store_token(conn, self.workspace_id, CHANNEL, self.keys, token, expires_at)
            return token

    # --- calls ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One request, repeated with pauses while WeCom is busy; errcode 0 or an error."""
        attempt = 0
        while True:
            self.calls += 1
            reason, errcode = self._attempt(method, path, params, json)
            if isinstance(reason, dict):
                return reason
            if attempt >= len(self.backoff):
                raise WecomBusy(path, reason, errcode)
            self.sleep(self.backoff[attempt])
            attempt += 1

    def _attempt(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json: dict[str, Any] | None,
    ) -> tuple[dict[str, Any] | str, int | None]:
        """The answer, or why it is worth another try (token errors are raised)."""
        try:
            response = self.http.request(method, path, params=params, json=json)
        except httpx.HTTPError as exc:
            return f"network: {type(exc).__name__}", None
        if response.status_code >= 500:
            return f"HTTP {response.status_code}", None
        if response.status_code != 200:
            raise WecomError(path, -response.status_code, f"HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            return "an answer that is not JSON", None
        if not isinstance(answer, dict):
            raise WecomError(path, -3, "an answer that is not a JSON object")
        errcode = int(answer.get("errcode", 0))
        kind = classify(errcode)
        if kind == "ok":
            return answer, None
        if kind == "temporary":
            return f"errcode {errcode}", errcode
        if kind == "token":
            raise _TokenRejected(path, errcode, str(answer.get("errmsg", "")))
        raise WecomError(path, errcode, str(answer.get("errmsg", "")))

    def call(self, method: str, path: str, json: dict[str, Any] | None = None) -> dict[str, Any]:
        """A call with the access token; a rejected token is renewed once and the call
        repeated."""
        token = self.token()
        try:
            return self._send(method, path, params={"access_token": token}, json=json)
        except _TokenRejected:
            token = self.token(renew=True, stale=token)
        try:
            return self._send(method, path, params={"access_token": token}, json=json)
        except _TokenRejected as exc:
            raise WecomError(exc.path, exc.errcode, exc.errmsg) from None

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", path, json=body)

    # --- customer groups -----------------------------------------------------------------

    def group_chat_ids(self, page_size: int = 1000) -> list[str]:
        """Every customer group's chat id (groupchat/list, all pages)."""
        ids: list[str] = []
        cursor = ""
        while True:
            body: dict[str, Any] = {"status_filter": 0, "limit": page_size}
            if cursor:
                body["cursor"] = cursor
            answer = self.post("externalcontact/groupchat/list", body)
            ids.extend(str(g["chat_id"]) for g in answer.get("group_chat_list", []))
            cursor = str(answer.get("next_cursor") or "")
            if not cursor:
                return ids

    def group_chat(self, chat_id: str) -> dict[str, Any]:
        """One group with its members, owner and admins (groupchat/get, with names)."""
        answer = self.post("externalcontact/groupchat/get", {"chat_id": chat_id, "need_name": 1})
        chat = answer.get("group_chat")
        if not isinstance(chat, dict):
            raise WecomError("externalcontact/groupchat/get", -3, "no group_chat in the answer")
        return chat


class _TokenRejected(Exception):
    def __init__(self, path: str, errcode: int, errmsg: str) -> None:
        self.path = path
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"{path}: errcode {errcode}")
