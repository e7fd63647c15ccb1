"""The console's typed client matches the app's OpenAPI: a backend change that breaks the
console fails here (regenerate with `cd console && npm run api-types`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parents[2] / "console"
GENERATOR = CONSOLE / "node_modules" / ".bin" / "openapi-typescript"


def test_the_generated_api_types_are_up_to_date(tmp_path: Path) -> None:
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: run ./scripts/bootstrap (needs Node.js 20.19+)")
    spec = tmp_path / "openapi.json"
    with spec.open("wb") as out:
        subprocess.run(
            [sys.executable, str(CONSOLE / "scripts" / "openapi.py")], stdout=out, check=True
        )
    fresh = tmp_path / "schema.d.ts"
    subprocess.run(
        [str(GENERATOR), str(spec), "-o", str(fresh)], cwd=CONSOLE, check=True, capture_output=True
    )
    checked_in = CONSOLE / "src" / "api" / "schema.d.ts"
    assert fresh.read_text(encoding="utf-8") == checked_in.read_text(encoding="utf-8"), (
        "console/src/api/schema.d.ts is out of date with the API: "
        "run `cd console && npm run api-types`, then fix what `npm run typecheck` reports"
    )
