"""The two sockets: `/ws` speaks docs/PROTOCOL.md in JSON; `/ws/page/...` is the pages' (HTML out).

Each message is parsed and authorised in SocketBase.receive, then run here as an engine command; the
outcome's reply goes to this socket and its events to live/effects.py.
"""

from __future__ import annotations

import functools
import time

from channels.db import database_sync_to_async
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sessions_app import engine, metrics, protocol, throttle
from sessions_app.audiences import HOST, PLAYER
from sessions_app.auth import rejoin_cookie_name
from sessions_app.engine import EngineError, Outcome
from sessions_app.live import answer_batch, effects, fanout, presence
from sessions_app.live.sockets import CLOSE_KICKED, SocketBase
from sessions_app.models import GameSession, Player
from sessions_app.protocol import ProtocolError
from sessions_app.web import pages, render

# Host commands on the socket's session: message type -> (engine command, its arguments from the message).
HOST_COMMANDS = {
    "quiz.load": ("quiz_load", lambda m: {"quiz_id": m.quiz_id, "data": m.quiz}),
    "quiz.start": ("quiz_start", lambda m: {"now": timezone.now()}),
    "question.next": ("question_next", lambda m: {"now": timezone.now()}),
    "question.end": ("question_end", lambda m: {"now": timezone.now()}),
    "quiz.stop": ("quiz_stop", lambda m: {"now": timezone.now()}),
    "session.lock": ("session_lock", lambda m: {"locked": True}),
    "session.unlock": ("session_lock", lambda m: {"locked": False}),
    "session.close": ("session_close", lambda m: {"now": timezone.now()}),
    "player.kick": ("player_kick", lambda m: {"player_id": m.player_id}),
    "player.accommodate": (
        "player_accommodate",
        lambda m: {"player_id": m.player_id, "time_factor": m.time_factor, "now": timezone.now()},
    ),
    "question.revote": ("question_revote", lambda m: {"now": timezone.now()}),
}
SESSIONLESS_HOST_MESSAGES = {"session.create", "quiz.list", "quiz.save"}


