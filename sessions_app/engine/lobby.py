"""Sessions and their players: create, load a quiz, lock, close, kick, join, resume, presence."""

from __future__ import annotations

import functools
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_lazy

from quizzes_app.io import QuizFormatError, quiz_from_dict
from quizzes_app.models import Quiz, quiz_problems
from sessions_app import protocol, selectors
from sessions_app.engine.events import ALL, PLAYER, EngineError, Outcome, Push, Refresh
from sessions_app.engine.session_settings import DEFAULT_MAX_PLAYERS, clean_settings
from sessions_app.models import GameSession, Player, ProcessedMessage, hash_secret, new_secret

log = logging.getLogger(__name__)
State = GameSession.State


NAME_MAX = 20


PLAYER_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def clean_name(raw: str) -> str:
    """Names are 1 to 20 characters after trimming."""
    name = raw.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise EngineError("invalid", gettext_lazy("Names are 1 to %(max)s characters."), max=NAME_MAX)
    if any(not ch.isprintable() for ch in name):
        raise EngineError("invalid", gettext_lazy("Names cannot contain control characters."))
    return name


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def quiz_list(*, host) -> Outcome:
    quizzes = selectors.quizzes_for_host(host)
    items = [
        protocol.quiz_summary(None, quiz_id=q.pk, title=q.title, num_questions=q.num_questions)
        for q in quizzes
    ]
    return Outcome(reply=protocol.quiz_list(quizzes=items))


def quiz_save(*, host, data: dict) -> Outcome:
    quiz = _save_quiz(host, data)
    return Outcome(reply=_quiz_summary("quiz.saved", quiz))


def _save_quiz(host, data: dict) -> Quiz:
    try:
        return quiz_from_dict(data, owner=host)
    except QuizFormatError as exc:
        raise EngineError("invalid", str(exc)) from None


def _quiz_summary(msg_type: str, quiz: Quiz) -> dict:
    return protocol.quiz_summary(
        msg_type, quiz_id=quiz.pk, title=quiz.title, num_questions=quiz.questions.count()
    )


def _host_quiz(host, quiz_id: int) -> Quiz:
    """One of this host's quizzes, if it can be played."""
    quiz = selectors.quizzes_for_host(host).filter(pk=quiz_id).first()
    if quiz is None:
        raise EngineError("not_found", gettext_lazy("No quiz %(id)s of yours."), id=quiz_id)
    check_playable(quiz.pk)
    return quiz


def check_playable(quiz_id: int) -> None:
    """Refuse a quiz with a question that could not be played, naming the question."""
    problems = quiz_problems(quiz_id)
    if problems:
        raise EngineError(
            "invalid",
            gettext_lazy("This quiz cannot be played yet. %(problems)s"),
            problems=" ".join(problems),
        )


def session_create(*, host, quiz_id: int | None, raw_settings: dict, site_url: str) -> Outcome:
    """A new session in the lobby, owned by this host, with a fresh 6-digit code."""
    session_settings = clean_settings(raw_settings)
    quiz = _host_quiz(host, quiz_id) if quiz_id is not None else None
    password = session_settings.pop("password")
    for _ in range(50):
        try:
            with transaction.atomic():
                session = GameSession.objects.create(
                    code=new_code(), quiz=quiz, host=host, settings=session_settings,
                    password_hash=make_password(password) if password else "",
                )  # fmt: skip
            break
        except IntegrityError:
            continue  # the code is in use by an open session; draw again
    else:
        raise EngineError("full", gettext_lazy("No free join code; try again."))
    join_url = f"{site_url}/join/{session.code}/"
    return Outcome(
        reply=protocol.session_created(session_id=session.code, join_url=join_url), session=session
    )


def host_session(*, session_pk: int, host, lock: bool = True) -> GameSession:
    """The session, if this host owns it; locked for the rest of the transaction."""
    qs = GameSession.objects.select_related("quiz", "current_question")
    if lock:
        qs = qs.select_for_update(of=("self",))
    session = qs.filter(pk=session_pk).first()
    if session is None:
        raise EngineError("not_found", gettext_lazy("No such session."))
    if session.host_id != host.pk:
        raise EngineError("forbidden", gettext_lazy("Only this session's host may do that."))
    return session


def quiz_load(*, session_pk: int, host, quiz_id: int | None, data: dict | None) -> Outcome:
    if quiz_id is None and data is None:
        raise EngineError("invalid", gettext_lazy("`quiz.load` needs `quiz_id` or `quiz`."))
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state != State.LOBBY:
            raise EngineError("wrong_state", gettext_lazy("A quiz can only be loaded in the lobby."))
        quiz = _host_quiz(host, quiz_id) if quiz_id is not None else _save_quiz(host, data)
        session.quiz = quiz
        session.save(update_fields=["quiz"])
        return Outcome(events=[Push(session.code, ALL, _quiz_summary("quiz.loaded", quiz))])


