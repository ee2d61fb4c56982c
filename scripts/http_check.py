"""``python scripts/http_check.py URL...``: exit 0 when every URL answers
2xx, else print the first failure and exit 1. The containers' health check
(docker-compose.yml); the image has Python but no curl."""

import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5


def main(urls: list[str]) -> int:
    for url in urls:
        try:
            # Only the fixed http:// URLs of docker-compose.yml reach here.
            with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    print(f"{url}: HTTP {response.status}", file=sys.stderr)
                    return 1
        except (urllib.error.URLError, OSError) as exc:
            print(f"{url}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
