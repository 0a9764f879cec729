"""The Locust side: users, the load shape, the recorder, the health watcher, the ledger tracker, the live abort.

Every module here may import Locust (which monkey-patches gevent); only the locustfile and the Locust
process import this package (an import-linter contract keeps Locust and gevent out of everything else).
``traffic`` is what a locustfile imports; ``install`` makes a Locust environment a stagegate run.
"""
