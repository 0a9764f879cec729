"""stagegate's locustfile, as a user runs it from a checkout: ``locust -f locustfiles/staging.py``.

    locust -f locustfiles/staging.py                      # web UI, local reference stack
    locust -f locustfiles/staging.py --headless -u 20 -t 2m --scenario steady --results-dir out/
    locust -f locustfiles/staging.py --headless --processes 2 -t 60s --profile as-built

The locustfile itself ships in the package (``scenarios/load/locustfile.py``: users, shape, options,
listeners), so an installed stagegate needs no source tree; this entry only imports it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from scenarios.load.locustfile import *  # Locust finds the users and the shape it exports
