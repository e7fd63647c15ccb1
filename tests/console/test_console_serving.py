"""The built console is served at its own pages only: the API, the docs and the probes keep
their answers, and an unknown API path stays a problem+json 404."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.settings import Settings
from shequn.web import console
from shequn.web.app import create_app


def built(folder: Path) -> Path:
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<html>console</html>", encoding="utf-8")
    (folder / "assets" / "app-1234.js").write_text("console.log(1)", encoding="utf-8")
    return folder


def test_its_pages_answer_the_index_and_its_assets_are_files(tmp_path: Path) -> None:
    app = FastAPI()
    console.install(app, built(tmp_path / "dist"))
    client = TestClient(app)
    for path in ("/", "/login", "/w/acme", "/w/acme/moderation/violations"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.text == "<html>console</html>"
        assert r.headers["cache-control"] == "no-cache"
    assert client.get("/assets/app-1234.js").text == "console.log(1)"
    assert client.get("/assets/missing.js").status_code == 404
    # Not the console's: no fallback.
    assert client.get("/anything-else").status_code == 404
    assert client.post("/login").status_code == 405


def test_without_a_build_its_pages_say_how_to_make_one(tmp_path: Path) -> None:
    app = FastAPI()
    console.install(app, tmp_path / "missing")
    r = TestClient(app).get("/login")
    assert r.status_code == 404
    assert "./scripts/bootstrap" in r.text


def test_the_api_docs_and_probes_are_not_shadowed(settings: Settings, engine: Engine) -> None:
    with TestClient(create_app(settings, engine)) as client:
        missing = client.get("/api/v1/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/openapi.json").json()["openapi"].startswith("3.")
        assert client.get("/docs").status_code == 200
        assert client.get("/redoc").status_code == 200
        assert client.get("/metrics").status_code == 200
        # A signed-out `me` is the API's 401, not the console's page.
        assert client.get("/api/v1/auth/me").status_code == 401
        # The console's pages never show up in the API's description.
        paths = client.get("/openapi.json").json()["paths"]
        assert not {"/", "/login", "/w/{rest}"} & set(paths)
