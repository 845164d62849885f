"""What every socket shares: who it is, its session's groups, the inbound checks, and sending.

The consumers (live/consumers.py) add the messages. No rules here: the engine has them.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from quizzes_app.hosts import is_host
from sessions_app import engine, languages, metrics, protocol
from sessions_app.audiences import HOST, PLAYER, PLAYERS
from sessions_app.auth import host_from_token
from sessions_app.engine import EngineError
from sessions_app.live import fanout, hub, worker
from sessions_app.protocol import ProtocolError

log = logging.getLogger(__name__)

# Daphne (through autobahn) sends only 1000 and 3000-4999 from an application (django/daphne#374):
# close(1008) there raises, and the client sees 1011. So policy is 4008, the private twin of 1008.
CLOSE_UNAUTHORIZED, CLOSE_KICKED, CLOSE_POLICY = 4401, 4403, 4008
CLOSE_RESUME = 4012  # 1012 "service restart": reconnect and resume (see catch_up)


class RateLimiter:
    """A token bucket per socket; a client that keeps hammering after warnings is closed."""

    def __init__(self) -> None:
        self.rate = settings.KNEWIT["RATE_PER_S"]
        self.capacity = settings.KNEWIT["RATE_BURST"]
        self.tokens = float(self.capacity)
        self.stamp = time.monotonic()
        self.strikes = 0

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.strikes = 0
            return True
        self.strikes += 1
        return False


class SessionGroups:
    """A socket's place in its session: the groups it is in, and what the hub hands it from them."""

    fmt = "json"
    language: str | None = None  # of this socket's person: its `message`s and its page's HTML
    role: str | None = None
    session_pk: int | None = None
    code: str | None = None
    player_pk: int | None = None
    my_groups: list[str]

    async def enter(self, session, role: str, player=None) -> None:
        """Attach this socket to a session's groups (leaving any it was in)."""
        await self.leave_groups()
        self.role, self.session_pk, self.code = role, session.pk, session.code
        if role == PLAYER:
            self.player_pk, self.player_id = player.pk, player.public_id
            audiences = [(PLAYERS, None), (PLAYER, player.public_id)]
        else:
            self.player_pk = None
            audiences = [(HOST, None)]
        self.my_groups = [
            fanout.group_name(session.code, a, pid, fmt=self.fmt, language=self.language)
            for a, pid in audiences
        ]
        for group in self.my_groups:
            await hub.get().join(group, self)

    async def leave_groups(self) -> None:
        groups, self.my_groups = self.my_groups, []
        for group in groups:
            await hub.get().leave(group, self)

    async def session_push(self, event: dict) -> None:
        """A broadcast rendered once elsewhere: forward the text, close if asked."""
        await self.send_text(event["text"])
        if "close" in event:
            await self.leave_groups()
            self.role = None
            await self.close(code=event["close"])

    async def catch_up(self) -> None:
        """Broadcasts to this socket were lost (the channel layer went away): close, so the client
        reconnects and resumes from a snapshot."""
        await self.close(code=CLOSE_RESUME)


class SocketBase(SessionGroups, AsyncWebsocketConsumer):
    """One client. Its role in a session (host or player) is set when it enters the session."""

    # No channel per socket: the worker's hub receives each broadcast once and hands it to its
    # sockets (live/hub.py). An alias with no layer configured is how Channels says so.
    channel_layer_alias = "none"
    counted = False

    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch, minus its hop onto the database thread before every handler.

        That hop closes stale connections; our handlers reach the database only through
        database_sync_to_async, which does the same, and with 2,000 sockets the hop would queue a
        thread switch per frame received behind the answers waiting for that thread.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        if self.language is None:  # the handshake's cookie or Accept-Language, once
            self.language = languages.from_scope(self.scope)
        with translation.override(self.language):  # this socket's task and its database calls
            await handler(message)

    async def connect(self) -> None:
        params = {
            name: values[0] for name, values in parse_qs(self.scope["query_string"].decode("latin1")).items()
        }
        self.host_user = None
        self.my_groups: list[str] = []
        self.limiter = RateLimiter()
        requested = params.get("player_id")
        self.player_id = requested if engine.valid_player_id(requested) else engine.new_player_id()
        await self.accept()
        if self.wants_host(params):
            self.host_user = await self.authenticate_host(params.get("token"))
            if self.host_user is None:
                await self.send_payload(
                    protocol.error("unauthorized", _("Host rights need a login or a host token."))
                )
                await self.close(code=CLOSE_UNAUTHORIZED)
                return
        worker.register_socket(self)
        metrics.sockets.inc()
        self.counted = True
        await self.send_payload(
            protocol.welcome(player_id=self.player_id, is_host=self.host_user is not None)
        )

    def wants_host(self, params: dict) -> bool:
        return params.get("is_host", "").lower() == "true"

    @database_sync_to_async
    def authenticate_host(self, token: str | None):
        if token:
            return host_from_token(token)
        user = self.scope.get("user")
        return user if is_host(user) else None

    async def disconnect(self, code: int) -> None:
        if self.counted:
            metrics.sockets.dec()
            self.counted = False
        await self.leave_groups()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Check the frame, then hand it to on_<type>; every refusal is an error frame, never a close."""
        metrics.messages_in.inc()
        if text_data is None:
            await self.send_payload(
                protocol.error("bad_json", _("Only text frames carrying JSON are accepted."))
            )
            return
        if len(text_data.encode()) > settings.KNEWIT["MAX_FRAME_BYTES"]:
            await self.send_payload(protocol.error("too_large", _("Frames are limited to 4 KiB.")))
            return
        if not self.limiter.allow():
            await self.send_payload(protocol.error("rate_limited", _("Too many messages; slow down.")))
            if self.limiter.strikes > settings.KNEWIT["RATE_STRIKES_BEFORE_CLOSE"]:
                await self.close(code=CLOSE_POLICY)
            return
        msg = None
        try:
            msg = self.parse(text_data)
            self.authorise(msg)
            await self.handle(msg)
        except (ProtocolError, EngineError) as exc:
            ref = exc.ref if isinstance(exc, ProtocolError) else msg.ref
            # str(): a message marked lazily is translated here, in this socket's language.
            await self.send_payload(protocol.error(exc.code, str(exc.message), ref))
        except Exception:
            # Not the client's mistake: the command's transaction rolled back, so a retry is safe.
            log.exception("handling %s failed", msg.type if msg else "a frame")
            await self.send_payload(protocol.internal_error(msg.ref if msg else None))

    def parse(self, text: str) -> protocol.Inbound:
        return protocol.parse_message(text)

    async def handle(self, msg: protocol.Inbound) -> None:
        await getattr(self, "on_" + msg.type.replace(".", "_"))(msg)

    def authorise(self, msg: protocol.Inbound) -> None:
        """Who may send what; the engine checks again that a host owns the session it acts on."""

    async def send_payload(self, payload: dict) -> None:
        await self.send_text(protocol.dumps(payload))

    async def send_text(self, text: str) -> None:
        metrics.messages_out.inc()
        try:
            await self.send(text_data=text)
        except Disconnected:
            pass  # the client is gone (its close is on its way to disconnect()): nobody to tell
        except Exception:
            # Anything else is a fault; one socket's failure must not stop a broadcast to the others.
            log.exception("sending a frame to a %s socket failed", self.role or "new")
