"""Participants' avatars for their posters: fetched once over HTTP(S) with a short timeout and
a size cap, checked to be a real image, reduced to a small square PNG and kept on disk by the
URL's hash. Any failure gives None, and the poster draws the nickname's initial instead.

The URLs are set by staff but fetched on a public endpoint, so unless
`SHEQUN_AVATAR_ALLOW_PRIVATE_HOSTS` says otherwise only public addresses are fetched: the
host is resolved and checked at every redirect hop (followed by hand), and the address the
connection reached is checked again before the body is read (a name may resolve differently
the second time)."""

from __future__ import annotations

import hashlib
import io
import ipaddress
import logging
import os
import socket
import threading
import time
import warnings
from functools import lru_cache
from pathlib import Path

import httpx
from PIL import Image, ImageOps

from shequn.growth.texts import say
from shequn.platform.errors import Invalid

log = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
TIMEOUT_SECONDS = 3.0
SIDE = 256
"""Avatars are drawn at a seventh of the poster's width: 256 px is plenty."""
MAX_PIXELS = 6000 * 6000
RETRY_SECONDS = 300.0
"""A URL that failed is not fetched again for this long: every poster request would wait."""
FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP", "BMP"})
MAX_REDIRECTS = 3


class AvatarUnusable(Exception):
    """The URL did not give an image we will draw (status, type, size, content)."""


def _public(address: str) -> bool:
    """Whether an address is on the public internet: not loopback, private, link-local,
    shared, multicast, reserved or unspecified (an IPv4-mapped IPv6 address as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolve(host: str) -> list[str]:
    """The host's addresses (itself when it is one); none when it does not resolve now."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in found})


def check_avatar_url(url: str) -> str:
    """The URL trimmed; ValueError unless it is http(s), at most 2048 characters, with a host."""
    url = url.strip()
    if not url.startswith(("http://", "https://")) or len(url) > 2048:
        raise ValueError("avatar_url: an http(s) URL of at most 2048 characters")
    try:
        host = httpx.URL(url).host
    except httpx.InvalidURL as exc:
        raise ValueError(f"avatar_url: {exc}") from exc
    if not host:
        raise ValueError("avatar_url: the URL names no host")
    return url


def check_avatar_host(url: str, allow_private_hosts: bool = False) -> str:
    """The URL; Invalid when its host is (or resolves to) an address outside the public
    internet, unless private hosts are allowed. A name that does not resolve now passes: it
    is checked again when fetched."""
    if allow_private_hosts:
        return url
    host = httpx.URL(url).host
    for address in _resolve(host):
        if not _public(address):
            raise Invalid(say, "growth.avatar_private_host", host=host, address=address)
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
        allow_private_hosts: bool = False,
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.allow_private_hosts = allow_private_hosts
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
        except (AvatarUnusable, Invalid, ValueError, httpx.HTTPError, OSError) as exc:
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
        # Redirects are followed by hand, so every hop's host is checked before it is asked.
        # The environment's proxies are not used: the connection must reach the host checked.
        for _ in range(MAX_REDIRECTS + 1):
            url = check_avatar_host(check_avatar_url(url), self.allow_private_hosts)
            with httpx.stream("GET", url, timeout=self.timeout, trust_env=False) as response:
                self._check_peer(response)
                if not response.has_redirect_location:
                    return self._body(response)
                url = str(response.url.join(response.headers["location"]))
        raise AvatarUnusable(f"more than {MAX_REDIRECTS} redirects")

    def _check_peer(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if not self.allow_private_hosts and peer and not _public(str(peer[0])):
            raise AvatarUnusable(f"connected to {peer[0]}, not a public address")

    def _body(self, response: httpx.Response) -> bytes:
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
def avatar_store(directory: str, allow_private_hosts: bool = False) -> AvatarStore:
    """One store per directory for the process, so failures are remembered between requests."""
    return AvatarStore(Path(directory) / "avatars", allow_private_hosts=allow_private_hosts)
