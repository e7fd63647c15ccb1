"""Console accounts: people with a role per workspace sign in with a password; the session
cookie is HttpOnly and SameSite, changes need the CSRF token, a viewer only reads, sessions
end (sign out, expiry, a disabled account) and guessing is slowed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.workspace import WorkspaceInfo
from shequn.growth.api import LIMITER
from shequn.platform.clock import FixedClock
from shequn.settings import Settings
from tests.cli.helpers import in_process
from tests.conftest import create_workspace
from tests.factories import NOW
from tests.growth.helpers import app_with_domains

PASSWORD = "烘焙-2026-secret"


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    LIMITER.reset()  # sign-in attempts are counted per minute, and the suite's clock stands still


def user(settings: Settings, tmp: Path, ws: WorkspaceInfo, email: str, role: str) -> dict:
    code, out, err = in_process(
        settings.database_url,
        tmp,
        ["user", "create", email, "-w", ws.slug, "--role", role, "--password-stdin"],
        stdin=f"{PASSWORD}\n".encode(),
    )
    assert code == 0, err
    made: dict = orjson.loads(out)
    return made


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    csrf: str = answer.json()["csrf_token"]
    return csrf


def test_an_operator_signs_in_reads_and_changes_with_the_csrf_token(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    other = create_workspace(engine)
    user(settings, tmp_path, workspace, "Li@Example.com", "operator")
    clock = FixedClock(NOW)
    base = f"/api/v1/workspaces/{workspace.slug}"
    with TestClient(app_with_domains(settings, engine, clock)) as client:
        assert client.get(base).status_code == 401  # nobody signed in
        csrf = sign_in(client, "li@example.com")
        me = client.get("/api/v1/auth/me").json()
        assert me["workspaces"] == [{"workspace": workspace.slug, "role": "operator"}]
        assert client.get(base).status_code == 200
        assert client.get(f"/api/v1/workspaces/{other.slug}").status_code == 403
        sample = {"text": "代开发票"}
        forged = client.post(f"{base}/moderation/samples", json=sample)
        assert forged.status_code == 403 and "X-CSRF-Token" in forged.text
        made = client.post(
            f"{base}/moderation/samples", json=sample, headers={"X-CSRF-Token": csrf}
        )
        assert made.status_code < 300, made.text
        # Staff actions are recorded as the signed-in person, whatever `by` the body says.
        banned = client.post(
            f"{base}/moderation/banlist",
            json={"member": "spammer", "reason": "广告", "by": "someone-else"},
            headers={"X-CSRF-Token": csrf},
        )
        assert banned.status_code == 200, banned.text
        bans = client.get(f"{base}/moderation/banlist").json()
        assert [b["by"] for b in bans] == ["li@example.com"]
        assert client.get("/api/v1/auth/me").json()["csrf_token"] == csrf  # the same, again
        # Only owners and admins manage people.
        people = client.post(
            f"{base}/users",
            json={"email": "x@example.com", "password": PASSWORD, "role": "owner"},
            headers={"X-CSRF-Token": csrf},
        )
        assert people.status_code == 403

        clock.advance(timedelta(hours=12))  # sessions last 12 hours
        assert client.get(base).status_code == 401


def test_a_viewer_only_reads_and_signing_out_ends_the_session(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    user(settings, tmp_path, workspace, "viewer@example.com", "viewer")
    base = f"/api/v1/workspaces/{workspace.slug}"
    with TestClient(app_with_domains(settings, engine)) as client:
        csrf = sign_in(client, "viewer@example.com")
        assert client.get(f"{base}/groups").status_code == 200
        refused = client.post(
            f"{base}/moderation/samples", json={"text": "x"}, headers={"X-CSRF-Token": csrf}
        )
        assert refused.status_code == 403
        kept = client.cookies.get("sq_session")
        assert client.post("/api/v1/auth/logout").status_code == 204
        client.cookies.set("sq_session", kept)  # the old cookie, replayed
        assert client.get(f"{base}/groups").status_code == 401


def test_wrong_passwords_and_unknown_people_look_the_same_and_are_slowed(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    user(settings, tmp_path, workspace, "owner@example.com", "owner")
    with TestClient(app_with_domains(settings, engine)) as client:
        wrong = client.post(
            "/api/v1/auth/login", json={"email": "owner@example.com", "password": "nope-nope"}
        )
        unknown = client.post(
            "/api/v1/auth/login", json={"email": "ghost@example.com", "password": "nope-nope"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["detail"] == unknown.json()["detail"]
        statuses = [
            client.post(
                "/api/v1/auth/login", json={"email": "owner@example.com", "password": "x"}
            ).status_code
            for _ in range(10)
        ]
        # Ten attempts a minute from one address: the two above and eight of these.
        assert statuses == [401] * 8 + [429] * 2
        assert (
            client.post(
                "/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}
            ).status_code
            == 429
        )  # even the right password waits out the minute


def test_people_are_listed_given_roles_and_disabled(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    user(settings, tmp_path, workspace, "owner@example.com", "owner")
    url = settings.database_url

    def cli(*args: str) -> list[dict]:
        code, out, err = in_process(url, tmp_path, [*args, "-w", workspace.slug])
        assert code == 0, err
        return [orjson.loads(line) for line in out.splitlines()]

    with TestClient(app_with_domains(settings, engine)) as client:
        csrf = sign_in(client, "owner@example.com")
        base = f"/api/v1/workspaces/{workspace.slug}"
        added = client.post(
            f"{base}/users",
            json={"email": "staff@example.com", "password": PASSWORD, "role": "staff"},
            headers={"X-CSRF-Token": csrf},
        )
        assert added.status_code == 201, added.text
        assert "password" not in added.text and "hash" not in added.text
        assert [(p["email"], p["role"]) for p in client.get(f"{base}/users").json()] == [
            ("owner@example.com", "owner"),
            ("staff@example.com", "staff"),
        ]
        cli("user", "set-role", "staff@example.com", "admin")
        assert [p["role"] for p in cli("user", "list")] == ["owner", "admin"]
        cli("user", "disable", "owner@example.com")
        assert client.get(base).status_code == 401  # the session ended with the account
        again = client.post(
            "/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}
        )
        assert again.status_code == 401
    code, _, err = in_process(
        url,
        tmp_path,
        ["user", "create", "bad", "-w", workspace.slug, "--password-stdin"],
        stdin=b"short\n",
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
