"""HTTP routes of the CRM: profiles, custom fields, notes, tags, segments, import and export."""

from __future__ import annotations

import io
from pathlib import PurePath
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shequn.crm import service
from shequn.crm.importer import do_import_members, read_csv, read_xlsx
from shequn.crm.schemas import (
    CountOut,
    CustomFieldIn,
    CustomFieldOut,
    ImportOut,
    MemberTagIn,
    MemberTagOut,
    MemberUntagOut,
    NoteIn,
    NoteOut,
    ProfileIn,
    ProfileOut,
    SegmentMemberOut,
    SegmentOut,
    TagCountOut,
    TagIn,
    TagOut,
    TimelineItem,
)
from shequn.exports import write_export
from shequn.platform.db import transaction
from shequn.platform.schemas import file_responses
from shequn.web.auth import EngineDep, Now, Workspace
from shequn.web.body import read_bounded
from shequn.web.paging import Offset
from shequn.web.problems import Problem, workspace_router

router = workspace_router("crm", "/crm")
Channel = Annotated[str, Query(min_length=1, max_length=32)]
MAX_IMPORT_BYTES = 32 * 1024 * 1024


def _bad_filter(exc: ValidationError) -> Problem:
    errors = [
        {"path": ".".join(str(p) for p in e["loc"]) or "(root)", "message": e["msg"]}
        for e in exc.errors(include_url=False)
    ]
    return Problem(422, "Invalid filter", errors[0]["message"], errors=errors)


@router.get("/members/{member}", summary="A member's profile", response_model=ProfileOut)
def get_profile(
    member: str, workspace: Workspace, engine: EngineDep, channel: Channel = "sandbox"
) -> dict[str, Any]:
    with engine.connect() as conn:
        return service.access_profile(conn, workspace, channel, member)


