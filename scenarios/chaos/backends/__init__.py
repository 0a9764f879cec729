"""Chaos backends, one module each, all implementing ``base.ChaosBackend``."""
