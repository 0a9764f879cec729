"""The one ASGI idiom the model's middleware shares: watch (and extend) the response start."""

from __future__ import annotations

from reference_stack._http import Message, Send

Header = tuple[bytes, bytes]


class ResponseTap:
    """A ``send`` that remembers the response status and appends ``headers`` to the response start.

    ``status`` stays 500 when the app raised before answering: that is what the client will get.
    """

    def __init__(self, send: Send, headers: list[Header] | None = None) -> None:
        self.send = send
        self.headers = headers or []
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            if self.headers:
                message["headers"] = [*message.get("headers", []), *self.headers]
        await self.send(message)
