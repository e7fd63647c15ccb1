"""Running the app with uvicorn."""

from __future__ import annotations

import uvicorn

from shequn.web.app import create_app


def run_server(host: str, port: int, in_process_worker: bool = True) -> None:
    app = create_app(in_process_worker=in_process_worker)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
