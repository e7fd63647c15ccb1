"""HTTP routes of growth: acquisition sources 来源渠道 and live codes, campaigns and their
fission models, rewards and review, the referral graph; and the public pages `/l/{token}` and
`/p/…`."""

from __future__ import annotations

import base64
import html
import secrets
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine, select

from shequn.community.models import workspaces
from shequn.community.service import NotFound, access_workspace
from shequn.community.workspace import WorkspaceInfo
from shequn.growth import campaigns as campaign_ops
from shequn.growth import fission, livecode
from shequn.growth.qr import qr_png
from shequn.growth.ratelimit import WINDOW_SECONDS, Limiter, RateLimiter, RedisRateLimiter
from shequn.growth.referrals import referral_graph
from shequn.growth.rewards import do_mark_paid, do_reverse, do_review, list_rewards
from shequn.growth.schemas import (
    AcceptedOut,
    AssistOut,
    AssistStartIn,
    AttributionOut,
    AvatarIn,
    AvatarOut,
    CampaignOut,
    ClaimOut,
    CodeIn,
    CodeOut,
    CodeStatsOut,
    DrawOut,
    GiftIn,
    GroupBuyJoinIn,
    GroupBuyOut,
    GroupUrlIn,
    HelpIn,
    HelpOut,
    MemberIn,
    PaidIn,
    PaidOut,
    PoolGroupIn,
    PresetsOut,
    RankOut,
    ReferralsOut,
    ReverseIn,
    ReviewIn,
    ReviewOut,
    RewardOut,
    SandboxJoinIn,
    SandboxJoinOut,
    ScanOut,
    SourceIn,
    SourceOut,
    SourceStatsOut,
    WinnerOut,
)
from shequn.growth.texts import say
from shequn.platform.bus import RedisBus
from shequn.platform.db import transaction
from shequn.platform.errors import BadRequest
from shequn.platform.schemas import file_responses
from shequn.web.auth import Actor, EngineDep, Latest, Now, Workspace
from shequn.web.body import read_bounded
from shequn.web.paging import IdPath
from shequn.web.problems import (
    Problem,
    problem_response,
    problem_responses,
    workspace_router,
)

router = workspace_router("growth")
public = APIRouter(tags=["public"], responses=problem_responses(400, 404, 422, 429))

# This process's own count: the embedded default, and the fallback when Redis does not answer.
LIMITER = RateLimiter()
VISITOR_COOKIE = "sq_v"


def public_limiter(bus: RedisBus | None) -> Limiter:
    """The limiter of an app: shared through Redis when the app has a bus, else this process's."""
    if bus is None:
        return LIMITER
    return RedisRateLimiter(bus.client, bus.prefix, fallback=LIMITER)


def _limiter(request: Request) -> Limiter:
    limiter: Limiter = request.app.state.limiter
    return limiter


def _too_many(title: str, detail: str) -> Response:
    """429: the window is a minute, so asking again after one always gets a fresh count."""
    return problem_response(
        429, title, detail, headers={"Retry-After": str(WINDOW_SECONDS)}, retry_after=WINDOW_SECONDS
    )


def _at(given: datetime | None, now: datetime) -> datetime:
    """When a staff or sandbox operation happened: as the body says, else the request's now."""
    return (given or now).astimezone(UTC)


# --- Acquisition sources and live codes ---------------------------------------------------


@router.get(
    "/sources",
    summary="Acquisition sources 来源渠道 with their figures",
    response_model=list[SourceStatsOut],
)
def get_sources(workspace: Workspace, engine: EngineDep, now: Now) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return livecode.source_stats(conn, workspace, now=now)


@router.put(
    "/sources/{key}",
    summary="Create or update an acquisition source 来源渠道",
    response_model=SourceOut,
)
def put_source(key: str, body: SourceIn, workspace: Workspace, engine: EngineDep) -> dict[str, Any]:
    with transaction(engine) as conn:
        return livecode.do_upsert_source(conn, workspace, key, body.name, body.kind, body.cost_fen)


