"""The API's contract: every route driven on a simulated workspace answers exactly what its
handler returned (the response model drops, renames and converts nothing), and the OpenAPI
documents a typed answer for every operation, resolvable and stable."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import fastapi.routing
import orjson
import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.analytics.schemas import ReportName
from shequn.analytics.service import REPORTS
from shequn.channels.wecom.crypto import WXBizMsgCrypt
from shequn.community.service import do_apply_config, do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.growth.api import LIMITER
from shequn.growth.schemas import ScanOut
from shequn.platform.db import transaction
from shequn.settings import Settings
from shequn.simulate.service import do_simulate
from shequn.web.app import create_app
from tests.channels.fake_wecom import FakeWecom
from tests.conftest import create_workspace
from tests.factories import NOW

START = datetime(2026, 10, 1, tzinfo=UTC)
PUBLIC = ("/l/", "/p/", "/shop/", "/healthz", "/metrics", "/api/v1/auth/")
AT = (START + timedelta(days=8)).isoformat()
WECOM_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"

CONFIG: dict[str, Any] = {
    "blueprints": {"审核群": {"threshold": {"kind": "approval", "deadline_hours": 12}}},
    "groups": {"overrides": {"g-held": {"blueprint": "审核群"}}},
    "coupons": {
        "templates": {
            "welcome-10": {
                "name": "进群立减10元",
                "amount_fen": 1000,
                "threshold_fen": 5000,
                "valid_days": 7,
            },
        },
    },
    "membership": {
        "plans": {
            "annual": {
                "name": "年度会员",
                "sku": "vip-annual",
                "fee_fen": 36_500,
                "period_days": 30,
                "groups": ["vip"],
            }
        }
    },
    "distribution": {"enabled": True, "auto_enrol": False},
    "growth": {"validity": {"review_score": 1}},
    "order_chain": {"prices": {"吐司": 1200, "蛋糕": 3000}},
    "campaigns": {
        "kan": {"model": "bargain", "name": "砍价", "price_fen": 5000, "target_fen": 100,
                "helpers": 2},
        "vote": {"model": "vote", "name": "投票", "staff_account": "staff-01",
                 "prizes": [{"up_to_rank": 1, "reward": {"kind": "cash", "amount_fen": 500}}]},
        "cards": {"model": "cards", "name": "集卡",
                  "cards": [{"name": "福", "weight": 1}, {"name": "禄", "weight": 1}],
                  "drops": {"checkin": 1, "share": 1}},
        "flash": {"model": "flash_sale", "name": "秒杀", "price_fen": 100, "original_fen": 2900,
                  "stock": 5},
        "pin": {"model": "group_buy", "name": "拼团", "size": 3, "price_fen": 9900,
                "time_limit_hours": 24},
        "invite": {"model": "invitation", "name": "邀请", "ladder": [
                       {"min_invites": 1, "per_invite_fen": 200}],
                   "lottery_chances_per_invite": 1,
                   "lottery": [{"weight": 1, "reward": {"kind": "points", "points": 50}}]},
    },
}  # fmt: skip


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def world(engine: Engine) -> WorkspaceInfo:
    ws = create_workspace(engine)
    do_simulate(engine, ws, groups=2, members=60, days=7, seed=5, start=START)
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, CONFIG)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as c:
        yield c


def same(typed: Any, untyped: Any, where: str = "") -> None:
    """Equal, and of the same JSON types all the way down (3 is not 3.0, no key lost or
    added); the order of an object's keys means nothing in JSON."""
    assert type(typed) is type(untyped), (where, typed, untyped)
    if isinstance(untyped, dict):
        assert set(typed) == set(untyped), (where, set(typed) ^ set(untyped))
        for key, value in untyped.items():
            same(typed[key], value, f"{where}.{key}")
    elif isinstance(untyped, list):
        assert len(typed) == len(untyped), where
        for i, (a, b) in enumerate(zip(typed, untyped, strict=True)):
            same(a, b, f"{where}[{i}]")
    else:
        assert typed == untyped, (where, typed, untyped)


