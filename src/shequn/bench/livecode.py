"""The `livecode` workload: scans answered per second over HTTP by a real local server on the
embedded default (SQLite), against a bare `/healthz` on the same server in the same run.

Each scan is a write transaction (admission, scan row, `code.scanned` through the engine),
so the ratio says what answering a live code costs next to doing nothing. Loopback only;
both loops are bounded in count.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from shequn.bench.server import serving
from shequn.community.service import do_apply_config, do_create_workspace
from shequn.platform.db import make_engine, transaction
from shequn.platform.migrate import upgrade
from shequn.settings import Settings

SCANS = 1500
CLIENTS = 8


def _measure(base: str, path: str, count: int, clients: int, params: dict[str, str]) -> float:
    """Seconds for `count` GETs of `path` from `clients` keep-alive clients at once."""
    per_client = count // clients

    def run(_: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _i in range(per_client):
                r = client.get(path, params=params)
                r.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, range(clients)))
    return time.perf_counter() - started


def bench_livecode(scans: int = SCANS, clients: int = CLIENTS, **_: Any) -> dict[str, Any]:
    from shequn.engine.rules import load_rule_modules
    from shequn.growth import rules as _growth_rules  # noqa: F401 - registers the growth rules
    from shequn.growth.api import LIMITER, public
    from shequn.growth.livecode import do_create_code
    from shequn.web.app import create_app

    load_rule_modules()
    with tempfile.TemporaryDirectory(prefix="shequn-bench-") as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'shequn.db'}")
        upgrade(settings)
        engine = make_engine(settings.database_url)
        started = settings.clock().now()
        with transaction(engine) as conn:
            ws = do_create_workspace(conn, "bench", now=started)
            ws = do_apply_config(
                conn, "bench", {"growth": {"live_codes": {"rate_per_minute": 10**5}}}
            )
            code = do_create_code(
                conn, ws, "lc-bench", admissions_cap=200, base_name="压测群", at=started
            )
        app = create_app(settings, engine)
        app.include_router(public)
        try:
            with serving(app) as base:
                LIMITER.reset()
                _measure(base, "/healthz", clients * 20, clients, {})  # warm up connections
                base_s = _measure(base, "/healthz", scans, clients, {})
                ours_s = _measure(base, code["url"], scans, clients, {"format": "json"})
        finally:
            engine.dispose()
    done = (scans // clients) * clients
    rate, baseline = done / ours_s, done / base_s
    return {
        "workload": "livecode",
        "scans": done,
        "clients": clients,
        "rate": round(rate),
        "seconds": round(ours_s, 3),
        "baseline_rate": round(baseline),
        "baseline_seconds": round(base_s, 3),
        "ratio": round(rate / baseline, 3),
        "unit": "scans/s",
    }
