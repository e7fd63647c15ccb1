"""Posters draw the participant's avatar, fetched from a real local HTTP server: as a circle,
once (then from the disk cache); a 404, an oversize body, a non-image or a slow server fall
back to the initial and never fail the poster. By default a URL to a loopback, private or
link-local host — set, or reached by a redirect — is refused."""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from typer.testing import CliRunner

from shequn.community.workspace import WorkspaceInfo
from shequn.growth import avatars, livecode
from shequn.growth.api import LIMITER
from shequn.growth.avatars import SIDE, TIMEOUT_SECONDS, AvatarStore
from shequn.growth.posters import PosterSpec, render
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import T0
from tests.growth.helpers import app_with_domains, configure, rows, token

RED = (220, 20, 30)


def png(colour: tuple[int, int, int], size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="PNG")
    return out.getvalue()


class AvatarServer(BaseHTTPRequestHandler):
    """Serves a red PNG, a 404, a body over the cap, HTML, a fake PNG and a slow answer."""

    hits: ClassVar[Counter[str]] = Counter()

    def do_GET(self) -> None:
        self.hits[self.path] += 1
        if self.path.startswith("/hop?"):  # a redirect to ?to=
            self.send_response(302)
            self.send_header("Location", parse_qs(urlsplit(self.path).query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/red.png":
            self._send(200, "image/png", png(RED))
        elif self.path == "/huge.png":
            self._send(200, "image/png", png(RED) + b"\0" * (3 * 1024 * 1024))
        elif self.path == "/unsaid.png":  # no Content-Length: the cap is counted as it comes
            self._send(200, "image/png", png(RED) + b"\0" * (3 * 1024 * 1024), declare=False)
        elif self.path == "/page.html":
            self._send(200, "text/html; charset=utf-8", b"<html>not a picture</html>")
        elif self.path == "/fake.png":
            self._send(200, "image/png", b"\x89PNG\r\n\x1a\n but not really")
        elif self.path == "/slow.png":
            time.sleep(1.5)
            self._send(200, "image/png", png(RED))
        else:
            self._send(404, "text/plain", b"no such avatar")

    def _send(self, status: int, kind: str, body: bytes, declare: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        if declare:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client gives up on an oversize body, as it should.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(address: str) -> Iterator[str]:
    server = ThreadingHTTPServer((address, 0), AvatarServer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{address}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def avatar_server() -> Iterator[str]:
    AvatarServer.hits = Counter()
    with serving("127.0.0.1") as url:
        yield url


def local_store(directory: Path, timeout: float = TIMEOUT_SECONDS) -> AvatarStore:
    """The tests' server is on 127.0.0.1: allowed as on a closed network."""
    return AvatarStore(directory, timeout=timeout, allow_private_hosts=True)


def test_an_avatar_is_fetched_once_then_read_from_disk(avatar_server: str, tmp_path: Path) -> None:
    store = local_store(tmp_path / "avatars")
    url = f"{avatar_server}/red.png"
    first = store.get(url)
    assert first is not None
    picture = Image.open(io.BytesIO(first))
    assert (picture.format, picture.size) == ("PNG", (SIDE, SIDE))
    assert store.path(url).read_bytes() == first
    assert store.get(url) == first
    assert local_store(tmp_path / "avatars").get(url) == first  # another process: the disk
    assert AvatarServer.hits["/red.png"] == 1


@pytest.mark.parametrize(
    "path", ["/missing.png", "/huge.png", "/unsaid.png", "/page.html", "/fake.png"]
)
def test_what_is_not_a_usable_picture_gives_none(
    avatar_server: str, tmp_path: Path, path: str
) -> None:
    store = local_store(tmp_path / "avatars")
    assert store.get(avatar_server + path) is None
    assert not store.path(avatar_server + path).exists()
    assert store.get(avatar_server + path) is None  # a failure is remembered for a while
    assert AvatarServer.hits[path] == 1


def test_a_slow_server_and_no_server_give_none(avatar_server: str, tmp_path: Path) -> None:
    store = local_store(tmp_path / "avatars", timeout=0.3)
    started = time.monotonic()
    assert store.get(f"{avatar_server}/slow.png") is None
    assert time.monotonic() - started < 1.4
    assert store.get("http://127.0.0.1:9/nobody.png") is None


def face(png_bytes: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The colours at the avatar's centre and its box's corner (outside the circle)."""
    image = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    w, h = image.size
    size, margin = w // 7, w // 12
    top = h - w // 2 - h // 8 - size - h // 30
    return image.getpixel((margin + size // 2, top + size // 2)), image.getpixel(
        (margin + 1, top + 1)
    )


def near(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(abs(x - y) <= 12 for x, y in zip(a, b, strict=True))


def test_the_avatar_is_drawn_as_a_circle() -> None:
    spec = PosterSpec(title="老带新", copy_text="", nickname="小明", qr_text="x", hint="")
    centre, corner = face(render(replace(spec, avatar=png(RED))))
    assert near(centre, RED)
    assert near(corner, (0xF6, 0xE7, 0xC8))  # the background: the corner is cut away
    initial_centre, _ = face(render(spec))
    assert not near(initial_centre, RED)


def campaign(engine: Engine, ws: WorkspaceInfo) -> tuple[WorkspaceInfo, str]:
    ws = configure(
        engine,
        ws,
        {"campaigns": {"spring": {"model": "invitation", "name": "春季老带新"}}},
    )
    with transaction(engine) as conn:
        made = livecode.do_create_code(conn, ws, "lc-spring", campaign="spring", at=T0)
    return ws, made["url"].rsplit("/", 1)[-1]


def test_posters_draw_the_avatar_over_the_api(
    settings: Settings,
    engine: Engine,
    workspace: WorkspaceInfo,
    avatar_server: str,
    tmp_path: Path,
) -> None:
    ws, code = campaign(engine, workspace)
    settings = settings.model_copy(
        update={"cache_dir": str(tmp_path / "cache"), "avatar_allow_private_hosts": True}
    )
    auth, base = token(engine, ws), f"/api/v1/workspaces/{ws.slug}/campaigns"
    LIMITER.reset()
    with TestClient(app_with_domains(settings, engine)) as client:
        for member, path in (("boss", "/red.png"), ("amy", "/missing.png"), ("bob", "/huge.png")):
            set_ = client.put(
                f"{base}/spring/participants/{member}/avatar",
                json={"avatar_url": avatar_server + path},
                headers=auth,
            )
            assert set_.status_code == 200, set_.text
        bad = client.put(
            f"{base}/spring/participants/eve/avatar",
            json={"avatar_url": "file:///etc/passwd"},
            headers=auth,
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        nope = client.put(
            f"{base}/nope/participants/eve/avatar", json={"avatar_url": None}, headers=auth
        )
        assert nope.status_code == 404
        posters = {}
        for member in ("boss", "amy", "bob", "carl"):
            r = client.get(f"/p/{code}/{member}.png")
            assert r.status_code == 200 and r.headers["content-type"] == "image/png"
            posters[member] = r.content
    assert near(face(posters["boss"])[0], RED)
    for member in ("amy", "bob", "carl"):  # failures and no avatar: the initial
        assert not near(face(posters[member])[0], RED)
    assert list((tmp_path / "cache" / "avatars").glob("*.png")) != []
    by_member = {p["member"]: p for p in rows(engine, ws, "participants")}
    assert "eve" not in by_member  # refused input stores nothing
    assert by_member["boss"]["avatar_url"] == avatar_server + "/red.png"
    assert by_member["carl"]["avatar_url"] is None and by_member["carl"]["poster_at"]
    LIMITER.reset()


def test_avatar_from_the_command_line(
    cli_settings: Settings,
    engine: Engine,
    workspace: WorkspaceInfo,
) -> None:
    from shequn.cli import app

    ws, _ = campaign(engine, workspace)
    runner = CliRunner()
    url = "https://cdn.example.com/a.png"
    done = runner.invoke(app, ["campaign", "avatar", "spring", "u-1", url, "-w", ws.slug])
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.output)["avatar_url"] == url
    bad = runner.invoke(app, ["campaign", "avatar", "spring", "u-2", "ftp://x", "-w", ws.slug])
    assert bad.exit_code != 0 and "avatar_url" in bad.output
    cleared = runner.invoke(app, ["campaign", "avatar", "spring", "u-1", "-", "-w", ws.slug])
    assert cleared.exit_code == 0 and orjson.loads(cleared.output)["avatar_url"] is None
    assert [p["member"] for p in rows(engine, ws, "participants")] == ["u-1"]


def test_by_default_a_loopback_host_is_not_fetched(avatar_server: str, tmp_path: Path) -> None:
    store = AvatarStore(tmp_path / "avatars")
    assert store.get(f"{avatar_server}/red.png") is None
    assert store.get(avatar_server.replace("127.0.0.1", "localhost") + "/red.png") is None
    assert AvatarServer.hits["/red.png"] == 0


def test_by_default_a_redirect_to_a_private_host_is_not_followed(
    avatar_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """127.0.0.2 stands for a public host (there is none on a test machine); it redirects to
    the avatar server on 127.0.0.1, which must never be asked."""
    public = avatars._public
    monkeypatch.setattr(
        avatars, "_public", lambda address: address == "127.0.0.2" or public(address)
    )
    store = AvatarStore(tmp_path / "avatars")
    with serving("127.0.0.2") as outside:
        to_inside = f"{outside}/hop?to={avatar_server}/red.png"
        assert store.get(to_inside) is None
        assert AvatarServer.hits["/red.png"] == 0
        assert AvatarServer.hits[urlsplit(to_inside).path + "?" + urlsplit(to_inside).query] == 1
        # A redirect to a public host is followed; a loop ends after a few hops.
        assert store.get(f"{outside}/hop?to={outside}/red.png") is not None
        loop = f"{outside}/hop?to=/hop?to=/hop?to=/hop?to=/hop?to=/red.png"
        assert store.get(loop) is None
    assert AvatarServer.hits["/red.png"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/a.png",
        "http://localhost/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/a.png",
        "http://[::1]/a.png",
        "http://[::ffff:192.168.1.1]/a.png",
        "http://224.0.0.1/a.png",
        "http://0.0.0.0/a.png",
    ],
)
def test_a_private_avatar_url_is_refused_when_set(
    settings: Settings,
    cli_settings: Settings,
    engine: Engine,
    workspace: WorkspaceInfo,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
) -> None:
    from shequn.cli import app

    ws, _ = campaign(engine, workspace)
    auth, path = token(engine, ws), f"/api/v1/workspaces/{ws.slug}/campaigns/spring"
    with TestClient(app_with_domains(settings, engine)) as client:
        english = {**auth, "Accept-Language": "en"}
        body = {"avatar_url": url}
        bad = client.put(f"{path}/participants/eve/avatar", json=body, headers=english)
    assert bad.status_code == 422, bad.text
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "not a public address" in bad.text
    in_english = settings.model_copy(update={"locale": "en"})  # the CLI's error line in English
    monkeypatch.setattr("shequn.settings.get_settings", lambda: in_english)
    runner = CliRunner()
    refused = runner.invoke(app, ["campaign", "avatar", "spring", "u-1", url, "-w", ws.slug])
    assert refused.exit_code != 0 and "not a public address" in refused.output
    assert rows(engine, ws, "participants") == []  # refused input stores nothing
    allowed = in_english.model_copy(update={"avatar_allow_private_hosts": True})
    monkeypatch.setattr("shequn.settings.get_settings", lambda: allowed)
    done = runner.invoke(app, ["campaign", "avatar", "spring", "u-1", url, "-w", ws.slug])
    assert done.exit_code == 0, done.output
