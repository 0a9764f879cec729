"""Container healthcheck: exit 0 when the service answers its readiness route with 200.

The route is the contract's own (``/health`` for the intended agents; the as-built agents keep
``/health`` behind a JWT, so their readiness route is one that needs none). Standard library
only besides the contract lookup, and a short timeout, so a paused or wedged service fails fast.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from reference_stack._contracts import load_contract

TIMEOUT_S = 3.0


def main() -> int:
    service = os.environ["SERVICE"]
    path = load_contract(os.environ.get("CONTRACT", "intended")).ready_path(service)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{os.environ['PORT']}{path}", timeout=TIMEOUT_S) as answer:
            return 0 if answer.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
