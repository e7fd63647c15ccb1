"""Print Shequn's OpenAPI document as JSON, from the app itself (no server needed).

The console's typed client is generated from it: `npm run api-types`."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from shequn.platform.db import make_engine
from shequn.platform.migrate import upgrade
from shequn.settings import Settings
from shequn.web.app import create_app


def main() -> None:
    # The app reads its database when it starts (metrics): an empty one made for the purpose.
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'openapi.db'}"
        settings = Settings(database_url=url)
        upgrade(settings)
        engine = make_engine(url)
        try:
            schema = create_app(settings, engine).openapi()
        finally:
            engine.dispose()
    json.dump(schema, sys.stdout, ensure_ascii=False, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
