"""Running the app with uvicorn."""

from __future__ import annotations

import uvicorn

from shequn.settings import Settings, get_settings
from shequn.web.app import create_app


def run_server(
    host: str, port: int, in_process_worker: bool = True, settings: Settings | None = None
) -> None:
    settings = settings or get_settings()
    app = create_app(settings, in_process_worker=in_process_worker)
    # Behind a load balancer, the client is who the trusted proxies say it is: the public
    # pages' rate limits and the fraud checks (same network as the inviter) key on it. With
    # no proxy configured, X-Forwarded-For is ignored: anyone could set it.
    trusted = settings.forwarded_allow_ips
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
