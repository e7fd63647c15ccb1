"""`shequn serve` as a user runs it: a real server process, a real HTTP client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.factories import NOW

SHEQUN = str(Path(sys.executable).parent / "shequn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(tmp_path: Path, **settings: str) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    """`shequn serve` in its own process on a fresh database: (base URL, token, run CLI)."""
    env = {**os.environ, "SHEQUN_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", **settings}
    env.pop("SHEQUN_REDIS_URL", None)
    run = lambda *a: subprocess.run(  # noqa: E731
        [SHEQUN, *a], env=env, check=True, capture_output=True, text=True
    )
    run("workspace", "create", "acme")
    token = run("token", "create", "-w", "acme").stdout.strip()
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([SHEQUN, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not start")
        yield base, token, run
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with serving(tmp_path) as (base, token, _):
        yield base, token


def test_serve_answers_and_its_worker_delivers(served: tuple[str, str]) -> None:
    base, token = served
    headers = {"Authorization": f"Bearer {token}"}
    joined_at = NOW - timedelta(minutes=5)
    event = {
        "id": "e-1",
        "type": "member.joined",
        "channel": "sandbox",
        "group": "g-1",
        "member": "u-1",
        "at": joined_at.isoformat(),
        "data": {"nickname": "小明", "scene": "qr"},
    }
    r = httpx.post(f"{base}/api/v1/workspaces/acme/events", json=[event], headers=headers)
    assert r.status_code == 200 and r.json()["accepted"] == 1
    # The welcome window closed minutes ago: the in-process worker sends it on its own.
    history: list[dict] = []
    for _ in range(50):
        history = httpx.get(
            f"{base}/api/v1/workspaces/acme/sandbox/groups/g-1/messages", headers=headers
        ).json()
        if history:
            break
        time.sleep(0.2)
    assert [m["from"] for m in history] == ["shequn"]
    assert "@小明" in history[0]["text"]
    actions = httpx.get(f"{base}/api/v1/workspaces/acme/actions", headers=headers).json()
    assert [a["status"] for a in actions] == ["done"]
    assert httpx.get(f"{base}/metrics").text.count("shequn_events_ingested_total 1.0") == 1


@pytest.mark.parametrize(
    ("trusted", "statuses"),
    [
        # The proxy (this test, on 127.0.0.1) is trusted: each forwarded client has its own
        # limit of one scan a minute.
        ("127.0.0.1", [200, 200, 429]),
        # Not trusted: the header is ignored and every scan comes from the proxy itself.
        ("10.255.255.1", [200, 429, 429]),
        # The default trusts no proxy: a client cannot choose the address it is counted by.
        ("", [200, 429, 429]),
    ],
)
def test_forwarded_clients_are_limited_one_by_one_behind_a_trusted_proxy(
    tmp_path: Path, trusted: str, statuses: list[int]
) -> None:
    with serving(tmp_path, SHEQUN_FORWARDED_ALLOW_IPS=trusted) as (base, _, run):
        config = tmp_path / "acme.yaml"
        config.write_text("growth:\n  live_codes:\n    rate_per_minute: 1\n", encoding="utf-8")
        run("config", "apply", str(config), "-w", "acme")
        # Applied while the server runs: it reads the workspace's configuration per request.
        url = run("livecode", "create", "lc-1", "-g", "g-1", "-w", "acme").stdout.strip()
        path = urlsplit(url).path
        assert url.startswith("http://127.0.0.1:8000/l/"), url  # growth.posters.base_url
        got = [
            httpx.get(
                f"{base}{path}", params={"format": "json"}, headers={"X-Forwarded-For": who}
            ).status_code
            for who in ("203.0.113.7", "198.51.100.9", "203.0.113.7")
        ]
    assert got == statuses
