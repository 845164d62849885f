"""The `/ws` socket of docs/PROTOCOL.md: authorise, parse, call the engine, forward ready text."""

from __future__ import annotations

import functools
import inspect
import logging
import time
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from quizzes_app.hosts import is_host
from sessions_app import broadcast, engine, hub, metrics, protocol, render, scheduler, throttle
from sessions_app.auth import host_from_token
from sessions_app.engine import HOST, PLAYER, PLAYERS, EngineError, Outcome
from sessions_app.models import GameSession, Player
from sessions_app.protocol import ProtocolError

log = logging.getLogger(__name__)

# Daphne (through autobahn) sends only 1000 and 3000-4999 from an application (django/daphne#374):
# close(1008) there raises, and the client sees 1011. So policy is 4008, the private twin of 1008.
CLOSE_UNAUTHORIZED, CLOSE_KICKED, CLOSE_POLICY = 4401, 4403, 4008
CLOSE_RESUME = 4012  # 1012 "service restart": reconnect and resume (see catch_up)


def rejoin_cookie_name(code: str) -> str:
    """The page keeps a student's rejoin token in an HttpOnly cookie per session."""
    return f"knewit_rejoin_{code}"


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


class LiveConsumer(AsyncWebsocketConsumer):
    """One client. Its role in a session (host or player) is set by create, join or resume."""

    fmt = "json"
    # No channel per socket: the worker's hub receives each broadcast once and hands it to its
    # sockets (sessions_app/hub.py). An alias with no layer configured is how Channels says so.
    channel_layer_alias = "none"

    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch, minus its hop onto the database thread before every handler.

        That hop closes stale connections; our handlers reach the database only through
        database_sync_to_async, which does the same, and a push only forwards text: with 2,000
        sockets the hop would queue 2,000 thread switches behind the answers for every broadcast.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        params = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        if self.fmt == broadcast.HTML and self.scope["url_route"]["kwargs"]["role"] == "host":
            params["is_host"] = ["true"]  # a page's host socket is authenticated by its login cookie
        self.host_user = None
        self.role: str | None = None
        self.session_pk: int | None = None
        self.code: str | None = None
        self.player_pk: int | None = None
        self.my_groups: list[str] = []
        self.last_error: str | None = None
        self.limiter = RateLimiter()
        requested = (params.get("player_id") or [None])[0]
        self.player_id = requested if engine.valid_player_id(requested) else engine.new_player_id()
        await self.accept()
        if (params.get("is_host") or [""])[0].lower() == "true":
            self.host_user = await self.authenticate_host((params.get("token") or [None])[0])
            if self.host_user is None:
                await self.send_payload(
                    protocol.error("unauthorized", "Host rights need a login or a host token.")
                )
                await self.close(code=CLOSE_UNAUTHORIZED)
                return
        scheduler.register_socket(self)
        metrics.sockets.inc()
        self.counted = True
        await self.send_payload(
            protocol.welcome(player_id=self.player_id, is_host=self.host_user is not None)
        )

    @database_sync_to_async
    def authenticate_host(self, token: str | None):
        if token:
            return host_from_token(token)
        user = self.scope.get("user")
        return user if is_host(user) else None

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            metrics.sockets.dec()
            self.counted = False
        await self.leave_groups()
        if self.role == PLAYER and self.player_pk is not None:
            await database_sync_to_async(engine.player_left)(player_pk=self.player_pk, now=timezone.now())
            await broadcast.dispatch([engine.Refresh(self.session_pk, self.code, "host_lobby")])

    # --- inbound ------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        metrics.messages_in.inc()
        if text_data is None:
            await self.send_payload(
                protocol.error("bad_json", "Only text frames carrying JSON are accepted.")
            )
            return
        if len(text_data.encode()) > settings.KNEWIT["MAX_FRAME_BYTES"]:
            await self.send_payload(protocol.error("too_large", "Frames are limited to 4 KiB."))
            return
        if not self.limiter.allow():
            await self.send_payload(protocol.error("rate_limited", "Too many messages; slow down."))
            if self.limiter.strikes > settings.KNEWIT["RATE_STRIKES_BEFORE_CLOSE"]:
                await self.close(code=CLOSE_POLICY)
            return
        try:
            msg = self.parse(text_data)
            self.authorise(msg)
        except ProtocolError as exc:
            await self.send_payload(protocol.error(exc.code, exc.message, exc.ref))
            return
        handler = getattr(self, "on_" + msg.type.replace(".", "_"))
        try:
            await handler(msg)
        except Exception:
            # Not the client's mistake: the command's transaction rolled back, so a retry is safe.
            log.exception("handling %s failed", msg.type)
            await self.send_payload(protocol.internal_error(msg.ref))

    def parse(self, text: str) -> protocol.Inbound:
        return protocol.parse_message(text)

    def authorise(self, msg: protocol.Inbound) -> None:
        """Who may send what; the engine checks again that a host owns the session it acts on."""
        if msg.role == protocol.HOST:
            if self.host_user is None or self.role == PLAYER:
                raise ProtocolError("forbidden", "Only the host may do that.", msg.ref)
            sessionless = {"session.create", "quiz.list", "quiz.save"}
            if msg.type not in sessionless and self.role != HOST:
                raise ProtocolError("wrong_state", "Create or resume a session first.", msg.ref)
        elif msg.role == protocol.PLAYER and self.role != PLAYER:
            if self.role == HOST:
                raise ProtocolError("forbidden", "The host does not answer questions.", msg.ref)
            raise ProtocolError("wrong_state", "Join a session first.", msg.ref)

    async def run(self, msg: protocol.Inbound, fn, enter_as: str | None = None, **kwargs) -> Outcome | None:
        """Run an engine command; join the session's groups if asked; reply; broadcast.

        `fn` is an engine function, run in the database thread, or a coroutine function that takes
        the command there itself (answers, recorded in batches by the scheduler).
        """
        self.last_error = None
        call = fn if inspect.iscoroutinefunction(fn) else database_sync_to_async(fn)
        try:
            outcome = await call(**kwargs)
        except EngineError as exc:
            self.last_error = exc.code
            await self.send_payload(protocol.error(exc.code, exc.message, msg.ref))
            return None
        if enter_as is not None and outcome.session is not None:
            await self.enter(outcome.session, enter_as, outcome.player)
        if outcome.reply is not None:
            await self.send_payload(outcome.reply)
        await broadcast.dispatch(outcome.events)
        return outcome

    async def host_command(self, msg: protocol.Inbound, fn, **kwargs) -> None:
        """A host message on this socket's session, applied once per msg_id."""
        apply = functools.partial(fn, session_pk=self.session_pk, host=self.host_user, **kwargs)
        actor = f"host:{self.session_pk}"
        await self.run(
            msg, engine.remembered, actor=actor, msg_id=msg.msg_id, session_pk=self.session_pk, apply=apply
        )

    async def on_session_create(self, msg: protocol.SessionCreate) -> None:
        apply = functools.partial(
            engine.session_create, host=self.host_user, quiz_id=msg.quiz_id,
            raw_settings=msg.settings, site_url=self.site_url(),
        )  # fmt: skip
        actor = f"user:{self.host_user.pk}"
        await self.run(
            msg,
            engine.remembered,
            enter_as=HOST,
            actor=actor,
            msg_id=msg.msg_id,
            session_pk=None,
            apply=apply,
        )

    async def on_quiz_list(self, msg: protocol.QuizList) -> None:
        await self.run(msg, engine.quiz_list, host=self.host_user)

    async def on_quiz_save(self, msg: protocol.QuizSave) -> None:
        apply = functools.partial(engine.quiz_save, host=self.host_user, data=msg.quiz)
        actor = f"user:{self.host_user.pk}"
        await self.run(msg, engine.remembered, actor=actor, msg_id=msg.msg_id, session_pk=None, apply=apply)

    async def on_quiz_load(self, msg: protocol.QuizLoad) -> None:
        await self.host_command(msg, engine.quiz_load, quiz_id=msg.quiz_id, data=msg.quiz)

    async def on_session_join(self, msg: protocol.SessionJoin) -> None:
        address = (self.scope.get("client") or ["unknown"])[0]
        if await database_sync_to_async(throttle.pin_guessing_blocked)(address):
            await self.send_payload(protocol.error("rate_limited", throttle.BLOCKED_MESSAGE, msg.ref))
            return
        await self.run(
            msg, engine.player_join, enter_as=PLAYER, code=msg.session_id, raw_name=msg.name,
            password=msg.password, requested_id=self.player_id, msg_id=msg.msg_id, now=timezone.now(),
        )  # fmt: skip
        if self.last_error in throttle.GUESS_CODES:
            await database_sync_to_async(throttle.record_wrong_pin)(address, msg.session_id)

    async def on_session_resume(self, msg: protocol.SessionResume) -> None:
        if msg.rejoin_token:
            await self.run(
                msg, engine.player_resume, enter_as=PLAYER, code=msg.session_id,
                rejoin_token=msg.rejoin_token, now=timezone.now(),
            )  # fmt: skip
        elif self.host_user is not None:
            await self.run(
                msg,
                engine.host_resume,
                enter_as=HOST,
                code=msg.session_id,
                host=self.host_user,
                now=timezone.now(),
            )
        else:
            await self.send_payload(
                protocol.error("invalid", "`session.resume` needs a `rejoin_token`.", msg.ref)
            )

    async def on_quiz_start(self, msg: protocol.Inbound) -> None:
        await self.host_command(msg, engine.quiz_start, now=timezone.now())

    async def on_question_next(self, msg: protocol.Inbound) -> None:
        await self.host_command(msg, engine.question_next, now=timezone.now())

    async def on_question_end(self, msg: protocol.Inbound) -> None:
        await self.host_command(msg, engine.question_end, now=timezone.now())

    async def on_quiz_stop(self, msg: protocol.Inbound) -> None:
        await self.host_command(msg, engine.quiz_stop, now=timezone.now())

    async def on_session_lock(self, msg: protocol.Inbound) -> None:
        await self.host_command(msg, engine.session_lock, locked=True)

    async def on_session_unlock(self, msg: protocol.Inbound) -> None:
        await self.host_command(msg, engine.session_lock, locked=False)

    async def on_session_close(self, msg: protocol.Inbound) -> None:
        await self.host_command(msg, engine.session_close, now=timezone.now())

    async def on_player_kick(self, msg: protocol.PlayerKick) -> None:
        await self.host_command(msg, engine.player_kick, player_id=msg.player_id)

    async def on_answer_submit(self, msg: protocol.AnswerSubmit) -> None:
        started = time.monotonic()
        attempt = engine.AnswerAttempt(
            session_pk=self.session_pk, player_pk=self.player_pk, answer_idx=msg.answer_idx,
            msg_id=msg.msg_id, now=timezone.now(),
        )  # fmt: skip
        await self.run(msg, scheduler.submit_answer, attempt=attempt)
        metrics.answer_seconds.observe(time.monotonic() - started)

    async def on_ping(self, msg: protocol.Ping) -> None:
        await self.send_payload(protocol.pong(ts=msg.ts))

    async def on_pong(self, msg: protocol.Pong) -> None:
        if self.role != PLAYER or msg.ts is None:
            return
        scheduler.record_heartbeat(self.player_pk, round(time.time() * 1000 - msg.ts))

    # --- groups and outbound ------------------------------------------------------------

    async def enter(self, session, role: str, player=None) -> None:
        """Attach this socket to a session's groups (leaving any it was in)."""
        await self.leave_groups()
        self.role, self.session_pk, self.code = role, session.pk, session.code
        if role == PLAYER:
            self.player_pk, self.player_id = player.pk, player.public_id
            groups = [
                broadcast.group_name(session.code, PLAYERS, fmt=self.fmt),
                broadcast.group_name(session.code, PLAYER, player.public_id, fmt=self.fmt),
            ]
        else:
            self.player_pk = None
            groups = [broadcast.group_name(session.code, HOST, fmt=self.fmt)]
        self.my_groups = groups
        for group in groups:
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
        """Broadcasts to this socket were lost (the channel layer went away): resume to catch up.

        A protocol client reconnects after any close and resumes from a snapshot.
        """
        await self.close(code=CLOSE_RESUME)

    async def send_payload(self, payload: dict) -> None:
        await self.send_text(protocol.dumps(payload))

    async def send_text(self, text: str) -> None:
        metrics.messages_out.inc()
        try:
            await self.send(text_data=text)
        except Exception:
            # Daphne drops frames for a closed socket without raising, so this is a real fault; one
            # socket's failure must not stop a broadcast to the others.
            log.exception("sending a frame to a %s socket failed", self.role or "new")

    def site_url(self) -> str:
        headers = dict(self.scope.get("headers", []))
        host = headers.get(b"host", b"127.0.0.1:8000").decode("latin1")
        scheme = "https" if self.scope.get("scheme") == "wss" else "http"
        return f"{scheme}://{host}"


