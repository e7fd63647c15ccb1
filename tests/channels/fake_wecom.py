"""A local fake of WeCom's server API for the tests: the same paths, JSON and errcodes
(gettoken, externalcontact/groupchat/list and /get), over real HTTP on a free port.

It keeps customer groups as WeCom would, issues access tokens, and can be told to answer the
next calls of a path with an errcode (40001, 40014, 42001, 45009, -1 …) or an HTTP 5xx, or to
expire every token it issued (as WeCom may do early).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/cgi-bin/"


@dataclass
class Member:
    userid: str
    join_time: int
    type: int = 2
    join_scene: int = 3
    name: str = ""
    invitor: str | None = None
    state: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "userid": self.userid,
            "type": self.type,
            "join_time": self.join_time,
            "join_scene": self.join_scene,
            "group_nickname": "",
            "name": self.name,
        }
        if self.invitor:
            out["invitor"] = {"userid": self.invitor}
        if self.state:
            out["state"] = self.state
        return out


@dataclass
class Chat:
    chat_id: str
    name: str
    owner: str
    create_time: int
    notice: str = ""
    members: dict[str, Member] = field(default_factory=dict)
    admins: list[str] = field(default_factory=list)

    @property
    def member_version(self) -> str:
        state = "|".join(
            f"{m.userid}:{m.join_time}"
            for m in sorted(self.members.values(), key=lambda m: m.userid)
        )
        return hashlib.md5(state.encode()).hexdigest()  # WeCom's versions look so

    def as_json(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "name": self.name,
            "owner": self.owner,
            "create_time": self.create_time,
            "notice": self.notice,
            "member_list": [m.as_json() for m in self.members.values()],
            "admin_list": [{"userid": a} for a in self.admins],
            "member_version": self.member_version,
        }


class FakeWecom:
    def __init__(self, corp_id: str = "ww-fake-corp", secret: str = "app-secret") -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.chats: dict[str, Chat] = {}
        self.tokens: set[str] = set()
        self.issued = 0
        self.calls: list[str] = []
        self.failures: dict[str, deque[int]] = defaultdict(deque)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{PREFIX}"

    def start(self) -> FakeWecom:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what a test does to the world -----------------------------------------------------

    def fail_next(self, path: str, *codes: int) -> None:
        """Answer the next calls of `path` with these errcodes (an HTTP status when 500..599)."""
        self.failures[path].extend(codes)

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def count(self, path: str) -> int:
        return sum(1 for c in self.calls if c == path)

    # --- the protocol --------------------------------------------------------------------

    def _answer(self, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            self.calls.append(path)
            if self.failures[path]:
                code = self.failures[path].popleft()
                if 500 <= code < 600:
                    return code, {"error": "server"}
                return 200, {"errcode": code, "errmsg": f"fake error {code}"}
            if path == "gettoken":
                if query.get("corpid") != self.corp_id:
                    return 200, {"errcode": 40013, "errmsg": "invalid corpid"}
                if query.get("corpsecret") != self.secret:
                    return 200, {"errcode": 40001, "errmsg": "invalid credential"}
                self.issued += 1
                token = f"token-{self.issued}"
                self.tokens.add(token)
                return 200, {"errcode": 0, "errmsg": "ok", "access_token": token,
                             "expires_in": 7200}  # fmt: skip
            token = query.get("access_token")
            if not token:
                return 200, {"errcode": 41001, "errmsg": "access_token missing"}
            if token not in self.tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if path == "externalcontact/groupchat/list":
                return 200, self._list(body)
            if path == "externalcontact/groupchat/get":
                chat = self.chats.get(str(body.get("chat_id")))
                if chat is None:
                    return 200, {"errcode": 49008, "errmsg": "chat not exist"}
                return 200, {"errcode": 0, "errmsg": "ok", "group_chat": chat.as_json()}
            return 404, {"error": "no such path"}

    def _list(self, body: dict[str, Any]) -> dict[str, Any]:
        limit = int(body.get("limit", 0))
        if not 1 <= limit <= 1000:
            return {"errcode": 40058, "errmsg": "limit invalid"}
        ids = sorted(self.chats)
        start = int(body.get("cursor") or 0)
        page = ids[start : start + limit]
        nxt = start + limit
        return {
            "errcode": 0,
            "errmsg": "ok",
            "group_chat_list": [{"chat_id": c, "status": 0} for c in page],
            "next_cursor": str(nxt) if nxt < len(ids) else "",
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as WeCom's servers

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, body: dict[str, Any]) -> None:
                url = urlsplit(self.path)
                path = url.path.removeprefix(PREFIX)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, answer = fake._answer(path, query, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve({})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length) if length else b"{}"
                self._serve(json.loads(raw or b"{}"))

        return Handler
