"""Traffic models, load shapes, checks and chaos plans.

Importing this package does not import Locust (which monkey-patches gevent): only the modules the
locustfile loads do, so the CLI can use profiles, smoke checks and chaos without it.
"""
