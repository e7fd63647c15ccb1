"""A separate process scanning one live code from several threads (for the concurrency test).

Usage: python -m tests.growth.scan_worker DATABASE_URL WORKSPACE CODE SCANS THREADS
Prints one JSON line: the group each scan was sent to (null when none).
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import orjson

from shequn.community.service import load_workspace
from shequn.domains import install
from shequn.growth.livecode import do_scan
from shequn.platform.db import make_engine, transaction


def main() -> None:
    url, slug, code, scans, threads = (
        sys.argv[1],
        sys.argv[2],
        sys.argv[3],
        int(sys.argv[4]),
        int(sys.argv[5]),
    )
    install()
    engine = make_engine(url)
    ws = load_workspace(engine, slug)

    def one(i: int) -> str | None:
        with transaction(engine) as conn:
            answer = do_scan(
                conn, ws, code, at=datetime.now(UTC), scanner=f"p{i}", address="127.0.0.1"
            )
        return answer.group

    with ThreadPoolExecutor(threads) as pool:
        groups = list(pool.map(one, range(scans)))
    engine.dispose()
    sys.stdout.write(orjson.dumps(groups).decode() + "\n")


if __name__ == "__main__":
    main()
