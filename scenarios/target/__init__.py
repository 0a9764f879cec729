"""The description of a target and how it answers: profiles, target resolution and secrets, discovery,
login, the deployment's own facts, the one classifier of answers. Plain httpx, no Locust: smoke, chaos,
the load and the CLI share it.
"""
