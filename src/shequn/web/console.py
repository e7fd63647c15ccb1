"""The operator's console: the single-page app built from `console/` (by ./scripts/bootstrap)
into `console_dist/`, served at `/` beside the API.

Only the console's own pages fall back to its index.html — `/`, `/login` and everything under
`/w/` — so the API, the docs, the public pages and the probes keep their answers (an unknown
`/api/…` stays a problem+json 404)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

DIST = Path(__file__).parent / "console_dist"
# The console's router owns these paths (console/src/router.ts); keep the two lists together.
PAGES = ("/", "/login", "/w/{rest:path}")
NOT_BUILT = "控制台尚未构建：请安装 Node.js 20.19+ 后运行 ./scripts/bootstrap (console not built)\n"


def install(app: FastAPI, dist: Path = DIST) -> None:
    """Serve the built console from `dist`: hashed assets under /assets, index.html for its
    pages. Without a build, its pages say how to make one."""
    index = dist / "index.html"

    def page() -> Response:
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT, status_code=404)
        # The index names the hashed assets of the current build: never keep an old one.
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    for path in PAGES:
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="console-assets")
