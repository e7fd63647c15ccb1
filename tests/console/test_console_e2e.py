"""The console as an operator uses it: a real `shequn serve` on a simulated workspace, driven
in Debian's headless Chromium through Playwright (no browser is downloaded).

Needs the built console (./scripts/bootstrap) and /usr/bin/chromium (./scripts/bootstrap test
installs it): without either the test fails and says so."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from shequn.web.console import DIST

SHEQUN = str(Path(sys.executable).parent / "shequn")
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMAIL, PASSWORD = "li@example.com", "correct horse battery staple"


@dataclass
class Served:
    base: str
    token: str  # a bearer token of `acme`, to check the console's figures against the API

    def api(self, path: str) -> httpx.Response:
        return httpx.get(
            f"{self.base}/api/v1/workspaces/acme{path}",
            headers={"Authorization": f"Bearer {self.token}"},
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`shequn serve` on a new database: `acme` with a simulated week, an empty `beta`, and
    one person who owns both."""
    if not (DIST / "index.html").is_file():
        pytest.fail(f"the console is not built in {DIST}: run ./scripts/bootstrap")
    env = {**os.environ, "SHEQUN_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}"}
    env.pop("SHEQUN_REDIS_URL", None)

    def run(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [SHEQUN, *args], env=env, input=stdin, check=True, capture_output=True, text=True
        )
        return done.stdout

    run("workspace", "create", "acme")
    run("workspace", "create", "beta")
    run("simulate", "-w", "acme", "--groups", "3", "--members", "120", "--days", "7", "--seed", "1")
    for ws in ("acme", "beta"):
        run(
            "user", "create", EMAIL, "-w", ws, "--role", "owner", "--password-stdin", stdin=PASSWORD
        )
    token = run("token", "create", "-w", "acme").strip()
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([SHEQUN, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("shequn serve did not start")
        yield Served(base, token)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run ./scripts/bootstrap test (apt-get install chromium)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1366, "height": 768})
        finally:
            browser.close()


def test_sign_in_see_groups_revert_a_violation_switch_language(
    served: Served, page: Page, tmp_path: Path
) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None
        ),
    )
    shots = tmp_path / "screenshots"

    # Signed out: every page leads to the sign-in page, in Chinese.
    page.goto(f"{served.base}/w/acme/groups")
    expect(page).to_have_url(f"{served.base}/login?next=/w/acme/groups")
    expect(page.get_by_text("登录社群控制台")).to_be_visible()
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator(".el-message--error")).to_be_visible()
    errors.clear()  # the browser logs the refused sign-in's 401 itself

    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # Back where they were going: the groups of `acme`, as the API lists them.
    expect(page).to_have_url(f"{served.base}/w/acme/groups")
    names = [g["name"] for g in served.api("/groups").json()]
    assert len(names) == 3
    rows = page.locator("[data-test=groups] .el-table__body tr")
    expect(rows).to_have_count(3)
    for name in names:
        expect(page.locator("[data-test=groups]").get_by_text(name, exact=True)).to_be_visible()
    page.screenshot(path=str(shots / "groups.png"))

    # The overview's count is the API's, and the funnel is drawn.
    page.get_by_role("menuitem", name="工作台").click()
    expect(page.locator("[data-test=stat-groups]")).to_contain_text("3")
    expect(page.locator("canvas").first).to_be_visible()
    page.screenshot(path=str(shots / "overview.png"))

    # Members, paged on the server.
    page.get_by_role("menuitem", name="成员").click()
    expect(page.locator("[data-test=members] .el-table__body tr")).to_have_count(20)
    page.locator("[data-test=members-pager] .btn-next").click()
    first = served.api("/members?limit=1&offset=20").json()[0]["member"]
    expect(page.locator("[data-test=members] .el-table__body tr").first).to_contain_text(first)

    # Revert a violation: the change carries the CSRF token, and the API records who did it.
    page.get_by_role("menuitem", name="违规处理").click()
    violations = served.api("/moderation/violations").json()
    assert violations and all(v["reverted_at"] is None for v in violations)
    page.locator("[data-test=revert]").first.click()
    page.get_by_role("button", name="确定").click()
    expect(page.locator(".el-message--success")).to_be_visible()
    reverted = [v for v in served.api("/moderation/violations").json() if v["reverted_at"]]
    assert [v["reverted_by"] for v in reverted] == [EMAIL]
    expect(page.locator("[data-test=revert]")).to_have_count(len(violations) - 1)
    page.screenshot(path=str(shots / "violations.png"))

    # English, kept across a reload.
    page.locator("[data-test=language]").click()
    expect(page.get_by_role("menuitem", name="Violations")).to_be_visible()
    page.reload()
    expect(page.get_by_role("menuitem", name="Groups")).to_be_visible()

    # Another workspace of theirs: empty.
    page.get_by_role("menuitem", name="Groups").click()
    page.locator("[data-test=workspace-switch]").click()
    page.get_by_role("option", name="beta").click()
    expect(page).to_have_url(f"{served.base}/w/beta/groups")
    expect(page.locator("[data-test=groups]").get_by_text("No Data")).to_be_visible()

    # Signed out: the session is gone on the server too. (Once the page's own requests are
    # answered: one still under way when the session ends would meet a 401.)
    page.wait_for_load_state("networkidle")
    page.locator("[data-test=sign-out]").click()
    expect(page).to_have_url(f"{served.base}/login")
    assert page.request.get(f"{served.base}/api/v1/auth/me").status == 401
    assert errors == []