class LiveConsumer(SocketBase):
    """`/ws`: one message, one engine command; a repeated msg_id gets the first reply again."""

    def authorise(self, msg: protocol.Inbound) -> None:
        if msg.role == protocol.HOST:
            if self.host_user is None or self.role == PLAYER:
                raise ProtocolError("forbidden", _("Only the host may do that."), msg.ref)
            if msg.type not in SESSIONLESS_HOST_MESSAGES and self.role != HOST:
                raise ProtocolError("wrong_state", _("Create or resume a session first."), msg.ref)
        elif msg.role == protocol.PLAYER and self.role != PLAYER:
            if self.role == HOST:
                raise ProtocolError("forbidden", _("The host does not answer questions."), msg.ref)
            raise ProtocolError("wrong_state", _("Join a session first."), msg.ref)

    async def handle(self, msg: protocol.Inbound) -> None:
        if msg.type in HOST_COMMANDS:
            await self.host_command(msg)
        else:
            await super().handle(msg)

    async def run(self, fn, **kwargs) -> Outcome:
        """An engine command in the database thread; raises its EngineError."""
        return await database_sync_to_async(fn)(**kwargs)

    async def finish(self, outcome: Outcome, enter_as: str | None = None) -> None:
        """Join the session's groups if asked, reply to this socket, then broadcast."""
        if enter_as is not None and outcome.session is not None:
            await self.enter(outcome.session, enter_as, outcome.player)
        if outcome.reply is not None:
            await self.send_payload(outcome.reply)
        await effects.dispatch(outcome.events)

    async def remembered(self, actor: str, msg: protocol.Inbound, apply, session_pk=None) -> Outcome:
        """A state-changing command, applied once per (actor, msg_id)."""
        return await self.run(
            engine.remembered, actor=actor, msg_id=msg.msg_id, session_pk=session_pk, apply=apply
        )

    async def host_command(self, msg: protocol.Inbound) -> None:
        """One of HOST_COMMANDS, on this socket's session."""
        name, arguments = HOST_COMMANDS[msg.type]
        apply = functools.partial(
            getattr(engine, name), session_pk=self.session_pk, host=self.host_user, **arguments(msg)
        )
        await self.finish(await self.remembered(f"host:{self.session_pk}", msg, apply, self.session_pk))

    async def on_session_create(self, msg: protocol.SessionCreate) -> None:
        apply = functools.partial(
            engine.session_create, host=self.host_user, quiz_id=msg.quiz_id,
            raw_settings=msg.settings, site_url=self.site_url(),
        )  # fmt: skip
        await self.finish(await self.remembered(f"user:{self.host_user.pk}", msg, apply), enter_as=HOST)

    async def on_quiz_list(self, msg: protocol.QuizList) -> None:
        await self.finish(await self.run(engine.quiz_list, host=self.host_user))

    async def on_quiz_save(self, msg: protocol.QuizSave) -> None:
        apply = functools.partial(engine.quiz_save, host=self.host_user, data=msg.quiz)
        await self.finish(await self.remembered(f"user:{self.host_user.pk}", msg, apply))

    async def on_session_join(self, msg: protocol.SessionJoin) -> None:
        address = (self.scope.get("client") or ["unknown"])[0]
        if await database_sync_to_async(throttle.pin_guessing_blocked)(address):
            raise ProtocolError("rate_limited", str(throttle.BLOCKED_MESSAGE), msg.ref)
        try:
            outcome = await self.run(
                engine.player_join, code=msg.session_id, raw_name=msg.name, password=msg.password,
                requested_id=self.player_id, msg_id=msg.msg_id, now=timezone.now(),
            )  # fmt: skip
        except EngineError as exc:
            if exc.code in throttle.GUESS_CODES:
                await database_sync_to_async(throttle.record_wrong_pin)(address, msg.session_id)
            raise
        await self.finish(outcome, enter_as=PLAYER)

    async def on_session_resume(self, msg: protocol.SessionResume) -> None:
        if msg.rejoin_token:
            resume = functools.partial(engine.player_resume, rejoin_token=msg.rejoin_token)
            role = PLAYER
        elif self.host_user is not None:
            resume, role = functools.partial(engine.host_resume, host=self.host_user), HOST
        else:
            raise ProtocolError("invalid", _("`session.resume` needs a `rejoin_token`."), msg.ref)
        await self.finish(await self.run(resume, code=msg.session_id, now=timezone.now()), enter_as=role)

    async def on_answer_submit(self, msg: protocol.AnswerSubmit) -> None:
        started = time.monotonic()
        attempt = engine.AnswerAttempt(
            session_pk=self.session_pk, player_pk=self.player_pk, answer=msg.answer,
            msg_id=msg.msg_id, now=timezone.now(),
        )  # fmt: skip
        try:
            await self.finish(await answer_batch.submit_answer(attempt))
        finally:
            metrics.answer_seconds.observe(time.monotonic() - started)

    async def on_ping(self, msg: protocol.Ping) -> None:
        await self.send_payload(protocol.pong(ts=msg.ts))

    async def on_pong(self, msg: protocol.Pong) -> None:
        if self.role == PLAYER and msg.ts is not None:
            presence.record_heartbeat(self.player_pk, round(time.time() * 1000 - msg.ts))

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if self.role == PLAYER and self.player_pk is not None:
            # A clean close: show the player away now rather than after the heartbeat timeout.
            await database_sync_to_async(engine.player_left)(player_pk=self.player_pk, now=timezone.now())
            await effects.dispatch([engine.Refresh(self.session_pk, self.code, "host_lobby")])

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

    fmt = fanout.HTML

    def wants_host(self, params: dict) -> bool:
        return self.scope["url_route"]["kwargs"]["role"] == "host"  # authenticated by its login cookie

    async def connect(self) -> None:
        await super().connect()
        if self.host_user is None and self.wants_host({}):
            return  # refused and closed by SocketBase.connect
        try:
            outcome, role, html = await database_sync_to_async(self.resume)()
        except EngineError as exc:
            await self.send_payload(protocol.error(exc.code, str(exc.message)))
            await self.close(code=CLOSE_KICKED if exc.code in ("kicked", "forbidden") else 1000)
            return
        await self.enter(outcome.session, role, outcome.player)
        await self.send_text(html)
        await effects.dispatch(outcome.events)

    def resume(self) -> tuple[Outcome, str, str]:
        """Who this page is, from its URL and cookies, and every region of it, drawn afresh (in this
        socket's language, which from now on is among those its broadcasts are rendered in)."""
        code, now = self.scope["url_route"]["kwargs"]["code"], timezone.now()
        if self.wants_host({}):
            outcome = engine.host_resume(code=code, host=self.host_user, now=now)
            pages.page_opened(outcome.session.pk, HOST, self.language, session=outcome.session)
            return outcome, HOST, render.host_page_regions(outcome.session, now)
        token = self.scope.get("cookies", {}).get(rejoin_cookie_name(code), "")
        outcome = engine.player_resume(code=code, rejoin_token=token, now=now, snapshot=False)
        pages.page_opened(
            outcome.session.pk, PLAYER, self.language, outcome.player.pk,
            session=outcome.session, player=outcome.player,
        )  # fmt: skip
        return outcome, PLAYER, render.player_page_regions(outcome.session, outcome.player, now)

    async def catch_up(self) -> None:
        """A page needs no reconnect: every region is drawn again from the database."""
        if self.role is not None:
            await self.send_text(await database_sync_to_async(self.page_regions)())

    def page_regions(self) -> str:
        """Called by the hub, not by this socket's own messages: so in its language explicitly."""
        session = GameSession.objects.select_related("quiz", "current_question").get(pk=self.session_pk)
        with translation.override(self.language):
            if self.role == HOST:
                return render.host_page_regions(session, timezone.now())
            return render.player_page_regions(session, Player.objects.get(pk=self.player_pk), timezone.now())

    def parse(self, text: str) -> protocol.Inbound:
        return protocol.parse_form_message(text)

    async def send_payload(self, payload: dict) -> None:
        """Replies to this socket, as HTML; welcome and pong have no use on a page."""
        html = render.personal_html(payload)
        if html:
            await self.send_text(html)
