"""Each person's language: chosen at the handshake, kept in the database, and a broadcast rendered once
per audience and language in use (not per socket); protocol `message`s follow the handshake too."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient
from django.utils import timezone

from knewit.asgi import application
from sessions_app import engine
from sessions_app.audiences import HOST, PLAYERS
from sessions_app.languages import from_scope, supported
from sessions_app.live import effects, fanout, hub
from sessions_app.models import GameSession, Player
from sessions_app.tests.wsclient import HOST_HEADER, ORIGIN
from sessions_app.web import pages

# The reveal's label, on the players' shared reveal region and on the host's stage.
CORRECT_ANSWER = {
    "en": "Correct answer",
    "es": "Respuesta correcta",
    "fr": "Bonne réponse",
    "de": "Richtige Antwort",
}


def scope(**headers: str) -> dict:
    return {"headers": [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]}


@pytest.mark.parametrize(
    ("headers", "language"),
    [
        ({}, "en"),
        ({"accept_language": "fr-FR,fr;q=0.9,en;q=0.8"}, "fr"),
        ({"accept_language": "ja,de;q=0.5"}, "de"),  # the first one we have
        ({"accept_language": "ja"}, "en"),
        ({"accept_language": "fr", "cookie": "csrftoken=x; django_language=de"}, "de"),  # the switch wins
        ({"accept_language": "es", "cookie": "django_language=xx"}, "es"),  # an unknown cookie is ignored
    ],
)
def test_the_language_of_a_handshake_is_the_cookie_else_accept_language(headers, language):
    assert from_scope(scope(**headers)) == language


def test_supported_maps_variants_and_unknown_codes():
    assert supported("de-AT") == "de" and supported("zz") == "en" and supported(None) == "en"


@pytest.mark.django_db
def test_page_opened_adds_each_language_once_and_keeps_the_players_own(host, make_quiz):
    session = engine.session_create(
        host=host, quiz_id=make_quiz(host).pk, raw_settings={}, site_url=""
    ).session
    ada = engine.player_join(
        code=session.code, raw_name="Ada", password=None, requested_id=None, msg_id=None, now=timezone.now()
    ).player
    pages.page_opened(session.pk, PLAYERS, "fr", ada.pk)
    pages.page_opened(session.pk, PLAYERS, "fr", ada.pk)
    pages.page_opened(session.pk, PLAYERS, "de")
    pages.page_opened(session.pk, HOST, "en")
    session.refresh_from_db()
    assert session.player_languages == ["fr", "de"] and session.players_on_pages
    assert session.host_languages == ["en"] and session.host_on_page
    assert Player.objects.get(pk=ada.pk).language == "fr"
    pages.page_opened(session.pk, PLAYERS, "de", ada.pk)  # she switched: her verdicts follow
    assert Player.objects.get(pk=ada.pk).language == "de"


def test_page_groups_carry_the_language_and_protocol_groups_do_not():
    assert (
        fanout.group_name("123456", PLAYERS, fmt=fanout.HTML, language="fr")
        == "session.123456.players.html.fr"
    )
    assert fanout.group_name("123456", HOST, fmt=fanout.HTML, language="de") == "session.123456.host.html.de"
    assert fanout.group_name("123456", PLAYERS, language="fr") == "session.123456.players"
    assert fanout.group_name("123456", "player", "p1", fmt=fanout.HTML, language="fr") == (
        "session.123456.player.p1.html"
    )


async def open_page(path: str, cookies: dict[str, str], accept_language: str | None = None):
    headers = [ORIGIN, HOST_HEADER, (b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode())]
    if accept_language:
        headers.append((b"accept-language", accept_language.encode()))
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect()
    assert connected
    first = await comm.receive_from(timeout=3)  # every region of the page
    return comm, first


async def drain(comm, quiet: float = 0.5) -> str:
    texts = []
    while not await comm.receive_nothing(timeout=quiet):
        texts.append(await comm.receive_from())
    return "".join(texts)


@pytest.mark.django_db(transaction=True)
async def test_one_render_per_language_in_use_and_each_page_gets_its_own(
    connect, host, make_quiz, monkeypatch
):
    # `connect` is only asked for its teardown: it stops this loop's background tasks.
    def setup():
        quiz = make_quiz(host)
        session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
        tokens = {}
        for name in ("Ada", "Bob", "Cy", "Dan"):
            joined = engine.player_join(
                code=session.code, raw_name=name, password=None, requested_id=None, msg_id=None,
                now=timezone.now(),
            )  # fmt: skip
            tokens[name] = (joined.player.public_id, joined.reply["rejoin_token"])
        return session, tokens

    session, tokens = await database_sync_to_async(setup)()
    code, rejoin = session.code, f"knewit_rejoin_{session.code}"
    phones = {
        "Ada": await open_page(f"/ws/page/play/{code}/", {rejoin: tokens["Ada"][1]}, "fr-FR,fr;q=0.9"),
        # The switcher's cookie wins over the browser's language.
        "Bob": await open_page(
            f"/ws/page/play/{code}/", {rejoin: tokens["Bob"][1], "django_language": "de"}, "fr"
        ),
        "Cy": await open_page(f"/ws/page/play/{code}/", {rejoin: tokens["Cy"][1]}),
        "Dan": await open_page(f"/ws/page/play/{code}/", {rejoin: tokens["Dan"][1]}, "fr-CA"),
    }
    http = AsyncClient()
    await database_sync_to_async(http.force_login)(host)
    projector = await open_page(
        f"/ws/page/host/{code}/", {"sessionid": http.cookies["sessionid"].value}, "es"
    )
    sockets = {**phones, "host": projector}
    try:
        await database_sync_to_async(session.refresh_from_db)()
        assert session.player_languages == ["fr", "de", "en"]  # in the database: any worker renders them
        assert session.host_languages == ["es"]
        by_name = await database_sync_to_async(
            lambda: dict(session.players.values_list("name", "language"))
        )()
        assert by_name == {"Ada": "fr", "Bob": "de", "Cy": "en", "Dan": "fr"}
        groups = set(hub.get().members)
        assert {f"session.{code}.players.html.{lang}" for lang in ("fr", "de", "en")} <= groups
        assert f"session.{code}.host.html.es" in groups and f"session.{code}.players.html" not in groups

        await database_sync_to_async(engine.quiz_start)(session_pk=session.pk, host=host, now=timezone.now())
        for comm, _ in sockets.values():
            await drain(comm)

        sent: list[tuple[str, dict]] = []
        real_send = fanout.group_send

        async def recording(group: str, message: dict) -> None:
            sent.append((group, message))
            await real_send(group, message)

        monkeypatch.setattr(fanout, "group_send", recording)
        ended = await database_sync_to_async(engine.question_end)(
            session_pk=session.pk, host=host, now=timezone.now()
        )
        await effects.dispatch(ended.events)
        revealed = list(sent)  # the reveal's own messages (the coalesced lobby refreshes come after)
        got = {name: await drain(comm) for name, (comm, _) in sockets.items()}
    finally:
        for comm, _ in sockets.values():
            await comm.disconnect()

    # The reveal: one message per language in use to the players' pages (not one per socket), one to
    # the host's Spanish page, and each player's verdict in a message to their language's pages only.
    html_groups = [group for group, _ in revealed if ".html" in group]
    shared = sorted(g for g, m in revealed if ".html" in g and "text" in m)
    assert shared == sorted(
        [f"session.{code}.host.html.es"]
        + [f"session.{code}.players.html.{lang}" for lang in ("de", "en", "fr")]
    ), html_groups
    # (the protocol players' verdicts are one message of their own, to session.<code>.players)
    personal = {g.rsplit(".", 1)[1]: set(m["items"]) for g, m in revealed if "items" in m and ".html" in g}
    assert personal == {
        "fr": {tokens["Ada"][0], tokens["Dan"][0]},
        "de": {tokens["Bob"][0]},
        "en": {tokens["Cy"][0]},
    }
    expected = {"Ada": "fr", "Bob": "de", "Cy": "en", "Dan": "fr", "host": "es"}
    for name, language in expected.items():
        assert CORRECT_ANSWER[language] in got[name], (name, got[name][:300])
        others = [text for lang, text in CORRECT_ANSWER.items() if lang != language]
        assert not any(text in got[name] for text in others), name
    assert "Capital of France?" in got["host"] and "Paris" in got["Ada"]  # quiz content as written


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], "`session.resume` needs a `rejoin_token`."),
        ([(b"accept-language", b"de-DE,de;q=0.9")], "`session.resume` braucht ein `rejoin_token`."),
        ([(b"cookie", b"django_language=fr")], "`session.resume` nécessite un `rejoin_token`."),
    ],
)
async def test_protocol_messages_follow_the_handshake_and_codes_never_change(connect, headers, expected):
    client = await connect(headers=[ORIGIN, HOST_HEADER, *headers])
    await client.send(type="session.resume", session_id="123456", msg_id="r1")
    error = await client.error("invalid")
    assert error["message"] == expected and error["ref"] == {"type": "session.resume", "msg_id": "r1"}
    await client.comm.send_to(bytes_data=b"\x00")
    assert (await client.error("bad_json"))["code"] == "bad_json"


def test_one_language_renders_every_player_without_reading_their_rows(
    host, make_quiz, django_assert_num_queries, db
):
    """Most classes use one language: personal pages need no read of the players' languages."""
    from sessions_app.web import render

    session = engine.session_create(
        host=host, quiz_id=make_quiz(host).pk, raw_settings={}, site_url=""
    ).session
    GameSession.objects.filter(pk=session.pk).update(players_on_pages=True, player_languages=["de"])
    frames = [("p1", {"type": "kicked"}), ("p2", {"type": "session.closed"})]
    with django_assert_num_queries(1):  # the session
        items = render.personal_pages(session.code, frames)
    assert set(items) == {"de"} and set(items["de"]) == {"p1", "p2"}


