"""Posters 海报: a personal PNG per participant — background, avatar (else the nickname's
initial), nickname, personal QR pointing at their live-code URL, campaign copy — drawn with
Pillow and a CJK font, cached by content. Posters received and shared are recorded on the
campaign's participants."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import Connection, and_, select

from shequn.community.models import members
from shequn.community.service import NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.growth.avatars import check_avatar_host, check_avatar_url
from shequn.growth.models import live_codes, participants
from shequn.growth.qr import qr_image
from shequn.growth.referrals import ReferralBook
from shequn.growth.texts import say
from shequn.platform.errors import Invalid

log = logging.getLogger(__name__)

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
"""Where Debian's CJK font packages put their files (fonts-wqy-microhei first)."""

CACHE_SIZE = 256
_PALETTE = ("#E4572E", "#17BEBB", "#FFC914", "#2E282A", "#76B041", "#5F4BB6")


class FontMissing(RuntimeError):
    """No CJK font: posters would show empty boxes for Chinese text."""


def find_font(configured: str | None = None) -> str | None:
    for path in ((configured,) if configured else ()) + FONT_CANDIDATES:
        if path and Path(path).is_file():
            return path
    return None


@lru_cache(maxsize=32)
def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        log.warning("no CJK font found (install fonts-wqy-microhei): Chinese text will not show")
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)


@dataclass(frozen=True, slots=True)
class PosterSpec:
    title: str
    copy_text: str
    nickname: str
    qr_text: str
    width: int = 750
    height: int = 1334
    background: str = "#F6E7C8"
    background_image: str | None = None
    font: str | None = None
    avatar: bytes | None = None
    hint: str = ""

    def digest(self) -> str:
        h = hashlib.blake2b(digest_size=16)
        parts = (
            self.title,
            self.copy_text,
            self.nickname,
            self.qr_text,
            self.background,
            self.hint,
        )
        for part in parts:
            h.update(part.encode())
            h.update(b"\0")
        h.update(f"{self.width}x{self.height}|{self.background_image}|{self.font}".encode())
        if self.avatar:
            h.update(self.avatar)
        return h.hexdigest()