# The paths before acquisition sources were called sources: answered the same, for one
# release. Their handlers keep their names, so their operation ids (and the methods of a
# client generated from them) stay as they were.


def _deprecated(response: Response, workspace: Workspace, successor: str) -> None:
    response.headers["Deprecation"] = "true"
    response.headers["Link"] = (
        f'</api/v1/workspaces/{workspace.slug}/{quote(successor)}>; rel="successor-version"'
    )


@router.get(
    "/growth/channels",
    summary="Deprecated: use GET …/sources",
    response_model=list[SourceStatsOut],
    deprecated=True,
)
def get_channels(
    response: Response, workspace: Workspace, engine: EngineDep, now: Now
) -> list[dict[str, Any]]:
    _deprecated(response, workspace, "sources")
    return get_sources(workspace, engine, now)


@router.put(
    "/growth/channels/{key}",
    summary="Deprecated: use PUT …/sources/{key}",
    response_model=SourceOut,
    deprecated=True,
)
def put_channel(
    key: str, body: SourceIn, response: Response, workspace: Workspace, engine: EngineDep
) -> dict[str, Any]:
    _deprecated(response, workspace, f"sources/{key}")
    return put_source(key, body, workspace, engine)


@router.get(
    "/livecodes",
    summary="Live codes with their pools",
    response_model=list[CodeOut],
)
def get_codes(workspace: Workspace, engine: EngineDep) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return livecode.list_codes(conn, workspace)


@router.post(
    "/livecodes",
    status_code=201,
    summary="Create a live code",
    response_model=CodeOut,
)
def post_code(body: CodeIn, workspace: Workspace, engine: EngineDep, now: Now) -> dict[str, Any]:
    with transaction(engine) as conn:
        return livecode.do_create_code(
            conn,
            workspace,
            body.code,
            name=body.name,
            channel=body.channel,
            state=body.state,
            source=body.source,
            campaign=body.campaign,
            blueprint=body.blueprint,
            base_name=body.base_name,
            groups_=body.groups,
            admissions_cap=body.admissions_cap,
            group_capacity=body.group_capacity,
            at=now,
        )


@router.get(
    "/livecodes/stats",
    summary="Scans, unique scanners, joins and join rate per code",
    response_model=list[CodeStatsOut],
)
def get_code_stats(workspace: Workspace, engine: EngineDep) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return livecode.code_stats(conn, workspace)


@router.get(
    "/livecodes/{code}",
    summary="A live code and its pool",
    response_model=CodeOut,
)
def get_code(code: str, workspace: Workspace, engine: EngineDep) -> dict[str, Any]:
    with engine.connect() as conn:
        return livecode.access_code(conn, workspace, code)