class PageConsumer(LiveConsumer):
    """The browser pages' socket: the same inbound messages (sent by htmx forms), HTML fragments out.

    It needs no join or resume message: the page's URL names the session, and the login (host) or
    the rejoin-token cookie (student) says who this is, so a reconnect resumes by itself.
    """

    fmt = broadcast.HTML

    async def connect(self) -> None:
        await super().connect()
        if self.host_user is None and self.scope["url_route"]["kwargs"]["role"] == "host":
            return
        code = self.scope["url_route"]["kwargs"]["code"]
        now = timezone.now()
        try:
            if self.scope["url_route"]["kwargs"]["role"] == "host":
                outcome = await database_sync_to_async(engine.host_resume)(
                    code=code, host=self.host_user, now=now
                )
                await database_sync_to_async(engine.host_page_opened)(session_pk=outcome.session.pk)
                role, html = (
                    HOST,
                    await database_sync_to_async(render.host_page_regions)(outcome.session, now),
                )
            else:
                token = self.scope.get("cookies", {}).get(rejoin_cookie_name(code), "")
                outcome = await database_sync_to_async(engine.player_resume)(
                    code=code, rejoin_token=token, now=now
                )
                role = PLAYER
                html = await database_sync_to_async(render.player_page_regions)(
                    outcome.session, outcome.player, now
                )
        except EngineError as exc:
            await self.send_payload(protocol.error(exc.code, exc.message))
            await self.close(code=CLOSE_KICKED if exc.code in ("kicked", "forbidden") else 1000)
            return
        await self.enter(outcome.session, role, outcome.player)
        await self.send_text(html)
        await broadcast.dispatch(outcome.events)

    async def catch_up(self) -> None:
        """A page needs no reconnect: every region is drawn again from the database."""
        if self.role is not None:
            await self.send_text(await database_sync_to_async(self.page_regions)())

    def page_regions(self) -> str:
        session = GameSession.objects.select_related("quiz", "current_question").get(pk=self.session_pk)
        if self.role == HOST:
            return render.host_page_regions(session, timezone.now())
        player = Player.objects.get(pk=self.player_pk)
        return render.player_page_regions(session, player, timezone.now())

    def parse(self, text: str) -> protocol.Inbound:
        return protocol.parse_form_message(text)

    async def send_payload(self, payload: dict) -> None:
        """Replies to this socket, as HTML; welcome and pong have no use on a page."""
        html = render.personal_html(payload)
        if html:
            await self.send_text(html)