def session_lock(*, session_pk: int, host, locked: bool) -> Outcome:
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state == State.FINISHED:
            raise EngineError("wrong_state", gettext_lazy("The session is over."))
        GameSession.objects.filter(pk=session.pk).update(locked=locked)
        return Outcome(events=[Refresh(session.pk, session.code, "lobby")])


def session_close(*, session_pk: int, host, now: datetime) -> Outcome:
    """End the session for everyone; results stay, the code is freed."""
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        GameSession.objects.filter(pk=session.pk).update(
            state=State.FINISHED, closed_at=now, finished_at=session.finished_at or now, advance_at=None
        )
        payload = protocol.session_closed(reason="The host closed the session.")
        return Outcome(events=[Push(session.code, ALL, payload, close_code=1000)])


def player_kick(*, session_pk: int, host, player_id: str) -> Outcome:
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        updated = Player.objects.filter(session=session, public_id=player_id).update(kicked=True)
        if not updated:
            raise EngineError("not_found", gettext_lazy("No such player in this session."))
        payload = protocol.kicked(reason="The host removed you from the game.")
        return Outcome(
            events=[
                Push(session.code, PLAYER, payload, player_id=player_id, close_code=4403),
                Refresh(session.pk, session.code, "lobby"),
            ]
        )


def player_join(
    *, code: str, raw_name: str, password: str | None, requested_id: str | None, msg_id: str | None,
    now: datetime, language: str = "",
) -> Outcome:  # fmt: skip
    """Join an open session by code; the rejoin token is returned here once and stored hashed.

    `language`: the page's, when joined through the join form ("" for a protocol client). The
    outcome's player comes with its session, quiz and current question, to draw the play page from.
    """
    name = clean_name(raw_name)
    join = functools.partial(
        _player_join, code=code, name=name, name_key=name.casefold(), password=password,
        requested_id=requested_id, msg_id=msg_id, now=now, language=language,
    )  # fmt: skip
    try:
        return join(look_first=False)
    except IntegrityError:
        # The name or player id is taken (or a concurrent join committed it, or the msg_id, first):
        # a second look sees it and answers kicked, name_taken, a fresh id or the first reply.
        return join(look_first=True)


def _player_join(
    *, code: str, name: str, name_key: str, password: str | None, requested_id: str | None,
    msg_id: str | None, now: datetime, language: str, look_first: bool,
) -> Outcome:  # fmt: skip
    """One attempt; without `look_first` the unique constraints, not queries, find a taken name or id.

    Nearly every join has a free name, and each query is a round trip on the worker's one database
    thread, so the first attempt does not ask; the rare clash costs a second attempt that does.
    """
    with transaction.atomic():
        session = selectors.current_session(code)
        if session is None:
            raise EngineError("not_found", gettext_lazy("No game with that PIN."))
        if session.state == State.FINISHED:
            raise EngineError("wrong_state", gettext_lazy("That game is over."))
        actor = f"join:{session.pk}:{name_key}"
        prior = ProcessedMessage.objects.filter(actor=actor, msg_id=msg_id).first() if msg_id else None
        if prior is not None:
            return _rejoin_duplicate(session, prior, now)
        _check_can_join(session, name_key, password, look=look_first)
        player, token = _create_player(session, name, name_key, requested_id, now, language, look_first)
        _check_not_full(session)
        reply = protocol.session_joined(
            session_id=session.code, player_id=player.public_id, name=player.name, rejoin_token=token
        )
        if msg_id:
            ProcessedMessage.objects.create(
                session=session, actor=actor, msg_id=msg_id, reply={**reply, "rejoin_token": None}
            )
        return Outcome(
            reply=reply, events=[Refresh(session.pk, session.code, "lobby")], session=session, player=player
        )


def _check_can_join(session: GameSession, name_key: str, password: str | None, *, look: bool) -> None:
    """Refuse a join; with `look`, also a name that is taken or was kicked (else the INSERT does)."""
    if session.password_hash and not check_password(password or "", session.password_hash):
        raise EngineError("forbidden", gettext_lazy("Wrong game password."))
    # A locked session refuses anyway: looking first keeps "kicked" ahead of "locked", as it was.
    same_name = session.players.filter(name_key=name_key).first() if look or session.locked else None
    if same_name is not None and same_name.kicked:
        raise EngineError("kicked", gettext_lazy("That player was removed from this game."))
    if session.locked:
        raise EngineError("locked", gettext_lazy("The host has locked this game."))
    if same_name is not None:
        raise EngineError("name_taken", gettext_lazy("That nickname is taken in this game."))