@router.post(
    "/livecodes/{code}/groups",
    status_code=201,
    summary="Add a group to the pool",
    response_model=CodeOut,
)
def post_pool_group(
    code: str, body: PoolGroupIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        livecode.do_add_group(
            conn, workspace, code, body.group, name=body.name, join_url=body.join_url, at=now
        )
        return livecode.access_code(conn, workspace, code)


@router.put(
    "/livecodes/{code}/groups/{group}/url",
    summary="Set a pool group's join link",
    response_model=CodeOut,
)
def put_group_url(
    code: str, group: str, body: GroupUrlIn, workspace: Workspace, engine: EngineDep
) -> dict[str, Any]:
    with transaction(engine) as conn:
        livecode.do_set_group_url(conn, workspace, code, group, body.join_url)
        return livecode.access_code(conn, workspace, code)


@router.get(
    "/members/{member}/attribution",
    summary="A member's first touch",
    response_model=AttributionOut,
)
def get_attribution(
    member: str, workspace: Workspace, engine: EngineDep, channel: str = "sandbox"
) -> dict[str, Any]:
    from shequn.growth.attribution import member_attribution

    with engine.connect() as conn:
        return member_attribution(conn, workspace, channel, member).public()


@router.post(
    "/sandbox/livecode-joins",
    summary="On the sandbox, join the group a scan was sent to",
    response_model=SandboxJoinOut,
)
def post_sandbox_join(
    body: SandboxJoinIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        group = livecode.do_sandbox_join(
            conn, workspace, body.scan, body.member, body.nickname, _at(body.at, now)
        )
    return {"group": group, "member": body.member}


# --- Public live-code page ----------------------------------------------------------------

_WS_TTL = 5.0
_ws_cache: dict[int, tuple[float, WorkspaceInfo]] = {}
_token_cache: dict[str, tuple[int, str]] = {}
_cache_lock = threading.Lock()


def _resolve(engine: Engine, token: str) -> tuple[WorkspaceInfo, str]:
    """The workspace and code of a token; workspaces are cached for a few seconds."""
    with _cache_lock:
        known = _token_cache.get(token)
        cached = _ws_cache.get(known[0]) if known else None
    now = time.monotonic()
    if known is not None and cached is not None and cached[0] > now:
        return cached[1], known[1]
    with engine.connect() as conn:
        found = livecode.code_by_token(conn, token)
        if found is None:
            raise NotFound(say, "growth.no_such_code")
        slug = conn.execute(
            select(workspaces.c.slug).where(workspaces.c.id == found[0])
        ).scalar_one()
        ws = access_workspace(conn, slug)
    with _cache_lock:
        if len(_token_cache) > 10_000:
            _token_cache.clear()
        _token_cache[token] = found
        _ws_cache[found[0]] = (now + _WS_TTL, ws)
    return ws, found[1]


_PAGE_STYLE = (
    "body{font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;margin:0;"
    "padding:24px 16px;text-align:center;background:#f6f6f6;color:#222}"
    "main{max-width:420px;margin:0 auto;background:#fff;border-radius:12px;padding:24px 16px}"
    "h1{font-size:1.4em;margin:.2em 0 .6em}p{font-size:1.05em;line-height:1.6}"
    "img.qr{width:min(72vw,280px);height:auto;image-rendering:pixelated}"
    "a.join{display:inline-block;margin-top:12px;padding:12px 20px;border-radius:8px;"
    "background:#07c160;color:#fff;text-decoration:none}"
)


def _page(ws: WorkspaceInfo, answer: livecode.ScanAnswer) -> str:
    """The landing page a phone shows after a scan: the group's name and its QR to press
    and hold, a link to tap, or — when the group has no join link — who to ask."""
    locale = ws.locale
    title = html.escape(say("livecode.page_title", locale))
    if answer.status != "ok":
        body = f"<p>{html.escape(say('livecode.preparing', locale))}</p>"
    else:
        name = html.escape(answer.name or answer.group or "")
        body = f"<h1>{name}</h1>"
        if answer.join_url:
            hint = html.escape(say("livecode.page_hint", locale, name=answer.name or ""))
            png = base64.b64encode(qr_png(answer.join_url)).decode()
            url = html.escape(answer.join_url, quote=True)
            link = html.escape(say("livecode.open_link", locale))
            body += (
                f'<p>{hint}</p><p><img class="qr" alt="QR" src="data:image/png;base64,{png}">'
                f'</p><p><a class="join" href="{url}">{link}</a></p>'
            )
        else:
            body += f"<p>{html.escape(say('livecode.ask_staff', locale))}</p>"
    return (
        f'<!doctype html><html lang="{html.escape(locale)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
        f"<style>{_PAGE_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


@public.get(
    "/l/{token}",
    summary="Live code: answers the group to join",
    responses={
        200: {"model": ScanOut, "content": {"text/html": {"schema": {"type": "string"}}}},
        302: {"description": "With redirect=true: to the group's join link"},
    },
)
def scan_live_code(
    token: str,
    request: Request,
    now: Now,
    u: Annotated[
        str | None, Query(max_length=128, description="The channel's id of the scanner")
    ] = None,
    i: Annotated[str | None, Query(max_length=128, description="Inviter (personal codes)")] = None,
    format: Annotated[str | None, Query(description="json for a JSON answer")] = None,
    redirect: Annotated[bool, Query(description="Redirect to the group's link")] = False,
) -> Response:
    engine: Engine = request.app.state.engine
    ws, code = _resolve(engine, token)
    client = request.client.host if request.client else "unknown"
    limit = int(ws.config.growth.live_codes.rate_per_minute)
    if not _limiter(request).allow(f"{client}|{token}", limit, now):
        return _too_many("Too many scans", f"at most {limit} scans per minute")
    device = request.cookies.get(VISITOR_COOKIE) or secrets.token_urlsafe(12)
    with transaction(engine) as conn:
        answer = livecode.do_scan(
            conn, ws, code, at=now, scanner=u, inviter=i, address=client, device=device[:64]
        )
    response: Response
    wants_json = format == "json" or "application/json" in request.headers.get("accept", "")
    if redirect and answer.join_url:
        response = RedirectResponse(answer.join_url, status_code=302)
    elif wants_json:
        response = JSONResponse(answer.public())
    else:
        response = HTMLResponse(_page(ws, answer))
    if VISITOR_COOKIE not in request.cookies:
        response.set_cookie(
            VISITOR_COOKIE, device, max_age=365 * 86400, httponly=True, samesite="lax"
        )
    return response


# --- Campaigns ------------------------------------------------------------------------------


@router.get(
    "/campaigns",
    summary="Campaigns with their participant-cost warnings",
    response_model=list[CampaignOut],
    response_model_exclude_unset=True,
)
def get_campaigns(workspace: Workspace) -> list[dict[str, Any]]:
    return campaign_ops.list_campaigns(workspace)


@router.get(
    "/campaigns/presets",
    summary="Presets: red-packet, stored-value, coupon, crowdfunding",
    response_model=PresetsOut,
)
def get_presets() -> dict[str, Any]:
    return campaign_ops.PRESETS


@router.get(
    "/campaigns/{key}",
    summary="A campaign",
    response_model=CampaignOut,
    response_model_exclude_unset=True,
)
def get_campaign(key: str, workspace: Workspace) -> dict[str, Any]:
    return campaign_ops.describe(
        key, campaign_ops.access_campaign(workspace, key), workspace.locale
    )


@router.put(
    "/campaigns/{key}",
    summary="Create or replace a campaign (JSON or YAML body)",
    response_model=CampaignOut,
    response_model_exclude_unset=True,
)
async def put_campaign(
    key: str, request: Request, workspace: Workspace, engine: EngineDep
) -> dict[str, Any]:
    livecode.check_key(key, "campaign")
    body = await read_bounded(request, 256 * 1024)
    try:
        document = yaml.safe_load(body.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise Problem(400, "Malformed campaign", str(exc).replace("\n", " ")) from exc
    with transaction(engine) as conn:
        _, described = campaign_ops.do_put_campaign(conn, workspace, key, document)
    return described


@router.delete(
    "/campaigns/{key}", status_code=204, summary="Remove a campaign", response_class=Response
)
def delete_campaign(key: str, workspace: Workspace, engine: EngineDep) -> Response:
    with transaction(engine) as conn:
        campaign_ops.do_delete_campaign(conn, workspace, key)
    return Response(status_code=204)


@router.get(
    "/campaigns/{key}/referrals",
    summary="Referral tree, layers, K-factor, leaderboard",
    response_model=ReferralsOut,
)
def get_referrals(key: str, workspace: Workspace, engine: EngineDep) -> dict[str, Any]:
    with engine.connect() as conn:
        return referral_graph(conn, workspace, key)


@router.post(
    "/campaigns/{key}/assists",
    summary="Start a bargain, red-packet collection or vote entry",
    response_model=AssistOut,
)
def post_assist(
    key: str, body: AssistStartIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return fission.do_start_assist(
            conn, workspace, key, body.channel, body.member, _at(body.at, now), body.target_fen
        )


@router.post(
    "/campaigns/{key}/helps",
    summary="Help someone's bargain / red packet, or vote",
    response_model=HelpOut,
)
def post_help(
    key: str, body: HelpIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return fission.do_help(
            conn, workspace, key, body.channel, body.owner, body.helper, _at(body.at, now)
        )


@router.get(
    "/campaigns/{key}/ranking",
    summary="Vote ranking",
    response_model=list[RankOut],
)
def get_ranking(key: str, workspace: Workspace, engine: EngineDep) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return fission.vote_ranking(conn, workspace, key)


@router.post(
    "/campaigns/{key}/close",
    summary="Close a vote and award the prizes",
    response_model=list[WinnerOut],
)
def post_close(key: str, workspace: Workspace, engine: EngineDep, now: Now) -> list[dict[str, Any]]:
    with transaction(engine) as conn:
        return fission.do_close_vote(conn, workspace, key, now)


@router.post("/campaigns/{key}/gifts", summary="Give a card to someone")
def post_gift(
    key: str, body: GiftIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, int]:
    with transaction(engine) as conn:
        return fission.do_gift_card(
            conn,
            workspace,
            key,
            body.channel,
            body.giver,
            body.receiver,
            body.card,
            _at(body.at, now),
        )


@router.get("/campaigns/{key}/cards/{member}", summary="A member's cards")
def get_cards(
    key: str, member: str, workspace: Workspace, engine: EngineDep, channel: str = "sandbox"
) -> dict[str, int]:
    with engine.connect() as conn:
        return fission.holdings(conn, workspace.id, key, channel, member)


@router.post(
    "/campaigns/{key}/claims",
    summary="Buy in a flash sale or take a free gift",
    response_model=ClaimOut,
)
def post_claim(
    key: str, body: MemberIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return fission.do_claim(conn, workspace, key, body.channel, body.member, _at(body.at, now))


@router.post(
    "/campaigns/{key}/draws",
    summary="Use a lottery chance",
    response_model=DrawOut,
)
def post_draw(
    key: str, body: MemberIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return fission.do_draw(conn, workspace, key, body.channel, body.member, _at(body.at, now))


@router.post(
    "/campaigns/{key}/group-buys",
    summary="Open a group buy as its leader",
    response_model=GroupBuyOut,
)
def post_group_buy(
    key: str, body: MemberIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return fission.do_open_group_buy(
            conn, workspace, key, body.channel, body.member, _at(body.at, now)
        )


@router.post(
    "/campaigns/{key}/group-buys/join",
    summary="Join someone's group buy",
    response_model=GroupBuyOut,
)
def post_group_buy_join(
    key: str, body: GroupBuyJoinIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return fission.do_join_group_buy(
            conn, workspace, key, body.channel, body.leader, body.member, _at(body.at, now)
        )


# --- Rewards --------------------------------------------------------------------------------


@router.get(
    "/rewards",
    summary="The reward ledger",
    response_model=list[RewardOut],
)
def get_rewards(
    workspace: Workspace,
    engine: EngineDep,
    status: Annotated[
        str | None, Query(description="issued, review, rejected, reversed, paid")
    ] = None,
    campaign: str | None = None,
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return list_rewards(conn, workspace, status, campaign)


@router.post(
    "/rewards/{reward_id}/review",
    summary="Approve or reject a reward waiting for review",
    response_model=RewardOut,
)
def post_review(
    reward_id: IdPath,
    body: ReviewIn,
    workspace: Workspace,
    engine: EngineDep,
    now: Now,
    actor: Actor,
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return do_review(
            conn,
            workspace,
            reward_id,
            approve=body.approve,
            by=actor or body.by,
            at=now,
            note=body.note,
        )


@router.post(
    "/rewards/{reward_id}/reverse",
    summary="Reverse a reward: points taken back, coupon voided",
    response_model=RewardOut,
)
def post_reverse(
    reward_id: IdPath,
    body: ReverseIn,
    workspace: Workspace,
    engine: EngineDep,
    now: Now,
    actor: Actor,
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return do_reverse(conn, workspace, reward_id, by=actor or body.by, at=now, note=body.note)


@router.post(
    "/rewards/paid",
    summary="Record cash / red-packet rewards as paid out",
    response_model=PaidOut,
)
def post_paid(
    body: PaidIn, workspace: Workspace, engine: EngineDep, now: Now, actor: Actor
) -> dict[str, int]:
    with transaction(engine) as conn:
        return {"paid": do_mark_paid(conn, workspace, body.ids, by=actor or body.by, at=now)}


# --- Posters and the review -----------------------------------------------------------------


@public.get(
    "/p/{token}/{member}.png",
    summary="A participant's poster (PNG)",
    response_class=Response,
    responses=file_responses("image/png"),
)
def get_poster(token: str, member: str, request: Request, now: Now) -> Response:
    """Drawn on first request and cached; the first fetch records the poster as received."""
    from shequn.growth.avatars import avatar_store
    from shequn.growth.posters import CACHE, do_record_poster, poster_spec

    engine: Engine = request.app.state.engine
    ws, _ = _resolve(engine, token)
    client = request.client.host if request.client else "unknown"
    limit = int(ws.config.growth.live_codes.rate_per_minute)
    if not _limiter(request).allow(f"{client}|p|{token}", limit, now):
        return _too_many("Too many requests", f"at most {limit} posters per minute")
    if len(member) > 128:
        raise BadRequest(say, "growth.bad_member")
    with transaction(engine) as conn:
        campaign, spec, avatar_url = poster_spec(conn, ws, token, member)
        code = livecode.access_code(conn, ws, _code_of(conn, token))
        do_record_poster(conn, ws, campaign, code["channel"], member, now)
    # Fetched after commit: a slow avatar server never holds the workspace's transaction.
    settings = request.app.state.settings
    avatars = avatar_store(settings.cache_dir, settings.avatar_allow_private_hosts)
    png = CACHE.get(replace(spec, avatar=avatars.get(avatar_url)))
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=300"})


def _code_of(conn: Any, token: str) -> str:
    found = livecode.code_by_token(conn, token)
    if found is None:
        raise NotFound(say, "growth.no_such_code")
    return found[1]


@router.put(
    "/campaigns/{key}/participants/{member}/avatar",
    summary="The avatar a participant's poster draws (makes them a participant)",
    response_model=AvatarOut,
)
def put_avatar(
    key: str,
    member: str,
    body: AvatarIn,
    workspace: Workspace,
    engine: EngineDep,
    request: Request,
    now: Now,
) -> dict[str, Any]:
    from shequn.growth.posters import do_set_avatar

    allow = bool(request.app.state.settings.avatar_allow_private_hosts)
    with transaction(engine) as conn:
        return do_set_avatar(
            conn, workspace, key, body.channel, member, body.avatar_url, now, allow
        )


@router.post(
    "/campaigns/{key}/shares",
    summary="A participant shared their poster",
    response_model=AcceptedOut,
)
def post_share(
    key: str, body: MemberIn, workspace: Workspace, engine: EngineDep, now: Now, latest: Latest
) -> dict[str, Any]:
    from shequn.engine.service import do_ingest_items

    campaign_ops.access_campaign(workspace, key)
    at = _at(body.at, now)
    raw = {
        "id": f"share:{key}:{body.member}:{at.isoformat()}",
        "type": "poster.shared",
        "channel": body.channel,
        "member": body.member,
        "at": at.isoformat(),
        "data": {"campaign": key},
    }
    report = do_ingest_items(engine, workspace, [raw], latest=latest)
    return {"accepted": report.accepted}


@router.get(
    "/campaigns/{key}/review",
    summary="Campaign review: every figure",
    response_model=ReviewOut,
)
def get_review(key: str, workspace: Workspace, engine: EngineDep, now: Now) -> dict[str, Any]:
    from shequn.growth.review import review

    with engine.connect() as conn:
        return review(conn, workspace, key, now=now)


@router.get(
    "/campaigns/{key}/review.html",
    summary="Campaign review as a page with charts",
    response_class=HTMLResponse,
)
def get_review_html(key: str, workspace: Workspace, engine: EngineDep, now: Now) -> HTMLResponse:
    from shequn.growth.review import render_html, review

    with engine.connect() as conn:
        figures = review(conn, workspace, key, now=now)
    return HTMLResponse(render_html(figures, workspace.locale))
