"""`shequn serve` as a user runs it: a real server process, a real HTTP client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

SHEQUN = str(Path(sys.executable).parent / "shequn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "SHEQUN_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
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
        yield base, token
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_serve_answers_and_its_worker_delivers(served: tuple[str, str]) -> None:
    base, token = served
    headers = {"Authorization": f"Bearer {token}"}
    joined_at = datetime.now(UTC) - timedelta(minutes=5)
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