def _check_not_full(session: GameSession) -> None:
    """Count, with the new player, under the session's row lock, so racing joins cannot overfill it.

    The lock is taken last and held only until the commit: joins wait for each other only here. SQLite
    has no row locks and needs none: its transactions begin IMMEDIATE (knewit/config.py), so one
    writer at a time is already in here.
    """
    if connection.features.has_select_for_update:
        GameSession.objects.select_for_update().filter(pk=session.pk).values_list("pk").get()
    max_players = session.settings.get("max_players", DEFAULT_MAX_PLAYERS)
    if session.players.filter(kicked=False).count() > max_players:
        raise EngineError("full", gettext_lazy("This game is full."))


def _create_player(
    session: GameSession, name: str, name_key: str, requested_id: str | None, now: datetime,
    language: str, look: bool,
):  # fmt: skip
    """The new player; a requested id that is taken is replaced (found by the INSERT, or with `look`)."""
    token = new_secret()
    public_id = requested_id if valid_player_id(requested_id) else new_player_id()
    if look and session.players.filter(public_id=public_id).exists():
        public_id = new_player_id()
    player = Player.objects.create(
        session=session, public_id=public_id, name=name, name_key=name_key,
        rejoin_token_hash=hash_secret(token), last_seen=now, language=language,
    )  # fmt: skip
    return player, token


def _rejoin_duplicate(session: GameSession, prior: ProcessedMessage, now: datetime) -> Outcome:
    """A repeated join: the first reply again, without the rejoin token, which only the first reply carried.

    Handing out a fresh token here would let anyone who guesses a name and a msg_id take that
    player over; a client that lost its reply must join again under another name.
    """
    if session.players.filter(public_id=prior.reply["player_id"], kicked=True).exists():
        raise EngineError("kicked", gettext_lazy("That player was removed from this game."))
    return Outcome(reply={**prior.reply, "rejoin_token": None, "duplicate": True})


def valid_player_id(value: str | None) -> bool:
    return bool(value) and len(value) <= 40 and set(value) <= PLAYER_ID_CHARS


def new_player_id() -> str:
    return "p" + secrets.token_hex(6)


# A resume marks the player present; one seen this recently (a page's socket opening a moment after
# its join form was posted) already is, far inside PRESENCE_TIMEOUT_S, so nothing is written.
SEEN_JUST_NOW = timedelta(seconds=5)


def player_resume(*, code: str, rejoin_token: str, now: datetime, snapshot: bool = True) -> Outcome:
    """Come back as the same player: identity, score and answers kept; returns a snapshot (a page
    draws its own regions instead: `snapshot=False` spares it the queries)."""
    player = selectors.player_for_token(code, rejoin_token)
    if player is None:
        raise EngineError("not_found", gettext_lazy("No player with that rejoin token in that game."))
    if player.kicked:
        raise EngineError("kicked", gettext_lazy("You were removed from this game."))
    session = player.session
    if player.last_seen is None or now - player.last_seen > SEEN_JUST_NOW:
        Player.objects.filter(pk=player.pk).update(last_seen=now)
    reply = selectors.snapshot(session, player=player, now=now) if snapshot else None
    return Outcome(
        reply=reply, events=[Refresh(session.pk, session.code, "host_lobby")], session=session, player=player
    )


def host_resume(*, code: str, host, now: datetime) -> Outcome:
    """The host takes its controls back after a reload or a dropped socket."""
    session = selectors.current_session(code)
    if session is None:
        raise EngineError("not_found", gettext_lazy("No game with that PIN."))
    if session.host_id != host.pk:
        raise EngineError("forbidden", gettext_lazy("Only this session's host may resume it as host."))
    return Outcome(reply=selectors.snapshot(session, player=None, now=now), session=session)


def players_seen(heartbeats: dict[int, tuple[datetime, int | None]], *, now: datetime) -> list[Refresh]:
    """Heartbeats, in bulk: presence comes from these, not from disconnect() (which may never run).

    Returns a host_lobby refresh for each session where a player who was shown away is back.
    """
    away_before = now - timedelta(seconds=settings.KNEWIT["PRESENCE_TIMEOUT_S"])
    back = (
        Player.objects.filter(pk__in=list(heartbeats), last_seen__lt=away_before)
        .values_list("session_id", "session__code")
        .distinct()
    )
    refreshes = [Refresh(session_pk, code, "host_lobby") for session_pk, code in back]
    Player.objects.bulk_update(
        [
            Player(
                pk=pk, last_seen=when, latency_ms=None if latency is None else max(0, min(latency, 600_000))
            )
            for pk, (when, latency) in heartbeats.items()
        ],
        ["last_seen", "latency_ms"],
        batch_size=500,
    )
    return refreshes


def player_left(*, player_pk: int, now: datetime) -> None:
    """The socket closed cleanly: show the player as away now rather than after the heartbeat timeout."""
    away = now - timedelta(seconds=settings.KNEWIT["PRESENCE_TIMEOUT_S"] + 1)
    Player.objects.filter(pk=player_pk).update(last_seen=away)