@router.patch("/members/{member}", summary="Change a member's profile", response_model=ProfileOut)
def patch_profile(
    member: str,
    change: ProfileIn,
    workspace: Workspace,
    engine: EngineDep,
    now: Now,
    channel: Channel = "sandbox",
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return service.do_upsert_profile(conn, workspace, channel, member, change, now=now)


@router.get(
    "/members/{member}/timeline",
    summary="Events, actions, notes and tags, newest first",
    response_model=list[TimelineItem],
)
def get_timeline(
    member: str,
    workspace: Workspace,
    engine: EngineDep,
    channel: Channel = "sandbox",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return service.timeline(conn, workspace, channel, member, limit)


@router.get("/members/{member}/notes", summary="Interview notes", response_model=list[NoteOut])
def get_notes(
    member: str, workspace: Workspace, engine: EngineDep, channel: Channel = "sandbox"
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return service.list_notes(conn, workspace, channel, member)


@router.post(
    "/members/{member}/notes",
    status_code=201,
    summary="Add an interview note",
    response_model=NoteOut,
)
def post_note(
    member: str,
    note: NoteIn,
    workspace: Workspace,
    engine: EngineDep,
    now: Now,
    channel: Channel = "sandbox",
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return service.do_add_note(conn, workspace, channel, member, note, now=now)


@router.post("/members/{member}/tags", summary="Tag a member", response_model=MemberTagOut)
def post_member_tag(
    member: str,
    body: MemberTagIn,
    workspace: Workspace,
    engine: EngineDep,
    now: Now,
    channel: Channel = "sandbox",
) -> dict[str, Any]:
    with transaction(engine) as conn:
        added = service.do_tag_member(conn, workspace, channel, member, body.tag, now=now)
    return {"tag": body.tag, "added": added}


@router.delete(
    "/members/{member}/tags/{tag}", summary="Untag a member", response_model=MemberUntagOut
)
def delete_member_tag(
    member: str, tag: str, workspace: Workspace, engine: EngineDep, channel: Channel = "sandbox"
) -> dict[str, Any]:
    with transaction(engine) as conn:
        removed = service.do_untag_member(conn, workspace, channel, member, tag)
    return {"tag": tag, "removed": removed}


@router.get(
    "/tags",
    summary="Tags with their groups and member counts",
    response_model=list[TagCountOut],
)
def get_tags(workspace: Workspace, engine: EngineDep) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return service.list_tags(conn, workspace)


@router.post(
    "/tags", status_code=201, summary="Create a tag (and its group)", response_model=TagOut
)
def post_tag(body: TagIn, workspace: Workspace, engine: EngineDep) -> dict[str, Any]:
    with transaction(engine) as conn:
        return service.do_create_tag(conn, workspace, body.name, body.group)


@router.get("/fields", summary="Custom profile fields", response_model=list[CustomFieldOut])
def get_fields(workspace: Workspace, engine: EngineDep) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return service.list_custom_fields(conn, workspace)


@router.put(
    "/fields",
    summary="Define or change a custom profile field",
    response_model=CustomFieldOut,
)
def put_field(
    body: CustomFieldIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    with transaction(engine) as conn:
        return service.do_define_custom_field(conn, workspace, body, now=now)


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: dict[str, Any]
    description: Annotated[str, Field(max_length=2000)] | None = None


@router.get("/segments", summary="Saved segments with live counts", response_model=list[SegmentOut])
def get_segments(workspace: Workspace, engine: EngineDep, now: Now) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return service.list_segments(conn, workspace, now=now)


@router.post(
    "/segments/count", summary="Live count of a filter (not saved)", response_model=CountOut
)
def count_segment(
    body: SegmentIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    try:
        with engine.connect() as conn:
            return {"count": service.count_filter(conn, workspace, body.filter, now=now)}
    except ValidationError as exc:
        raise _bad_filter(exc) from exc


@router.put("/segments/{name}", summary="Save a segment", response_model=SegmentOut)
def put_segment(
    name: str, body: SegmentIn, workspace: Workspace, engine: EngineDep, now: Now
) -> dict[str, Any]:
    try:
        with transaction(engine) as conn:
            saved = service.do_save_segment(
                conn, workspace, name, body.filter, body.description, now=now
            )
            saved["count"] = service.count_filter(conn, workspace, saved["filter"], now=now)
            return saved
    except ValidationError as exc:
        raise _bad_filter(exc) from exc


@router.get(
    "/segments/{name}/members",
    summary="Who is in a segment now",
    response_model=list[SegmentMemberOut],
)
def get_segment_members(
    name: str,
    workspace: Workspace,
    engine: EngineDep,
    now: Now,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Offset = 0,
) -> list[dict[str, str]]:
    with engine.connect() as conn:
        keys = service.segment_members(conn, workspace, name, now=now)
    return [{"channel": c, "member": m} for c, m in keys[offset : offset + limit]]


@router.delete("/segments/{name}", status_code=204, summary="Delete a segment")
def delete_segment(name: str, workspace: Workspace, engine: EngineDep) -> Response:
    with transaction(engine) as conn:
        service.do_delete_segment(conn, workspace, name)
    return Response(status_code=204)


@router.post(
    "/import",
    summary="Import members from CSV or XLSX (the request body)",
    response_model=ImportOut,
)
async def post_import(
    request: Request,
    workspace: Workspace,
    engine: EngineDep,
    now: Now,
    filename: Annotated[str, Query(description="Its name: .csv or .xlsx decides the format")],
    channel: Channel = "sandbox",
    encoding: Annotated[str, Query(max_length=32)] = "utf-8",
    skip_invalid: bool = False,
    map: Annotated[list[str] | None, Query(description="Header=field, repeatable")] = None,
) -> dict[str, Any]:
    data = await read_bounded(request, MAX_IMPORT_BYTES)
    mapping = _mapping(map or [])
    suffix = PurePath(filename).suffix.lower()
    try:
        table = read_xlsx(data) if suffix in (".xlsx", ".xlsm") else read_csv(data, encoding)
    except LookupError as exc:
        raise Problem(400, "Unknown encoding", str(exc)) from exc

    def run() -> dict[str, Any]:
        with transaction(engine) as conn:
            report = do_import_members(
                conn,
                workspace,
                table,
                mapping,
                channel=channel,
                skip_invalid=skip_invalid,
                now=now,
            )
        return report.summary()

    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(run)


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        header, sep, target = pair.partition("=")
        if not sep or not header.strip() or not target.strip():
            raise Problem(400, "Bad mapping", f"{pair!r}: write Header=field")
        mapping[header.strip()] = target.strip()
    return mapping


_MEDIA = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/export",
    summary="Members with profiles and tags; phones masked by default",
    description="The same as `GET …/exports/members` (deprecated: use that).",
    deprecated=True,
    response_class=Response,
    responses=file_responses("text/csv", _MEDIA["xlsx"], "application/x-ndjson"),
)
def get_export(
    workspace: Workspace,
    engine: EngineDep,
    format: Annotated[Literal["csv", "xlsx", "jsonl"], Query()] = "csv",
    reveal_phones: Annotated[bool, Query(description="Needs crm.allow_phone_export")] = False,
) -> Response:
    buffer = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, workspace, "members", format, buffer, reveal_phones=reveal_phones)
    headers = {"Content-Disposition": f'attachment; filename="members.{format}"'}
    return Response(buffer.getvalue(), media_type=_MEDIA[format], headers=headers)