def _avatar(spec: PosterSpec, size: int, font_path: str | None) -> Image.Image:
    """The participant's picture, or their first character on a colour of their own."""
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size - 1, size - 1), fill=255)
    if spec.avatar:
        picture = Image.open(io.BytesIO(spec.avatar)).convert("RGB")
        picture = picture.resize((size, size), Image.Resampling.LANCZOS)
    else:
        pick = hashlib.blake2b(spec.nickname.encode(), digest_size=2).digest()
        colour = _PALETTE[int.from_bytes(pick, "big") % len(_PALETTE)]
        picture = Image.new("RGB", (size, size), colour)
        draw = ImageDraw.Draw(picture)
        initial = (spec.nickname or "?")[0]
        draw.text(
            (size / 2, size / 2),
            initial,
            font=_font(font_path, size // 2),
            fill="white",
            anchor="mm",
        )
    out = Image.new("RGBA", (size, size))
    out.paste(picture, (0, 0), mask)
    return out


def _wrap(text: str, font: Any, width: int, draw: ImageDraw.ImageDraw) -> list[str]:
    """Break text into lines that fit: by character, as Chinese has no spaces."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for ch in paragraph:
            if draw.textlength(line + ch, font=font) > width and line:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


def render(spec: PosterSpec) -> bytes:
    """Draw a poster as PNG bytes."""
    w, h = spec.width, spec.height
    font_path = find_font(spec.font)
    if spec.background_image and Path(spec.background_image).is_file():
        canvas = Image.open(spec.background_image).convert("RGB").resize((w, h))
    else:
        canvas = Image.new("RGB", (w, h), spec.background)
    draw = ImageDraw.Draw(canvas)
    margin = w // 12
    title_font = _font(font_path, max(w // 14, 12))
    body_font = _font(font_path, max(w // 26, 10))
    y = h // 12
    for line in _wrap(spec.title, title_font, w - 2 * margin, draw):
        draw.text((w / 2, y), line, font=title_font, fill="#2E282A", anchor="ma")
        y += int(w / 14 * 1.3)
    y += h // 40
    for line in _wrap(spec.copy_text, body_font, w - 2 * margin, draw):
        draw.text((w / 2, y), line, font=body_font, fill="#4A4A4A", anchor="ma")
        y += int(w / 26 * 1.5)
    qr_size = w // 2
    qr_top = h - qr_size - h // 8
    avatar_size = w // 7
    avatar_top = qr_top - avatar_size - h // 30
    face = _avatar(spec, avatar_size, font_path)
    canvas.paste(face, (margin, avatar_top), face)
    draw.text(
        (margin + avatar_size + margin // 2, avatar_top + avatar_size / 2),
        spec.nickname,
        font=body_font,
        fill="#2E282A",
        anchor="lm",
    )
    panel = (w - qr_size) // 2
    draw.rounded_rectangle(
        (panel - 12, qr_top - 12, panel + qr_size + 12, qr_top + qr_size + 12),
        radius=16,
        fill="white",
    )
    canvas.paste(
        qr_image(spec.qr_text, border=1).resize((qr_size, qr_size), Image.Resampling.NEAREST),
        (panel, qr_top),
    )
    if spec.hint:
        draw.text(
            (w / 2, qr_top + qr_size + h // 30),
            spec.hint,
            font=body_font,
            fill="#4A4A4A",
            anchor="ma",
        )
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=False)
    return out.getvalue()


class PosterCache:
    """Rendered posters by content digest, least recently used out first."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, spec: PosterSpec) -> bytes:
        key = spec.digest()
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        png = render(spec)
        with self._lock:
            self._items[key] = png
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return png

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = PosterCache()


def poster_spec(
    conn: Connection, ws: WorkspaceInfo, token: str, member: str
) -> tuple[str, PosterSpec, str | None]:
    """The campaign, the poster of one participant (from the campaign's live code) and the
    participant's avatar URL: it is fetched outside the transaction, then drawn."""
    t = live_codes
    code = (
        conn.execute(select(t).where(and_(t.c.workspace_id == ws.id, t.c.token == token)))
        .mappings()
        .first()
    )
    if code is None or code["campaign"] is None:
        raise NotFound(say, "growth.no_poster")
    spec = ws.config.campaigns.get(code["campaign"])
    if spec is None:
        raise NotFound(say, "growth.no_campaign", key=code["campaign"])
    m = members
    nickname = conn.execute(
        select(m.c.nickname).where(
            and_(m.c.workspace_id == ws.id, m.c.channel == code["channel"], m.c.ext_id == member)
        )
    ).scalar()
    p = participants
    avatar_url = conn.execute(
        select(p.c.avatar_url).where(
            and_(
                p.c.workspace_id == ws.id,
                p.c.campaign == code["campaign"],
                p.c.channel == code["channel"],
                p.c.member_ext == member,
            )
        )
    ).scalar()
    cfg = ws.config.growth.posters
    return (
        str(code["campaign"]),
        PosterSpec(
            title=spec.name,
            copy_text=spec.copy_text,
            nickname=nickname or member,
            qr_text=f"{cfg.base_url.rstrip('/')}/l/{token}?i={member}",
            width=cfg.width,
            height=cfg.height,
            background=cfg.background,
            background_image=cfg.background_image,
            font=cfg.font,
            hint=say("poster.hint", ws.locale),
        ),
        avatar_url,
    )


def do_set_avatar(
    conn: Connection,
    ws: WorkspaceInfo,
    campaign: str,
    channel: str,
    member: str,
    avatar_url: str | None,
    at: datetime,
    allow_private_hosts: bool = False,
) -> dict[str, Any]:
    """Give a participant (made one if need be) the picture their poster draws; None
    clears it. A URL to a private or loopback host is refused unless allowed."""
    if ws.config.campaigns.get(campaign) is None:
        raise NotFound(say, "growth.no_campaign", key=campaign)
    if avatar_url is None:
        url = None
    else:
        try:
            url = check_avatar_url(avatar_url)  # the API's schema checked it; a caller may not
        except ValueError as exc:
            raise Invalid(say, "growth.avatar_refused", reason=str(exc)) from exc
        url = check_avatar_host(url, allow_private_hosts)
    book = ReferralBook(conn, ws.id)
    row = book.participant(campaign, channel, member, at)
    book.set_participant(row, avatar_url=url)
    book.flush()  # the book writes in bulk, here at once
    return {"campaign": campaign, "channel": channel, "member": member, "avatar_url": url}


def do_record_poster(
    conn: Connection, ws: WorkspaceInfo, campaign: str, channel: str, member: str, at: datetime
) -> None:
    """A participant got their poster (the first time counts for the forward rate)."""
    book = ReferralBook(conn, ws.id)
    row = book.participant(campaign, channel, member, at)
    if row["poster_at"] is None:
        book.set_participant(row, poster_at=at)
    book.flush()
