"""The `wecom-callback` workload: encrypted WeCom callbacks per second through the real
callback endpoint (verify the signature, decrypt, map, then into the log) by a real local
server on SQLite, against `/healthz` on the same server in the same run; with the p99
latency of a callback under that load (WeCom wants an answer within 1 s).

With SHEQUN_REDIS_URL set the server queues each callback's events on the bus (its own key
prefix), as a production install does, and a worker drains them into the log after the
timed loop ("mode": "bus"); without it every callback is ingested before it is answered
("mode": "direct").

Every callback is distinct (one member joining), made and signed before the clock starts.
Loopback only; both loops are bounded in count.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from shequn.bench.server import serving
from shequn.channels.connections.keyring import Keyring, new_key
from shequn.channels.wecom.connection import check_app, store_app
from shequn.channels.wecom.crypto import WXBizMsgCrypt
from shequn.community.service import do_create_workspace
from shequn.exports import EXPORTS
from shequn.platform.bus import RedisBus
from shequn.platform.db import make_engine, transaction
from shequn.platform.migrate import upgrade
from shequn.settings import Settings

CALLBACKS = 2000
CLIENTS = 8
CORP = "ww-bench-corp"
TOKEN = "benchtoken"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def _callbacks(count: int) -> list[tuple[str, bytes]]:
    crypt = WXBizMsgCrypt(TOKEN, AES_KEY, CORP)
    made = []
    for i in range(count):
        xml = (
            f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]>"
            f"</FromUserName><CreateTime>{1733000000 + i}</CreateTime><MsgType><![CDATA[event]]>"
            "</MsgType><Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[wr-bench-"
            f"{i % 20}]]></ChatId><ChangeType><![CDATA[update]]></ChangeType><UpdateDetail>"
            "<![CDATA[add_member]]></UpdateDetail><JoinScene>3</JoinScene><CurMemVer>"
            f"v{i}</CurMemVer><MemChangeList><Item>wm-{i}</Item></MemChangeList></xml>"
        )
        encrypted = crypt.encrypt(xml.encode())
        timestamp, nonce = str(1733000000 + i), f"n{i}"
        query = urlencode({"msg_signature": crypt.sign(timestamp, nonce, encrypted),
                           "timestamp": timestamp, "nonce": nonce})  # fmt: skip
        body = f"<xml><ToUserName>{CORP}</ToUserName><Encrypt>{encrypted}</Encrypt></xml>"
        made.append((query, body.encode()))
    return made


def _run(
    base: str, requests: Sequence[tuple[str, str, bytes | None]], clients: int
) -> tuple[float, list[float]]:
    """Seconds for every request from `clients` keep-alive clients at once, and each
    request's latency."""
    shares = [requests[i::clients] for i in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]

    def run(k: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for method, path, body in shares[k]:
                started = time.perf_counter()
                r = client.request(method, path, content=body)
                latencies[k].append(time.perf_counter() - started)
                r.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, range(clients)))
    return time.perf_counter() - started, [x for part in latencies for x in part]


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def bench_wecom_callback(size: int = CALLBACKS, clients: int = CLIENTS, **_: Any) -> dict[str, Any]:
    from shequn.web.app import create_app
    from shequn.worker import consume_once

    made = _callbacks(size)
    redis_url = Settings().redis_url
    prefix = f"shequn-bench-{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory(prefix="shequn-bench-") as tmp:
        key = new_key()
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'shequn.db'}",
            secret_key=key,
            redis_url=redis_url,
            bus_prefix=prefix,
        )
        upgrade(settings)
        engine = make_engine(settings.database_url)
        with transaction(engine) as conn:
            ws = do_create_workspace(conn, "bench", now=settings.clock().now())
            app_ = check_app(CORP, 1, TOKEN, AES_KEY, "secret", "http://127.0.0.1:9/")
            store_app(conn, ws.id, app_, keys=Keyring.parse(key), now=settings.clock().now())
        app = create_app(settings, engine)
        try:
            with serving(app) as base:
                health = [("GET", "/healthz", None)] * size
                _run(base, health[: clients * 20], clients)  # warm up connections
                cpu = time.process_time()
                base_s, _health_latencies = _run(base, health, clients)
                base_cpu = time.process_time() - cpu
                hook = f"/channels/wecom/{ws.slug}/callback"
                calls = [("POST", f"{hook}?{query}", body) for query, body in made]
                cpu = time.process_time()
                ours_s, latencies = _run(base, calls, clients)
                ours_cpu = time.process_time() - cpu
            if redis_url is not None:
                bus = RedisBus(redis_url, settings.bus_partitions, prefix)
                try:
                    while consume_once(engine, bus):
                        pass
                finally:
                    bus.drop_all()
            with engine.connect() as conn:
                stored = sum(1 for _ in EXPORTS["events"].rows(conn, ws))
        finally:
            engine.dispose()
    if stored != size:
        raise RuntimeError(f"{stored} events stored for {size} distinct callbacks")
    rate, baseline = size / ours_s, size / base_s
    return {
        "workload": "wecom-callback",
        "mode": "direct" if redis_url is None else "bus",
        "callbacks": size,
        "clients": clients,
        "rate": round(rate),
        "seconds": round(ours_s, 3),
        "cpu_seconds": round(ours_cpu, 3),
        "p99_ms": round(_p99(latencies) * 1000, 1),
        "baseline_rate": round(baseline),
        "baseline_seconds": round(base_s, 3),
        "baseline_cpu_seconds": round(base_cpu, 3),
        "ratio": round(rate / baseline, 3),
        "unit": "callbacks/s",
    }
