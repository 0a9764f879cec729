"""The baseline of bench_locust_overhead.py: a bare FastHttpUser on the same route as the harness,
with no recorder, no checks and no think time."""

from __future__ import annotations

import os
import random

from locust import FastHttpUser, task

from generators.catalogue import CATALOGUE


class BareDepositoUser(FastHttpUser):
    host = os.environ["BENCH_DEPOSITO_URL"]

    def on_start(self) -> None:
        answer = self.client.post("/auth/login", json={"username": "admin", "password": "test"}, name="login")
        self.client.auth_header = f"Bearer {answer.json()['access_token']}"

    @task
    def product_get(self) -> None:
        self.client.get(f"/productos/{random.choice(CATALOGUE).id}", name="deposito GET /productos/{id}")
