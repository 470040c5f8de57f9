"""The image's HEALTHCHECK: `GET http://127.0.0.1:$PORT/healthz` answers 200 "ok".

    python /app/deploy/healthcheck.py

Exit 0 when healthy, 1 otherwise with one line saying why (Docker keeps it in
`docker inspect`). PORT is read as `certdesk serve` reads it (default 3000). Only the
standard library: the slim image has no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORT = "3000"
TIMEOUT = 3.0   # seconds; below the Dockerfile's --timeout


def main() -> int:
    port = os.environ.get("PORT", "").strip() or DEFAULT_PORT
    url = f"http://127.0.0.1:{port}/healthz"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with opener.open(url, timeout=TIMEOUT) as response:
            status, body = response.status, response.read(64)
    except urllib.error.HTTPError as error:
        print(f"unhealthy: {url} answered {error.code}")
        return 1
    except (OSError, ValueError) as error:
        print(f"unhealthy: {url}: {getattr(error, 'reason', None) or error}")
        return 1
    if status != 200 or body.strip() != b"ok":
        print(f"unhealthy: {url} answered {status} {body[:20]!r}, not ok")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