def operations(app_openapi: dict[str, Any]) -> dict[tuple[str, str], re.Pattern[str]]:
    """Every operation (method, path) with a pattern matching its concrete URLs."""
    out = {}
    for path, item in app_openapi["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        for method in item:
            out[(method.upper(), path)] = pattern
    return out


def drive(client: TestClient, engine: Engine, ws: WorkspaceInfo, seen: list[Any]) -> set[str]:
    """Every route once at least, in an order that gives each something to show; each JSON
    answer equals what its handler returned, encoded without a model. Answers the operations
    that answered 2xx."""
    ops = operations(client.app.openapi())  # type: ignore[attr-defined]
    # Literal paths before templated ones (`/livecodes/stats` before `/livecodes/{code}`).
    ordered = sorted(ops.items(), key=lambda item: item[0][1].count("{"))
    answered: set[str] = set()
    with transaction(engine) as conn:
        auth = {"Authorization": f"Bearer {do_create_token(conn, ws.slug, now=NOW)}"}
    base = f"/api/v1/workspaces/{ws.slug}"

    def call(method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        public = kwargs.pop("public", False)
        url = path if public or path.startswith(PUBLIC) else base + path
        seen.clear()
        answer = client.request(
            method, url, headers={**auth, **kwargs.pop("headers", {})}, **kwargs
        )
        assert answer.status_code == expect, (method, path, answer.text)
        if answer.status_code < 300:
            route = next(p for (m, p), rx in ordered if m == method and rx.match(url))
            answered.add(f"{method} {route}")
        if "json" not in answer.headers.get("content-type", ""):
            return answer
        if path.startswith("/l/"):  # answers HTML, JSON or a redirect itself
            body = answer.json()
            same(ScanOut.model_validate(body).model_dump(mode="json"), body, path)
        elif answer.status_code < 300:
            assert seen, f"{method} {path} answered without its handler's value"
            same(answer.json(), seen[-1], f"{method} {path}")
        return answer.json()

    # The workspace, its configuration and its people.
    call("GET", "")
    call("GET", "/config")
    call("PUT", "/config", json=call("GET", "/config"))
    call("GET", "/blueprints")
    members = call("GET", "/members", params={"limit": 5})
    call("GET", "/groups")
    call("GET", "/memberships", params={"limit": 5})
    member = members[0]["member"]
    group = call("GET", "/groups")[0]["group"]

    # Events, the sandbox, actions and exports.
    held = [
        {"id": "c-1", "type": "group.created", "channel": "sandbox", "group": "g-held",
         "at": AT, "data": {"name": "审核群"}},
        {"id": "c-2", "type": "member.joined", "channel": "sandbox", "group": "g-held",
         "member": "newbie", "at": AT, "data": {"nickname": "新人", "scene": "qr"}},
        {"id": "c-3", "type": "message.posted", "channel": "sandbox", "group": group,
         "member": member, "at": AT,
         "data": {"message_id": "chain-1", "kind": "text", "text": "#接龙\n1. 老王 吐司x2"}},
        {"id": "c-4", "type": "message.posted", "channel": "sandbox", "group": group,
         "member": member, "at": AT,
         "data": {"message_id": "chain-2", "kind": "text", "text": "#接龙 周五\n1. 小李 蛋糕x1"}},
    ]  # fmt: skip
    call("POST", "/events", json=held)
    call("POST", "/groups/g-held/admissions", json={"member": "newbie"})
    call(
        "POST", "/sandbox/messages", json={"group": group, "member": member, "text": "加微信 vx123"}
    )
    call("GET", f"/sandbox/groups/{group}/messages", params={"limit": 5})
    call("GET", "/actions", params={"limit": 5})
    call("GET", "/exports/members", params={"format": "csv"})

    # Chat platforms: WeCom, against a local fake of its API; its callback URL.
    wecom = FakeWecom().start()
    try:
        app = {
            "corp_id": wecom.corp_id,
            "agent_id": 1000002,
            "token": "123456",
            "aes_key": WECOM_AES_KEY,
            "secret": wecom.secret,
            "api_base": wecom.base,
        }
        assert call("PUT", "/channels/wecom", json=app)["reachable"] is True
        call("GET", "/channels")
        crypt = WXBizMsgCrypt("123456", WECOM_AES_KEY, wecom.corp_id)
        echostr = crypt.encrypt(b"echo-1")
        verify = {
            "msg_signature": crypt.sign("1", "n", echostr),
            "timestamp": "1",
            "nonce": "n",
            "echostr": echostr,
        }
        hook = f"/channels/wecom/{ws.slug}/callback"
        assert call("GET", hook, params=verify, public=True).text == "echo-1"
        encrypted = crypt.encrypt(b"<xml><MsgType>event</MsgType><Event>x</Event></xml>")
        signed = {"msg_signature": crypt.sign("1", "n", encrypted), "timestamp": "1", "nonce": "n"}
        envelope = f"<xml><Encrypt>{encrypted}</Encrypt></xml>".encode()
        call("POST", hook, params=signed, content=envelope, public=True)
        call("POST", "/channels/wecom/sync")
        call("DELETE", "/channels/wecom", expect=204)
    finally:
        wecom.stop()

    # API tokens (the last one made is revoked: the driving token stays valid).
    made = call("POST", "/tokens", 201, json={"name": "脚本", "expires_at": "2027-01-01T00:00:00Z"})
    assert made["token"].startswith("sq_")
    newest = call("GET", "/tokens")[-1]
    call("DELETE", f"/tokens/{newest['id']}")

    # Console accounts: a person is given a role, signs in, is who they are, signs out.
    password = "烘焙-2026-secret"
    person = {"email": "li@example.com", "password": password, "role": "admin"}
    call("POST", "/users", 201, json=person)
    call("GET", "/users")
    LIMITER.reset()
    call("POST", "/api/v1/auth/login", json={"email": "li@example.com", "password": password})
    call("GET", "/api/v1/auth/me")
    call("POST", "/api/v1/auth/logout", 204)

    # Moderation.
    violations = call("GET", "/moderation/violations")
    if violations:
        call("POST", f"/moderation/violations/{violations[0]['id']}/revert", json={})
    call("POST", "/moderation/samples", json={"text": "代开发票"})
    call("POST", "/moderation/banlist", json={"member": "spammer", "reason": "广告"})
    call("GET", "/moderation/banlist")
    call("DELETE", "/moderation/banlist/sandbox/spammer")
    report = {"group": group, "message_id": "m-x", "author": member, "reporter": "u-r"}
    call("POST", "/moderation/reports", json=report)
    call("GET", "/moderation/words/ads")

    # Engagement.
    board = call("GET", "/engagement/leaderboard")
    rich = board[0]["member"]
    call("POST", "/engagement/points/spend",
         json={"member": rich, "amount": 1, "reason": "兑换", "key": "spend-1"})  # fmt: skip

    # CRM.
    crm = f"/crm/members/{member}"
    call("GET", crm)
    call("PATCH", crm, json={"name": "王", "gender": "female"})
    call("POST", f"{crm}/notes", expect=201, json={"text": "爱吃吐司", "at": AT})
    call("GET", f"{crm}/notes")
    call("POST", "/crm/tags", expect=201, json={"name": "吐司控", "group": "口味"})
    call("POST", f"{crm}/tags", json={"tag": "吐司控"})
    call("GET", f"{crm}/timeline", params={"limit": 10})
    call("DELETE", f"{crm}/tags/吐司控")
    call("GET", "/crm/tags")
    call("PUT", "/crm/fields", json={"key": "city", "label": "城市", "type": "choice",
                                     "choices": ["上海", "北京"]})  # fmt: skip
    call("GET", "/crm/fields")
    segment = {"filter": {"joined_within_days": 30}, "description": "新人"}
    call("POST", "/crm/segments/count", json=segment)
    call("PUT", "/crm/segments/new", json=segment)
    call("GET", "/crm/segments")
    call("GET", "/crm/segments/new/members", params={"limit": 3})
    call("DELETE", "/crm/segments/new", expect=204)
    csv = "member,name,phone\nimp-1,张三,13800000000\n".encode()
    call("POST", "/crm/import", params={"filename": "m.csv"}, content=csv)
    call("GET", "/crm/export", params={"format": "csv"})

    # Analytics.
    names = call("GET", "/reports")["reports"]
    period = {"since": "2026-10-01", "until": "2026-10-08"}
    for name in names:
        call("GET", f"/reports/{name}", params=period)
    call("GET", "/reports/funnel", params={**period, "format": "png"})
    call("GET", "/reports/funnel", params={**period, "format": "html"})

    # Growth: acquisition sources and live codes (and the sources' deprecated old paths).
    call("PUT", "/sources/ads", json={"name": "广告", "kind": "ads", "cost_fen": 10_000})
    call("GET", "/sources")
    call("PUT", "/growth/channels/kol", json={"name": "达人", "kind": "kol", "cost_fen": 5_000})
    call("GET", "/growth/channels")
    code = call("POST", "/livecodes", expect=201,
                json={"code": "spring", "source": "ads", "campaign": "kan",
                      "groups": ["lc-1"]})  # fmt: skip
    call("POST", "/livecodes/spring/groups", expect=201, json={"group": "lc-2", "name": "二群"})
    call("PUT", "/livecodes/spring/groups/lc-1/url", json={"join_url": "https://example.com/j"})
    call("GET", "/livecodes")
    call("GET", "/livecodes/spring")
    scan = call("GET", f"/l/{code['token']}", params={"format": "json", "u": "scanner-1"})
    call("GET", f"/l/{code['token']}", params={"u": "scanner-2"})
    call("GET", f"/l/{code['token']}", params={"redirect": True}, expect=302,
         follow_redirects=False)  # fmt: skip
    call("POST", "/sandbox/livecode-joins",
         json={"scan": scan["scan"], "member": "scanner-1", "nickname": "扫码人"})  # fmt: skip
    call("GET", "/livecodes/stats")
    call("GET", "/members/scanner-1/attribution")

    # Growth: campaigns.
    call("GET", "/campaigns")
    call("GET", "/campaigns/presets")
    call("GET", "/campaigns/kan")
    call("PUT", "/campaigns/extra", json={"model": "free_gift", "name": "免费领", "stock": 1})
    call("DELETE", "/campaigns/extra", expect=204)
    call("POST", "/campaigns/kan/assists", json={"member": "me", "at": AT})
    call("POST", "/campaigns/kan/helps", json={"owner": "me", "helper": "h1", "at": AT})
    call("POST", "/campaigns/kan/helps", json={"owner": "me", "helper": "h2", "at": AT})
    for entrant, voter in (("a", "v1"), ("b", "v2")):
        call("POST", "/campaigns/vote/assists", json={"member": entrant, "at": AT})
        call("POST", "/campaigns/vote/helps", json={"owner": entrant, "helper": voter, "at": AT})
    call("GET", "/campaigns/vote/ranking")
    call("POST", "/campaigns/vote/close")
    call("POST", "/campaigns/cards/shares", json={"member": member, "at": AT})
    cards = call("GET", f"/campaigns/cards/cards/{member}")
    card = next(iter(cards))
    call("POST", "/campaigns/cards/gifts",
         json={"giver": member, "receiver": "friend", "card": card, "at": AT})  # fmt: skip
    call("POST", "/campaigns/flash/claims", json={"member": member, "at": AT})
    call("POST", "/campaigns/pin/group-buys", json={"member": member, "at": AT})
    call("POST", "/campaigns/pin/group-buys/join",
         json={"leader": member, "member": "friend", "at": AT})  # fmt: skip
    lottery = [
        {"id": "lt-1", "type": "member.joined", "channel": "sandbox", "group": group,
         "member": "invitee", "at": AT,
         "data": {"nickname": "被邀请", "scene": "invite", "inviter": member}},
    ]  # fmt: skip
    call("POST", "/events", json=lottery)
    tick(engine, ws, START + timedelta(days=9, minutes=1))
    call("POST", "/campaigns/invite/draws", json={"member": member, "at": AT}, expect=409)
    call("GET", "/campaigns/invite/referrals")
    call("PUT", f"/campaigns/kan/participants/{member}/avatar", json={"avatar_url": None})
    call("GET", f"/p/{code['token']}/{member}.png")
    call("GET", "/campaigns/kan/review")
    call("GET", "/campaigns/kan/review.html")

    # Growth: rewards.
    rewards = call("GET", "/rewards")
    cash = [r["id"] for r in rewards if r["kind"] == "cash"]
    call("POST", "/rewards/paid", json={"ids": cash or [1]})
    for held_back in call("GET", "/rewards", params={"status": "review"})[:1]:
        call("POST", f"/rewards/{held_back['id']}/review", json={"approve": True})
    waiting = call("GET", "/rewards", params={"status": "issued"})
    call("POST", f"/rewards/{waiting[-1]['id']}/reverse", json={"note": "退款"})

    # Commerce.
    promoter = members[1]["member"]
    shop = call("PUT", "/shops/youzan", expect=201, json={"name": "有赞"})
    body = orjson.dumps(
        {"type": "order.paid", "order_id": "o-w1", "member": member, "amount_fen": 9900,
         "at": AT, "promoter": promoter}
    )  # fmt: skip
    call("PUT", f"/promoters/{promoter}", json={})
    call("POST", f"/shop/{ws.slug}/youzan/webhook", content=body,
         headers={"X-Shequn-Signature": _sign(shop["secret"], body)})  # fmt: skip
    orders_csv = (
        f"order_id,member,amount_fen,paid_at,promoter,refunded_fen\no-c1,{member},1200,{AT},,\n"
    )
    call("POST", "/orders/import", content=orders_csv.encode())
    call("GET", "/orders")
    entries = call("GET", "/chain-entries")
    call("POST", "/chain-entries/confirm", json={"ids": [entries[0]["order_id"]], "at": AT})
    call("POST", "/chain-entries/cancel", json={"ids": [entries[-1]["order_id"]]})
    call("GET", "/promoters")
    call("PUT", f"/promoters/{promoter}/tier", json={"tier": None})
    call("GET", "/commissions")
    call("POST", "/commissions/paid", json={})
    call("POST", f"/promoters/{promoter}/disable", json={})
    coupon = call("POST", "/coupons", expect=201, json={"template": "welcome-10", "member": member})
    call("GET", f"/coupons/{coupon['code']}")
    call("POST", f"/coupons/{coupon['code']}/redeem", json={"at": AT})
    call("GET", "/coupons/stats")
    call("GET", "/paid-memberships")

    # Operations.
    call("GET", "/healthz")
    call("GET", "/metrics")
    return answered


@pytest.fixture
def untyped(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What each handler returned, encoded as FastAPI would without a response model."""
    seen: list[Any] = []
    original = fastapi.routing.serialize_response

    async def recording(**kwargs: Any) -> Any:
        seen.append(jsonable_encoder(kwargs["response_content"]))
        return await original(**kwargs)

    monkeypatch.setattr(fastapi.routing, "serialize_response", recording)
    return seen


def test_every_route_answers_what_its_handler_returned(
    client: TestClient, engine: Engine, world: WorkspaceInfo, untyped: list[Any]
) -> None:
    answered = drive(client, engine, world, untyped)
    every = {f"{m} {p}" for m, p in operations(client.app.openapi())}  # type: ignore[attr-defined]
    # Not yet reached on this world (a lottery chance, a reward held for review): their
    # answers are checked by the growth tests over HTTP and by the OpenAPI tests below.
    unreached = {
        "POST /api/v1/workspaces/{ws}/campaigns/{key}/draws",
        "POST /api/v1/workspaces/{ws}/rewards/{reward_id}/review",
    }
    assert sorted(every - answered - unreached) == []
    assert get_args(ReportName) == REPORTS


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = spec["components"]["schemas"][name]
    return schema


def _typed(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A schema a client can type: not {}, not an object without properties (unless its
    values are typed), arrays and unions typed throughout."""
    schema = _resolve(spec, schema)
    if not schema:
        return False
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return all(_typed(spec, option) for option in schema[union])
    if schema.get("type") == "array":
        return _typed(spec, schema.get("items", {}))
    if schema.get("type") == "object":
        values = schema.get("additionalProperties")
        return bool(schema.get("properties")) or (isinstance(values, dict) and bool(values))
    return True


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    schema: dict[str, Any] = client.app.openapi()  # type: ignore[attr-defined]
    return schema


def test_every_operation_documents_a_typed_answer_and_problem_errors(
    spec: dict[str, Any],
) -> None:
    untyped, undocumented = [], []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            success = {s: r for s, r in op["responses"].items() if s.startswith("2")}
            assert success, where
            for status, response in success.items():
                content = response.get("content", {})
                if status == "204":
                    assert not content, where
                    continue
                assert content, where
                json = content.get("application/json")
                if json is not None and not _typed(spec, json.get("schema", {})):
                    untyped.append(where)
            errors = {s: r for s, r in op["responses"].items() if s.startswith("4")}
            if op["tags"] == ["ops"]:  # /healthz and /metrics take nothing to refuse
                assert not errors, where
                continue
            if not errors or any(
                set(r.get("content", {})) != {"application/problem+json"} for r in errors.values()
            ):
                undocumented.append(where)
    assert untyped == []
    assert undocumented == []
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


def test_file_and_page_answers_declare_their_media_types(spec: dict[str, Any]) -> None:
    def media(path: str, status: str = "200") -> set[str]:
        return set(spec["paths"][path]["get"]["responses"][status]["content"])

    ws = "/api/v1/workspaces/{ws}"
    assert media(f"{ws}/exports/{{kind}}") == {
        "application/x-ndjson",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    assert "text/csv" in media(f"{ws}/crm/export")
    assert media(f"{ws}/reports/{{name}}") == {"application/json", "image/png", "text/html"}
    assert media(f"{ws}/campaigns/{{key}}/review.html") == {"text/html"}
    assert media("/p/{token}/{member}.png") == {"image/png"}
    assert media("/l/{token}") == {"application/json", "text/html"}
    assert "302" in spec["paths"]["/l/{token}"]["get"]["responses"]
    assert media("/metrics") == {"text/plain"}
    assert media(f"{ws}/moderation/words/{{category}}") == {"text/plain"}


def test_the_openapi_is_valid_and_stable(
    spec: dict[str, Any], settings: Settings, engine: Engine
) -> None:
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+_[a-z0-9_]+", i) for i in ids), ids
    assert {"growth_get_campaigns", "events_post_events", "community_get_workspace"} <= set(ids)

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    schemas = spec["components"]["schemas"]
    for ref in refs(spec):
        assert ref.startswith("#/components/schemas/") and ref.split("/")[-1] in schemas, ref
    assert spec["openapi"].startswith("3.")
    # The same document from another app: a client generated twice is the same client.
    again = create_app(settings, engine).openapi()
    assert orjson.dumps(again, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        spec, option=orjson.OPT_SORT_KEYS
    )
