"""A test client that speaks docs/PROTOCOL.md through knewit.asgi.application."""

from __future__ import annotations

import asyncio
import json

from channels.testing import WebsocketCommunicator

from knewit.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST_HEADER = (b"host", b"127.0.0.1:8000")


class Client:
    """A protocol client over a WebsocketCommunicator, with helpers to wait for a message type."""

    def __init__(self, comm: WebsocketCommunicator):
        self.comm = comm
        self.seen: list[dict] = []
        self.welcome: dict | None = None
        self.closed = False

    async def send(self, **message) -> None:
        await self.comm.send_to(text_data=json.dumps(message))

    async def recv(self, timeout: float = 3) -> dict:
        message = json.loads(await self.comm.receive_from(timeout=timeout))
        self.seen.append(message)
        return message

    async def expect(self, msg_type: str, timeout: float = 3, **fields) -> dict:
        """The next message of this type (others are kept in `seen`), with these field values."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.recv(timeout=max(0.01, deadline - loop.time()))
            if message["type"] == msg_type and all(message.get(k) == v for k, v in fields.items()):
                return message

    async def expect_any(self, types: tuple[str, ...], timeout: float = 3) -> dict:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.recv(timeout=max(0.01, deadline - loop.time()))
            if message["type"] in types:
                return message

    async def error(self, code: str, timeout: float = 3) -> dict:
        return await self.expect("error", timeout=timeout, code=code)

    async def call(self, expect: str, **message) -> dict:
        await self.send(**message)
        return await self.expect(expect)

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.comm.disconnect()


async def open_client(query: str = "", headers: list | None = None) -> Client:
    headers = [ORIGIN, HOST_HEADER] if headers is None else headers
    comm = WebsocketCommunicator(application, f"/ws?{query}" if query else "/ws", headers=headers)
    connected, _ = await comm.connect()
    assert connected
    client = Client(comm)
    client.welcome = await client.recv()
    return client
