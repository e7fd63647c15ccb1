"""Participants' avatars for their posters: fetched once over HTTP(S) with a short timeout and
a size cap, checked to be a real image, reduced to a small square PNG and kept on disk by the
URL's hash. Any failure gives None, and the poster draws the nickname's initial instead."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import time
import warnings
from functools import lru_cache
from pathlib import Path

import httpx
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
TIMEOUT_SECONDS = 3.0
SIDE = 256
"""Avatars are drawn at a seventh of the poster's width: 256 px is plenty."""
MAX_PIXELS = 6000 * 6000
RETRY_SECONDS = 300.0
"""A URL that failed is not fetched again for this long: every poster request would wait."""
FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP", "BMP"})


class AvatarUnusable(Exception):
    """The URL did not give an image we will draw (status, type, size, content)."""


def check_avatar_url(url: str) -> str:
    url = url.strip()
    if not url.startswith(("http://", "https://")) or len(url) > 2048:
        raise ValueError("avatar_url: an http(s) URL of at most 2048 characters")
    return url


def square_png(data: bytes) -> bytes:
    """The picture as a SIDE × SIDE PNG; raises AvatarUnusable for anything but an image."""
    try:
        with warnings.catch_warnings():
            # A few compressed bytes can claim a huge canvas: refuse it rather than decode.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS or image.width * image.height > MAX_PIXELS:
                raise AvatarUnusable(f"not a picture we draw: {image.format} {image.size}")
            square = ImageOps.fit(image.convert("RGB"), (SIDE, SIDE))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise AvatarUnusable(f"not an image: {exc}") from exc
    except Image.DecompressionBombWarning as exc:
        raise AvatarUnusable(str(exc)) from exc
    out = io.BytesIO()
    square.save(out, format="PNG")
    return out.getvalue()


class AvatarStore:
    """Avatars on disk under one directory, one file per URL."""

    def __init__(
        self,
        directory: Path,
        max_bytes: int = MAX_BYTES,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.timeout = timeout
        self._failed: dict[str, float] = {}
        self._lock = threading.Lock()

    def path(self, url: str) -> Path:
        return self.directory / f"{hashlib.sha256(url.encode()).hexdigest()}.png"

    def get(self, url: str | None) -> bytes | None:
        """The avatar as PNG bytes, or None: no URL, or it failed (now or lately)."""
        if not url:
            return None
        path = self.path(url)
        if path.is_file():
            return path.read_bytes()
        with self._lock:
            failed_at = self._failed.get(url)
        if failed_at is not None and time.monotonic() - failed_at < RETRY_SECONDS:
            return None
        try:
            png = square_png(self._download(url))
        except (AvatarUnusable, httpx.HTTPError, OSError) as exc:
            log.info("avatar %s not used: %s", url, exc)
            with self._lock:
                self._failed[url] = time.monotonic()
            return None
        try:
            self._keep(path, png)
        except OSError as exc:  # an unwritable cache costs a fetch next time, nothing more
            log.warning("avatar cache %s not writable: %s", self.directory, exc)
        return png

    def _download(self, url: str) -> bytes:
        with httpx.stream("GET", url, timeout=self.timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise AvatarUnusable(f"HTTP {response.status_code}")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if not kind.startswith("image/"):
                raise AvatarUnusable(f"content-type {kind or 'missing'}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise AvatarUnusable(f"{declared} bytes")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > self.max_bytes:  # a server may not say, or lie
                    raise AvatarUnusable(f"more than {self.max_bytes} bytes")
        return bytes(body)

    def _keep(self, path: Path, png: bytes) -> None:
        """Write whole or not at all: a concurrent reader never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        partial.write_bytes(png)
        os.replace(partial, path)


@lru_cache(maxsize=8)
def avatar_store(directory: str) -> AvatarStore:
    """One store per directory for the process, so failures are remembered between requests."""
    return AvatarStore(Path(directory) / "avatars")