def test_an_engine_message_is_in_the_language_of_whoever_reads_it():
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    from sessions_app.engine import EngineError

    refused = EngineError("invalid", gettext_lazy("Names are 1 to %(max)s characters."), max=20)
    assert str(refused) == str(refused.message) == "Names are 1 to 20 characters."
    with translation.override("de"):
        assert str(refused.message) == "Namen haben 1 bis 20 Zeichen."
    with translation.override("fr"):
        assert str(refused.message) == "Les noms comportent de 1 à 20 caractères."


@pytest.mark.django_db(transaction=True)
async def test_answers_refused_together_are_each_in_their_senders_language(connect, host, make_quiz):
    """Answers are judged in batches on the worker's own task, in nobody's language: each refusal
    is put in its sender's language only when its socket sends it."""
    quiz = await database_sync_to_async(make_quiz)(host)
    session = (
        await database_sync_to_async(engine.session_create)(
            host=host, quiz_id=quiz.pk, raw_settings={}, site_url=""
        )
    ).session
    students = {}
    for name, language in (("Ada", "fr-FR"), ("Bob", "de"), ("Cy", "es")):
        client = await connect(headers=[ORIGIN, HOST_HEADER, (b"accept-language", language.encode())])
        await client.send(type="session.join", session_id=session.code, name=name)
        await client.expect("session.joined")
        students[name] = client
    await database_sync_to_async(engine.quiz_start)(session_pk=session.pk, host=host, now=timezone.now())
    await database_sync_to_async(engine.question_end)(session_pk=session.pk, host=host, now=timezone.now())
    for client in students.values():
        await client.send(type="answer.submit", answer_idx=0, msg_id="late")
    messages = {name: (await client.error("too_late"))["message"] for name, client in students.items()}
    assert messages == {
        "Ada": "Le temps est écoulé pour cette question.",
        "Bob": "Die Zeit für diese Frage ist um.",
        "Cy": "Se acabó el tiempo de esta pregunta.",
    }
